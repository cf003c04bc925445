/*
 * The filter module's table (private): installed filters in the form the
 * workers match against, the conflict rule between consumers, and the
 * per-packet dispatch (which consumer, which monitors, in which order).
 * Pure C over the public types: no lwIP, no DPDK (unit-tested alone,
 * tests/unit/api_filter_table_test.cc).
 *
 * A table is immutable once published: installs and removes build a new one
 * (inc__ftab_with / inc__ftab_without) and publish it with RCU (filter.c).
 */
#ifndef INC_FILTER_TABLE_H
#define INC_FILTER_TABLE_H

#include <stdint.h>

#include "inception/filter.h"

#ifdef __cplusplus
extern "C" {
#endif

/* an address/mask entry, normalised: v4 in the first 4 bytes of a[0], the
 * rest zero; a = addr & m */
struct inc__fnet {
  uint64_t a[2];
  uint64_t m[2];
  uint8_t family;
};

/* what is matched: the packet's addresses in the same layout */
struct inc__fkey {
  uint64_t src[2];
  uint64_t dst[2];
  uint16_t sport;
  uint16_t dport;
  uint8_t family;
};

/* one worker's counters of one filter: written by that worker only
 * (__atomic relaxed load + store), read by any thread (relaxed loads): plain
 * fields with __atomic builtins, so that C++ tests can include this header */
struct inc__fcnt {
  uint64_t matched;
  uint64_t consumed;
  uint64_t declined;
  uint64_t monitored;
  uint64_t hidden;
} __attribute__((aligned(64)));

struct inc_filter {
  struct inc_stack *stack;
  enum inc_filter_kind kind;
  enum inc_filter_mode mode;
  inc_filter_udp_fn udp;
  inc_filter_tcp_fn tcp;
  void *arg;
  unsigned workers;          /* entries of cnt */
  struct inc__fcnt *cnt;     /* [workers], 64-byte aligned */
  unsigned n_src, n_dst, n_sport, n_dport;
  struct inc__fnet *src, *dst;
  struct inc_filter_port *sport, *dport; /* port already masked */
  void *mem;                 /* the allocation of the lists */
};

/* The table: consumers of a kind first, then its monitors.
 * [0, udp_mon) UDP consumers, [udp_mon, tcp) UDP monitors,
 * [tcp, tcp_mon) TCP consumers, [tcp_mon, n) TCP monitors. */
struct inc__ftab {
  struct inc_stack *stack;
  unsigned n, udp_mon, tcp, tcp_mon;
  struct inc_filter *f[];
};

/* Checks cfg. Returns 0 or -EINVAL. */
int inc__filter_check(const struct inc_filter_config *cfg);
/* A filter for cfg (checked), with counters for `workers` workers.
 * Returns 0 (*out set) or -EINVAL, -ENOMEM. */
int inc__filter_new(const struct inc_filter_config *cfg, unsigned workers, struct inc_filter **out);
void inc__filter_free(struct inc_filter *f);
/* 1 if some packet would match both a and b (same kind), 0 otherwise. */
int inc__filter_overlap(const struct inc_filter *a, const struct inc_filter *b);
/* 1 if f's lists match k. */
int inc__filter_match(const struct inc_filter *f, const struct inc__fkey *k);

/* A new table: old (may be NULL) plus f. Returns 0 (*out set) or
 * -EADDRINUSE (f is a consumer overlapping one of old's), -ENOSPC, -ENOMEM. */
int inc__ftab_with(const struct inc__ftab *old, struct inc_stack *s, struct inc_filter *f, struct inc__ftab **out);
/* A new table: old without f (*out NULL when it would be empty).
 * Returns 0, -ENOENT (f not in old), -ENOMEM. */
int inc__ftab_without(const struct inc__ftab *old, const struct inc_filter *f, struct inc__ftab **out);
void inc__ftab_free(struct inc__ftab *t);
/* 1 if t holds filters of kind. */
static inline int inc__ftab_has(const struct inc__ftab *t, enum inc_filter_kind kind)
{
  return t != NULL && (kind == INC_FILTER_UDP ? t->tcp > 0 : t->n > t->tcp);
}

/* 1 if some filter of kind in t matches k (no callback runs, nothing is
 * counted). */
int inc__ftab_any(const struct inc__ftab *t, enum inc_filter_kind kind, const struct inc__fkey *k);

/*
 * Runs the filters of kind that match k on worker `worker`: finds the
 * consumer, runs the monitors (unless the consumer is exclusive), then the
 * consumer; counts. pkt is what callbacks see; conn goes to a TCP consumer.
 * Returns 1 if a consumer took the packet, 0 otherwise.
 */
int inc__ftab_dispatch(const struct inc__ftab *t, enum inc_filter_kind kind, unsigned worker,
                       const struct inc__fkey *k, const struct inc_filter_pkt *pkt, struct inc_raw_conn *conn);

/* 1 while the calling thread runs a filter callback. */
int inc__filter_in_callback(void);
/* 1 if pkt is what the consumer whose callback runs on this thread was
 * shown (it may take the packet's buffers). */
int inc__filter_is_consumer_pkt(const struct inc_filter_pkt *pkt);

/* filter_in.c: the worker's IP input policy (inc_lwip_instance.ip_input),
 * ctx the published table. Returns 1 if a consumer took p. */
struct pbuf;
struct netif;
int inc__filter_ip_input(void *ctx, struct pbuf *p, struct netif *inp);

/* The normalised form of an address (key layout). */
void inc__fkey_addr(const struct inc_addr *a, uint64_t out[2]);

#ifdef __cplusplus
}
#endif

#endif /* INC_FILTER_TABLE_H */
