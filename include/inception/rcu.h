/*
 * RCU for Inception's threads: liburcu's QSBR flavour (urcu-qsbr) behind a
 * small C API, so that callers (C or C++) need no liburcu header and the
 * flavour stays a lockfree/ decision.
 *
 * QSBR fits a polling loop: a registered thread is "online" and may read RCU
 * data structures (the flow table) at any time without a per-read lock; it
 * announces a quiescent state once per loop iteration, after which it holds
 * no reference to RCU-protected data. A thread that blocks (sleeps, waits for
 * a thread, a condition, I/O) must go offline first, or every grace period,
 * and with it flow-table reclamation and resizing, waits for it.
 *
 * Typical worker: inc_rcu_register(); loop { rx, lookups, ...;
 * inc_rcu_quiescent(); } inc_rcu_unregister().
 */
#ifndef INC_RCU_H
#define INC_RCU_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Registers the calling thread as an RCU reader; it starts online.
 * Thread: any thread that will use an RCU structure; once, before its first
 *   use. Returns: 0.
 */
int inc_rcu_register(void);

/** Unregisters the calling thread (it must not hold RCU references). Thread: a registered one. */
void inc_rcu_unregister(void);

/**
 * Announces a quiescent state: the calling thread holds no RCU reference now.
 * Thread: registered, online; once per poll loop. Cost: a few loads and
 * stores, plus a futex wake only when a grace period waits for this thread.
 */
void inc_rcu_quiescent(void);

/** Goes offline (before blocking) / back online. Thread: registered. */
void inc_rcu_offline(void);
void inc_rcu_online(void);

/**
 * Waits for a grace period: every reader online now passes a quiescent state.
 * Thread: any; a registered caller is taken offline for the wait.
 * Blocks: yes (control plane only).
 */
void inc_rcu_synchronize(void);

/**
 * Waits until every reclamation callback queued so far (flow-table entries
 * handed to call_rcu) has run.
 * Thread: any; a registered caller is taken offline for the wait.
 * Blocks: yes (control plane only).
 */
void inc_rcu_barrier(void);

#ifdef __cplusplus
}
#endif

#endif /* INC_RCU_H */
