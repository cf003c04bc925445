/*
 * The per-core stack runtime: one lwIP instance per worker core, each polling
 * its own RX/TX queue of every port, with connections steered to the core that
 * owns them.
 *
 * Each worker runs to completion (stack/worker.c):
 *   rx burst -> classify -> lwIP input, or hand the packet to its owner core
 *   -> drain inbound rings (packets, application commands) -> lwIP timers
 *   -> tx flush -> RCU quiescent state.
 * Steering (stack/steer.c):
 *   - passive opens: listens are replicated on every worker; the core that
 *     receives the SYN owns the connection and records it in the flow table;
 *   - active opens: the ephemeral port is chosen so that the reply's RSS hash
 *     lands on the opening core (upstream-patches/0002), and the flow is
 *     recorded;
 *   - a packet that reaches a core that does not own its connection (PMDs
 *     without RSS, the kernel's tap hash, fragments, ICMP errors) is looked up
 *     in the flow table and handed to the owner over a ck ring, zero-copy,
 *     before lwIP would answer it with a RST (upstream-patches/0004); a packet
 *     of a flow no core owns gets lwIP's normal answer;
 *   - an ARP/ND resolution made by one core serves all cores, and only one
 *     request goes out for a target at a time.
 * IPv6 runs alongside IPv4 on every port (struct inc_stack_port): a
 * link-local address, up to INC_STACK_IP6_ADDRS static /64 addresses and a
 * default router, all usable as soon as inc_stack_start() returns (no DAD).
 * Everything above holds for IPv6 as for IPv4: flow keys carry IPv6
 * addresses, ephemeral ports of active opens are chosen so that the reply's
 * RSS hash (IPv6 addresses and ports) lands on the opening core, segments on
 * the wrong core are steered from the no-connection hook, fragments are
 * reassembled where they land and then steered, ICMPv6 errors are steered
 * by the flow they quote, and neighbour advertisements are shared by all
 * cores with one solicitation per target at a time. Applications open IPv6
 * connections and UDP sockets with lwIP's IPv6 types (tcp_new_ip_type(
 * IPADDR_TYPE_V6), an ip_addr_t of type IPADDR_TYPE_V6) on a worker; a
 * link-local peer address needs its zone (ip6_addr_assign_zone()) when a
 * stack has more than one port.
 * UDP (IPv4 and IPv6): udp_connect() of an unbound pcb on a worker gets an
 * ephemeral port whose replies hash to that worker. Datagrams are not
 * steered: a UDP server binds its port on every worker (as listens are
 * replicated), and a reply to a port that does not hash home lands on the
 * worker the NIC picks.
 *
 * Memory: the caller provides it (inc_stack_footprint()), 64-byte aligned.
 * The stack's workers are DPDK lcores launched with rte_eal_remote_launch().
 */
#ifndef INC_STACK_H
#define INC_STACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define INC_STACK_MAX_WORKERS 32
#define INC_STACK_MAX_PORTS 4

struct inc_port;
struct inc_stack;
struct inc_worker;
struct inc_netif_counters; /* inception/netif_counters.h */

/** What a worker does when a loop iteration found no work. */
enum inc_stack_idle {
  /** Spin (lowest latency; the core is always busy). Default. */
  INC_STACK_IDLE_BUSY = 0,
  /** sched_yield() when idle: for more workers than cores (adds a system call
   * per idle iteration; latency grows with the run queue). */
  INC_STACK_IDLE_YIELD = 1,
  /** Sleep, doubling from 1 µs up to idle_sleep_max_us, while idle; the first
   * packet after a sleep waits up to idle_sleep_max_us (plus the kernel's
   * timer slack, ~50 µs) before it is seen. */
  INC_STACK_IDLE_SLEEP = 2,
};

/** Static IPv6 addresses a port may carry besides its link-local one (lwIP
 * keeps LWIP_IPV6_NUM_ADDRESSES = 3 per netif: slot 0 is the link-local one). */
#define INC_STACK_IP6_ADDRS 2

/** One static IPv6 address of a port. */
struct inc_stack_ip6 {
  /** Network byte order. All zero: the slot is unused. Global unicast or
   * unique-local (fc00::/7); not multicast, loopback, link-local (use
   * ip6_linklocal), unspecified or IPv4-mapped. */
  uint8_t addr[16];
  /** 0 or 64. lwIP 2.1.3 treats every static address as a /64 on link
   * (ip6_route(), nd6_is_prefix_in_netif()); other lengths are refused
   * rather than silently treated as /64. */
  uint8_t prefix_len;
};

/**
 * One port the stack serves: every worker owns queue <worker index>.
 *
 * IPv4 and IPv6 are independent: a port needs an IPv4 address, an IPv6
 * address (static or link-local), or both. Every worker's netif of the port
 * carries the same addresses.
 *
 * IPv6 addresses (static and link-local) are valid and preferred as soon as
 * the stack has started: no duplicate address detection is run (RFC 4862
 * 5.4 lets an administrator set DupAddrDetectTransmits to zero; the
 * addresses are configured, and N workers probing the same address at once
 * would only add N solicitations to the link). The stack joins each
 * address's solicited-node group (MLD) and answers neighbour solicitations
 * for it from any worker.
 */
struct inc_stack_port {
  struct inc_port *port; /**< initialised and started, n_queues == workers */
  uint32_t ip4_addr;     /**< network byte order; 0: no IPv4 */
  uint32_t ip4_netmask;  /**< network byte order */
  uint32_t ip4_gw;       /**< network byte order; 0: none */
  int ip6_linklocal;     /**< add an IPv6 link-local address made from the MAC (fe80::/64, EUI-64) */
  /** Static IPv6 addresses (all-zero entries unused, in any slot). */
  struct inc_stack_ip6 ip6[INC_STACK_IP6_ADDRS];
  /** IPv6 default router, network byte order; all zero: none (then only
   * on-link destinations, or routers learnt from Router Advertisements, are
   * reachable). A link-local router needs ip6_linklocal; a global one must be
   * on link (in the /64 of one of ip6[]). It stays in every worker's lwIP
   * default router list for as long as the stack runs (an RA from it may
   * change its lifetime; the worker puts it back within a second). */
  uint8_t ip6_gw[16];
};

/** Callbacks the application runs on each worker (the per-core raw level).
 * All run on the worker's thread with its lwIP instance; arg is cb_arg. */
struct inc_stack_callbacks {
  /** After the worker's lwIP instance and netifs are up, before its loop. */
  void (*worker_start)(struct inc_worker *w, void *arg);
  /** Once per loop iteration, after input and before the TX flush. Returns
   * non-zero if it did work (so that an idle policy does not sleep). */
  int (*worker_poll)(struct inc_worker *w, void *arg);
  /** When the worker stops, before its connections are aborted. */
  void (*worker_stop)(struct inc_worker *w, void *arg);
  void *arg;
};

struct inc_stack_config {
  unsigned workers;               /**< 1..INC_STACK_MAX_WORKERS */
  /** EAL lcore of each worker; NULL: the first `workers` worker lcores
   * (rte_get_next_lcore order, the main lcore excluded). */
  const unsigned *lcores;
  unsigned n_ports;               /**< 1..INC_STACK_MAX_PORTS */
  struct inc_stack_port ports[INC_STACK_MAX_PORTS];
  unsigned app_endpoints;         /**< application threads that may attach (0..256) */
  unsigned flows_per_core;        /**< connections each core can own; 0: 4096 */
  unsigned ring_size;             /**< worker->worker ring slots, power of two; 0: 1024 */
  enum inc_stack_idle idle;       /**< default INC_STACK_IDLE_BUSY */
  unsigned idle_sleep_max_us;     /**< INC_STACK_IDLE_SLEEP: longest sleep; 0: 100 */
  struct inc_stack_callbacks cb;
};

/** Drop reasons (inc_stack_counters.drops[]). */
enum inc_stack_drop {
  INC_DROP_MALFORMED = 0, /**< classifier: frame malformed (see malformed[]) */
  INC_DROP_RING_FULL,     /**< the owner core's ring was full */
  INC_DROP_UNRESTORABLE,  /**< a packet to steer whose headers lwIP had split */
  INC_DROP_INPUT,         /**< the netif refused a packet (no mbuf, too long) */
  INC_DROP_COUNT
};

/** Counters of one worker. Written by the worker only; read at run time by
 * inc_stack_counters_get() (each field is read atomically, the set is not a
 * snapshot of one instant). */
struct inc_stack_counters {
  uint64_t loops;           /**< loop iterations */
  uint64_t pkts_in;         /**< frames received from this worker's queues */
  uint64_t pkts_out;        /**< frames this worker's netifs handed to the queues */
  uint64_t steered_out;     /**< packets handed to another core */
  uint64_t steered_in;      /**< packets received from another core */
  uint64_t steered_icmp;    /**< of steered_out: ICMP errors quoting a flow */
  uint64_t unowned;         /**< packets of flows no core owns: lwIP answered them (RST, ICMP) */
  uint64_t flows_owned;     /**< connections this core owns now */
  uint64_t flows_opened;    /**< connections this core has owned in all */
  uint64_t ring_full;       /**< sends to another core that found its ring full */
  uint64_t arp_shared_out;  /**< ARP replies / ND adverts copied to the other cores */
  uint64_t arp_shared_in;   /**< such copies received */
  uint64_t arp_suppressed;  /**< ARP/ND requests not sent: another core had just asked */
  uint64_t commands;        /**< application commands executed */
  uint64_t drops[INC_DROP_COUNT];
  uint64_t malformed[16];   /**< by classifier reason (enum inc_pkt_bad) */
};

/**
 * Bytes of caller memory a stack with this configuration needs.
 * Thread: any. Returns: the size, or 0 if cfg is invalid.
 */
size_t inc_stack_footprint(const struct inc_stack_config *cfg);

/**
 * Builds the stack in mem and starts its workers on their lcores; returns
 * when every worker has its lwIP instance and netifs up and has run
 * worker_start.
 * Thread: control plane (the EAL main lcore), after inc_eal_init() and
 *   inc_port_start() of every port.
 * Ownership: mem and the ports stay the caller's and must outlive the stack
 *   (until inc_stack_stop() returns).
 * RCU: the calling thread need not be registered.
 * Returns: 0; -EINVAL (a bad value in cfg: the message on stderr names it),
 *   -ENOSPC (len too small), -EBUSY (an lcore is not free), -ENOMEM, or the
 *   negative errno with which a worker failed to start (the others are then
 *   stopped).
 */
int inc_stack_start(struct inc_stack **out, void *mem, size_t len, const struct inc_stack_config *cfg);

/**
 * Stops every worker: each runs worker_stop, aborts its connections, removes
 * its netifs and leaves; then the stack's tables are torn down. Returns when
 * all workers have left. Every mbuf the stack took is back in its pool when
 * this returns (check with rte_mempool_avail_count()).
 * Thread: the thread that started the stack. Returns: 0.
 */
int inc_stack_stop(struct inc_stack *s);

/** Workers of a stack. Thread: any. */
unsigned inc_stack_workers(const struct inc_stack *s);

/**
 * Reads worker w's counters while the stack runs.
 * Thread: any. Returns: 0, or -EINVAL (w out of range).
 */
int inc_stack_counters_get(const struct inc_stack *s, unsigned w, struct inc_stack_counters *out);

/** Sums every worker's counters. Thread: any. */
void inc_stack_counters_total(const struct inc_stack *s, struct inc_stack_counters *out);

/** The worker's index (0..workers-1) and its stack. Thread: any. */
unsigned inc_worker_index(const struct inc_worker *w);
struct inc_stack *inc_worker_stack(const struct inc_worker *w);

/**
 * The calling thread's worker, or NULL on a thread that is not one.
 * Thread: any.
 */
struct inc_worker *inc_worker_self(void);

/**
 * Copies the link-level counters of worker w's netif on stack port `port`
 * (0..n_ports-1): frames and bytes in and out, frames lost at the link
 * (tx_dropped, rx_nomem, ...), copies and references (inception/
 * netif_counters.h). For applications and tools that must not see lwIP's
 * headers (inception/netif.h includes them).
 * Thread: worker w (the counters are plain stores of the worker; e.g. in
 *   worker_poll or worker_stop).
 * Ownership: out is the caller's. RCU: none.
 * Returns: 0; -EINVAL (NULL w or out, port out of range); -EPERM (not on
 *   worker w's thread).
 */
int inc_worker_netif_counters(const struct inc_worker *w, unsigned port, struct inc_netif_counters *out);

#ifdef __cplusplus
}
#endif

#endif /* INC_STACK_H */
