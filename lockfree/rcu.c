/*
 * QSBR flavour of liburcu behind include/inception/rcu.h, and the owner-check
 * failure of checked builds.
 *
 * _LGPL_SOURCE is left undefined on purpose: every urcu call is a call into
 * liburcu-qsbr (a few nanoseconds, once per poll loop), so that none of its
 * inline fast paths is compiled, and instrumented, into our objects; TSan then
 * sees liburcu as the opaque library it is, and our annotations (lf_priv.h)
 * state the ordering it provides.
 */
#include <urcu-qsbr.h>
#include <urcu/call-rcu.h>

#include "inception/rcu.h"
#include "lf_priv.h"

/* Only its address is used (a TSan synchronisation key); never written. */
static const char inc__rcu_gp_token;

const void *inc__rcu_gp_key(void) { return &inc__rcu_gp_token; }

int inc_rcu_register(void) {
  rcu_register_thread();
  return 0;
}

void inc_rcu_unregister(void) {
  /* The thread's reads are over: release towards reclaimers (lf_priv.h). */
  INC_TSAN_RELEASE(inc__rcu_gp_key());
  rcu_unregister_thread();
}

void inc_rcu_quiescent(void) {
  /* Pairs with the acquire after a grace period in flow.c's reclamation and
   * inc_rcu_synchronize(): our reads so far happen before any reuse. */
  INC_TSAN_RELEASE(inc__rcu_gp_key());
  rcu_quiescent_state();
}

void inc_rcu_offline(void) {
  /* As in inc_rcu_quiescent: an offline thread holds no reference. */
  INC_TSAN_RELEASE(inc__rcu_gp_key());
  rcu_thread_offline();
}

void inc_rcu_online(void) { rcu_thread_online(); }

void inc_rcu_synchronize(void) {
  /* urcu-qsbr takes an online caller offline for the wait itself. */
  INC_TSAN_RELEASE(inc__rcu_gp_key());
  synchronize_rcu();
  /* Pairs with the readers' releases above: the grace period is over. */
  INC_TSAN_ACQUIRE(inc__rcu_gp_key());
}

void inc_rcu_barrier(void) {
  /* urcu-qsbr's rcu_barrier takes an online caller offline for the wait. */
  INC_TSAN_RELEASE(inc__rcu_gp_key());
  rcu_barrier();
  /* Pairs with the release at the end of each reclamation callback (flow.c). */
  INC_TSAN_ACQUIRE(inc__rcu_gp_key());
}

#ifdef INC_LOCKFREE_CHECK_OWNER
void inc__owner_fail(const char *what, const char *file, int line) {
  fprintf(stderr, "%s:%d: %s called by a thread that is not the owner\n", file, line, what);
  abort();
}
#endif
