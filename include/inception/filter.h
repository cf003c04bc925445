/*
 * Packet filter callbacks (seed 001): a callback installed with lists of
 * address/mask and port/mask filters runs on the worker cores for every UDP
 * datagram, or every accepted TCP connection, that the lists match.
 *
 * A filter either *consumes* (takes the datagram or the connection away from
 * lwIP and the listener) or *monitors* (sees it read-only; it goes on as
 * usual). At most one consumer can match a packet: an install whose match
 * set overlaps an installed consumer's of the same kind is refused with
 * -EADDRINUSE (the address/port space is taken, as bind(2) says of a port).
 * An *exclusive* consumer hides the packets it matches from every monitor
 * (also those it then declines: monitors run before the consumer decides).
 *
 * Matching. A packet matches a filter when each of the four lists matches
 * (an empty list matches everything):
 *   src   the sender's address: some entry has (src & mask) == (addr & mask),
 *         same family;
 *   dst   the destination address in the packet, likewise (UDP filters
 *         run before lwIP decides whether the datagram is for the stack:
 *         they also see broadcast, multicast and stray datagrams);
 *   sport, dport: some entry has (port & mask) == (entry.port & mask).
 * For TCP accepts, src/sport are the connecting peer's and dst/dport the
 * local end's. IPv6 zones (scope ids) are not compared.
 *
 * Order on a worker, per packet: the consumer that matches (if any) is
 * found; unless it is exclusive, every matching monitor runs (read-only
 * view); then the consumer runs and takes the packet, or declines it
 * (returns 0: the packet goes on to lwIP or the listener as if it had no
 * consumer).
 *
 * UDP: datagrams are matched on the worker that receives them, before lwIP's
 * IP input (lwIP's LWIP_HOOK_IP4_INPUT / LWIP_HOOK_IP6_INPUT), after the
 * IP and UDP headers and the UDP checksum have been checked (a datagram that
 * fails a check is left to lwIP, which drops it). Not filtered (they go to
 * lwIP unseen by any filter): IPv4 fragments (the hook runs before
 * reassembly, and non-first fragments carry no ports; lwIP reassembles them
 * and delivers the datagram to its UDP pcbs as usual), IPv6 datagrams whose
 * UDP header follows extension headers (fragments among them), datagrams whose
 * IP and UDP headers do not sit in the first buffer of the packet.
 * Buffer handoff: a callback reads the payload in place (zero-copy) during the
 * call; the payload may span several buffers (pkt->len of pkt->tot_len in the
 * first, inc_filter_pkt_copy() for the rest). A consumer keeps it either by
 * copying it during the call, or by taking the buffers themselves with
 * inc_filter_pkt_take() (zero-copy; struct inc_buf of inception/raw.h, freed
 * with inc_buf_free() on that worker). Otherwise the data is gone when the
 * callback returns (consumed: freed by the filter; monitored: handed on to
 * lwIP).
 *
 * TCP accepts: the filters run in the accept path of the stack's listeners
 * (raw API and sockets API), after the handshake, before the listener's owner
 * sees the connection: only connections to a port some listener listens on
 * are seen. A consumer receives the connection (struct inc_raw_conn, the raw
 * API's handle = lwIP's tcp_pcb): from then on it owns it and sets its
 * callbacks with the raw API (inc_raw_tcp_set()), on that worker, during the
 * call. It may close the connection during the call. It may abort it
 * (inc_raw_tcp_abort()) only on the raw API's listeners, whose accept path
 * detects it; a listener of the sequential or sockets API does not (an abort
 * would free the connection while that accept path still holds it): there,
 * close it or decline it.
 *
 * Lifetime: filters belong to one run of a stack. Remove every filter before
 * inc_stack_stop() (a stack started again starts with no filter).
 *
 * Filters are stack-wide: installed once, they run on every worker. The
 * installed set is an immutable table published with RCU (QSBR); workers
 * read it without locks. Installing and removing (any thread) are serialised
 * by one lock of the filter module and copy the table (control-plane rate).
 * Nothing on the packet path allocates.
 */
#ifndef INC_FILTER_H
#define INC_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "inception/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

struct inc_stack;
struct inc_filter;
/** A received buffer chain (include/inception/raw.h; lwIP's pbuf). */
struct inc_buf;
/** The raw API's connection handle (include/inception/raw.h). */
struct inc_raw_conn;

/** Longest src or dst list of one filter. */
#define INC_FILTER_MAX_NETS 64
/** Longest sport or dport list of one filter. */
#define INC_FILTER_MAX_PORTS 64
/** Filters installed on one stack at a time. */
#define INC_FILTER_MAX 256

/** What a filter sees. */
enum inc_filter_kind {
  INC_FILTER_UDP = 1,        /**< UDP datagrams */
  INC_FILTER_TCP_ACCEPT = 2, /**< TCP connections accepted by a listener */
};

/** What a filter does with what it matches. */
enum inc_filter_mode {
  INC_FILTER_MONITOR = 0,            /**< sees a read-only view; the packet goes on */
  INC_FILTER_CONSUME = 1,            /**< takes the packet (monitors see it first) */
  INC_FILTER_CONSUME_EXCLUSIVE = 2,  /**< takes the packet; no monitor sees it */
};

/** An address/mask entry. mask has addr's family; its set bits are the
 * compared ones (any pattern, not only prefixes: inc_filter_prefix() makes a
 * prefix mask). Bits of addr outside the mask are ignored. */
struct inc_filter_net {
  struct inc_addr addr;
  struct inc_addr mask;
};

/** A port/mask entry (host byte order): mask 0xffff is one port, 0 any. */
struct inc_filter_port {
  uint16_t port;
  uint16_t mask;
};

/** What a callback is shown: one datagram, or one accepted connection.
 * Valid during the call only. */
struct inc_filter_pkt {
  unsigned worker;      /**< index of the worker running the callback */
  struct inc_addr src;  /**< sender (TCP: the peer) */
  struct inc_addr dst;  /**< receiver (TCP: the local address) */
  uint16_t sport;       /**< host byte order */
  uint16_t dport;       /**< host byte order */
  /** UDP: the payload's first contiguous piece (zero-copy, read-only) and
   * its length; the payload is tot_len bytes in all. TCP: NULL, 0, 0. */
  const void *data;
  uint32_t len;
  uint32_t tot_len;
  const void *priv;     /**< the filter module's (the buffer chain) */
};

/**
 * A UDP filter's callback. Runs on the worker that received the datagram.
 * Consumer: return 1 to take the datagram (the filter frees its buffers when
 * the callback returns), 0 to decline it (it goes on to lwIP). Monitor: the
 * return value is ignored.
 * The callback must not block, and must not install or remove filters.
 */
typedef int (*inc_filter_udp_fn)(void *arg, const struct inc_filter_pkt *pkt);

/**
 * A TCP-accept filter's callback. Runs on the worker that owns the new
 * connection, inside its lwIP instance. conn is the connection for a
 * consumer, NULL for a monitor.
 * Consumer: return 1 to take conn (the callback owns it from now on: it sets
 * its callbacks, or closes it, with the raw API, before returning; aborting
 * it during the call: see the top of this file), 0 to decline it (the
 * listener gets it).
 * Monitor: the return value is ignored.
 * The callback must not block, and must not install or remove filters.
 */
typedef int (*inc_filter_tcp_fn)(void *arg, const struct inc_filter_pkt *pkt, struct inc_raw_conn *conn);

struct inc_filter_config {
  enum inc_filter_kind kind;
  enum inc_filter_mode mode;
  /* the lists (copied at install; an empty list, n == 0, matches all) */
  const struct inc_filter_net *src;
  unsigned n_src;
  const struct inc_filter_net *dst;
  unsigned n_dst;
  const struct inc_filter_port *sport;
  unsigned n_sport;
  const struct inc_filter_port *dport;
  unsigned n_dport;
  inc_filter_udp_fn udp;  /**< kind INC_FILTER_UDP: required, else NULL */
  inc_filter_tcp_fn tcp;  /**< kind INC_FILTER_TCP_ACCEPT: required, else NULL */
  void *arg;              /**< passed to the callback */
};

/** A filter's counters, summed over the workers. Each worker's part is
 * read atomically; the sum is not a snapshot of one instant. */
struct inc_filter_counters {
  uint64_t matched;   /**< packets (connections) the lists matched */
  uint64_t consumed;  /**< consumer: taken (the callback returned 1) */
  uint64_t declined;  /**< consumer: the callback returned 0 */
  uint64_t monitored; /**< monitor: callbacks run */
  uint64_t hidden;    /**< monitor: matched, not shown (an exclusive consumer took it) */
};

/** The mask of the first `bits` bits of family's addresses (bits is clamped
 * to 32 or 128). Thread: any (pure). */
static inline struct inc_addr inc_filter_prefix(enum inc_addr_family family, unsigned bits)
{
  struct inc_addr m;
  unsigned i, n = family == INC_AF_INET6 ? 16u : 4u;
  uint8_t *b = family == INC_AF_INET6 ? m.u.v6 : (uint8_t *)&m.u.v4;
  for (i = 0; i < sizeof(m); i++) {
    ((unsigned char *)&m)[i] = 0;
  }
  m.family = (uint8_t)family;
  for (i = 0; i < n; i++) {
    b[i] = bits >= 8 * (i + 1) ? 0xffu : bits <= 8 * i ? 0u : (uint8_t)(0xffu << (8 - (bits - 8 * i)));
  }
  return m;
}

/**
 * Installs a filter on every worker of s: from when this returns, every
 * packet a worker starts to process is matched against it.
 * Thread: any thread, not from inside a filter callback. s must be running
 *   (between inc_stack_start() and inc_stack_stop()).
 * Ownership: cfg and its lists are copied; *out is the caller's handle until
 *   inc_filter_remove(). arg stays the caller's and must stay valid until
 *   inc_filter_remove() returns.
 * RCU: the calling thread need not be registered. Blocks for an RCU grace
 *   period when it replaces a table (to free the previous one).
 * Returns: 0; -EINVAL (a bad value in cfg: kind, mode, callback missing or of
 *   the other kind, a list longer than INC_FILTER_MAX_*, NULL list with a
 *   non-zero length, an entry whose family is unset or whose mask is of
 *   another family; s or out NULL; s not running), -EADDRINUSE (a consumer whose match set
 *   overlaps an installed consumer's of the same kind: a packet could have
 *   two consumers), -ENOSPC (INC_FILTER_MAX filters installed), -ENOMEM,
 *   -EDEADLK (called from a filter callback).
 */
int inc_filter_install(struct inc_stack *s, const struct inc_filter_config *cfg, struct inc_filter **out);

/**
 * Removes a filter: returns when no worker runs, or can still start, its
 * callback (an RCU grace period after the filter left the table).
 * Thread: any thread, not from inside a filter callback (the worker would
 *   wait for itself). On a worker thread, the worker stops for the grace
 *   period.
 * Ownership: f is freed; last (may be NULL) receives its final counters.
 * RCU: the calling thread need not be registered; blocks for a grace period.
 * Returns: 0; -EINVAL (f NULL), -EDEADLK (called from a filter callback:
 *   nothing done).
 */
int inc_filter_remove(struct inc_filter *f, struct inc_filter_counters *last);

/**
 * Reads a filter's counters while it is installed.
 * Thread: any. RCU: none. Returns: 0, -EINVAL (f or out NULL).
 */
int inc_filter_counters_get(const struct inc_filter *f, struct inc_filter_counters *out);

/**
 * Copies up to len bytes of a UDP datagram's payload from offset off (the
 * payload may span several buffers).
 * Thread: the callback's, during the call. Ownership: dst is the caller's.
 * RCU: none. Returns: the bytes copied (0 past the end); -EINVAL (pkt or dst
 *   NULL, or pkt is a TCP accept's).
 */
long inc_filter_pkt_copy(const struct inc_filter_pkt *pkt, uint32_t off, void *dst, uint32_t len);

/**
 * Takes a UDP datagram's buffers (zero-copy): the consumer owns the chain
 * from now on. Its first piece starts at the UDP payload and the chain holds
 * exactly the payload (inc_buf_total() == pkt->tot_len); pkt->data stays
 * valid until the chain is freed.
 * Thread: a UDP consumer's callback, during the call (the callback then
 *   returns 1: the datagram is consumed whatever it returns).
 * Ownership: the caller frees the chain with inc_buf_free() (raw.h) on this
 *   worker's thread, during the call or later.
 * RCU: none. Returns: the chain, or NULL (pkt NULL, not shown to a UDP
 *   consumer (monitors never own the datagram), or already taken).
 */
struct inc_buf *inc_filter_pkt_take(const struct inc_filter_pkt *pkt);

#ifdef __cplusplus
}
#endif

#endif /* INC_FILTER_H */
