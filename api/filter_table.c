/*
 * The filter table: checking and normalising filters, the consumer conflict
 * rule, building tables, and the per-packet dispatch (filter_table.h).
 */
#include "filter_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Depth of filter callbacks running on this thread (install/remove from
 * inside one would wait for their own grace period: refused). The one
 * thread-local of this module. */
static __thread unsigned in_callback;
/* The packet shown to the consumer whose callback runs on this thread (NULL
 * outside consumer callbacks): only it may be taken (inc_filter_pkt_take). */
static __thread const struct inc_filter_pkt *consumer_pkt;

int inc__filter_in_callback(void)
{
  return in_callback != 0;
}

int inc__filter_is_consumer_pkt(const struct inc_filter_pkt *pkt)
{
  return pkt != NULL && pkt == consumer_pkt;
}

void inc__fkey_addr(const struct inc_addr *a, uint64_t out[2])
{
  out[0] = 0;
  out[1] = 0;
  if (a->family == INC_AF_INET) {
    memcpy(out, &a->u.v4, 4);
  } else if (a->family == INC_AF_INET6) {
    memcpy(out, a->u.v6, 16);
  }
}

static int check_nets(const struct inc_filter_net *n, unsigned count)
{
  unsigned i;
  if (count > INC_FILTER_MAX_NETS || (count > 0 && n == NULL)) {
    return -EINVAL;
  }
  for (i = 0; i < count; i++) {
    if ((n[i].addr.family != INC_AF_INET && n[i].addr.family != INC_AF_INET6) ||
        n[i].mask.family != n[i].addr.family) {
      return -EINVAL;
    }
  }
  return 0;
}

static int check_ports(const struct inc_filter_port *p, unsigned count)
{
  return count > INC_FILTER_MAX_PORTS || (count > 0 && p == NULL) ? -EINVAL : 0;
}

int inc__filter_check(const struct inc_filter_config *cfg)
{
  if (cfg == NULL) {
    return -EINVAL;
  }
  if (cfg->mode != INC_FILTER_MONITOR && cfg->mode != INC_FILTER_CONSUME &&
      cfg->mode != INC_FILTER_CONSUME_EXCLUSIVE) {
    return -EINVAL;
  }
  if (cfg->kind == INC_FILTER_UDP) {
    if (cfg->udp == NULL || cfg->tcp != NULL) {
      return -EINVAL;
    }
  } else if (cfg->kind == INC_FILTER_TCP_ACCEPT) {
    if (cfg->tcp == NULL || cfg->udp != NULL) {
      return -EINVAL;
    }
  } else {
    return -EINVAL;
  }
  if (check_nets(cfg->src, cfg->n_src) < 0 || check_nets(cfg->dst, cfg->n_dst) < 0 ||
      check_ports(cfg->sport, cfg->n_sport) < 0 || check_ports(cfg->dport, cfg->n_dport) < 0) {
    return -EINVAL;
  }
  return 0;
}

static void norm_nets(struct inc__fnet *out, const struct inc_filter_net *in, unsigned n)
{
  unsigned i;
  for (i = 0; i < n; i++) {
    inc__fkey_addr(&in[i].addr, out[i].a);
    inc__fkey_addr(&in[i].mask, out[i].m);
    out[i].a[0] &= out[i].m[0];
    out[i].a[1] &= out[i].m[1];
    out[i].family = in[i].addr.family;
  }
}

static void norm_ports(struct inc_filter_port *out, const struct inc_filter_port *in, unsigned n)
{
  unsigned i;
  for (i = 0; i < n; i++) {
    out[i].mask = in[i].mask;
    out[i].port = (uint16_t)(in[i].port & in[i].mask);
  }
}

int inc__filter_new(const struct inc_filter_config *cfg, unsigned workers, struct inc_filter **out)
{
  struct inc_filter *f;
  size_t nets, ports;
  char *mem;
  int rc = inc__filter_check(cfg);

  if (rc < 0 || workers == 0 || out == NULL) {
    return -EINVAL;
  }
  f = (struct inc_filter *)calloc(1, sizeof(*f));
  if (f == NULL) {
    return -ENOMEM;
  }
  nets = (size_t)(cfg->n_src + cfg->n_dst) * sizeof(struct inc__fnet);
  ports = (size_t)(cfg->n_sport + cfg->n_dport) * sizeof(struct inc_filter_port);
  mem = (char *)calloc(1, nets + ports + 1);
  f->cnt = (struct inc__fcnt *)aligned_alloc(64, (size_t)workers * sizeof(struct inc__fcnt));
  if (mem == NULL || f->cnt == NULL) {
    free(mem);
    free(f->cnt);
    free(f);
    return -ENOMEM;
  }
  memset(f->cnt, 0, (size_t)workers * sizeof(struct inc__fcnt));
  f->mem = mem;
  f->kind = cfg->kind;
  f->mode = cfg->mode;
  f->udp = cfg->udp;
  f->tcp = cfg->tcp;
  f->arg = cfg->arg;
  f->workers = workers;
  f->n_src = cfg->n_src;
  f->n_dst = cfg->n_dst;
  f->n_sport = cfg->n_sport;
  f->n_dport = cfg->n_dport;
  f->src = (struct inc__fnet *)mem;
  f->dst = f->src + cfg->n_src;
  f->sport = (struct inc_filter_port *)(mem + nets);
  f->dport = f->sport + cfg->n_sport;
  norm_nets(f->src, cfg->src, cfg->n_src);
  norm_nets(f->dst, cfg->dst, cfg->n_dst);
  norm_ports(f->sport, cfg->sport, cfg->n_sport);
  norm_ports(f->dport, cfg->dport, cfg->n_dport);
  *out = f;
  return 0;
}

void inc__filter_free(struct inc_filter *f)
{
  if (f != NULL) {
    free(f->mem);
    free(f->cnt);
    free(f);
  }
}

/* ---- matching ----------------------------------------------------------- */

static int net_has(const struct inc__fnet *n, uint8_t family, const uint64_t a[2])
{
  return n->family == family && (a[0] & n->m[0]) == n->a[0] && (a[1] & n->m[1]) == n->a[1];
}

static int nets_match(const struct inc__fnet *n, unsigned count, uint8_t family, const uint64_t a[2])
{
  unsigned i;
  if (count == 0) {
    return 1;
  }
  for (i = 0; i < count; i++) {
    if (net_has(&n[i], family, a)) {
      return 1;
    }
  }
  return 0;
}

static int ports_match(const struct inc_filter_port *p, unsigned count, uint16_t port)
{
  unsigned i;
  if (count == 0) {
    return 1;
  }
  for (i = 0; i < count; i++) {
    if ((port & p[i].mask) == p[i].port) {
      return 1;
    }
  }
  return 0;
}

int inc__filter_match(const struct inc_filter *f, const struct inc__fkey *k)
{
  return ports_match(f->dport, f->n_dport, k->dport) && ports_match(f->sport, f->n_sport, k->sport) &&
         nets_match(f->dst, f->n_dst, k->family, k->dst) && nets_match(f->src, f->n_src, k->family, k->src);
}

/* ---- the conflict rule -------------------------------------------------- */

/* Two masked values meet (some value matches both) iff they agree on every
 * bit both masks compare. */
static int nets_meet(const struct inc__fnet *x, unsigned nx, const struct inc__fnet *y, unsigned ny,
                     uint8_t family)
{
  unsigned i, j;
  int any_x = nx == 0, any_y = ny == 0;

  /* an empty list is every address of either family */
  if (any_x && any_y) {
    return 1;
  }
  if (any_x || any_y) {
    const struct inc__fnet *l = any_x ? y : x;
    unsigned n = any_x ? ny : nx;
    for (i = 0; i < n; i++) {
      if (l[i].family == family) {
        return 1;
      }
    }
    return 0;
  }
  for (i = 0; i < nx; i++) {
    if (x[i].family != family) {
      continue;
    }
    for (j = 0; j < ny; j++) {
      if (y[j].family == family && ((x[i].a[0] ^ y[j].a[0]) & x[i].m[0] & y[j].m[0]) == 0 &&
          ((x[i].a[1] ^ y[j].a[1]) & x[i].m[1] & y[j].m[1]) == 0) {
        return 1;
      }
    }
  }
  return 0;
}

static int ports_meet(const struct inc_filter_port *x, unsigned nx, const struct inc_filter_port *y, unsigned ny)
{
  unsigned i, j;
  if (nx == 0 || ny == 0) {
    return 1;
  }
  for (i = 0; i < nx; i++) {
    for (j = 0; j < ny; j++) {
      if (((x[i].port ^ y[j].port) & x[i].mask & y[j].mask) == 0) {
        return 1;
      }
    }
  }
  return 0;
}

int inc__filter_overlap(const struct inc_filter *a, const struct inc_filter *b)
{
  static const uint8_t families[2] = {INC_AF_INET, INC_AF_INET6};
  unsigned i;

  if (a->kind != b->kind || !ports_meet(a->sport, a->n_sport, b->sport, b->n_sport) ||
      !ports_meet(a->dport, a->n_dport, b->dport, b->n_dport)) {
    return 0;
  }
  /* a packet's source and destination are of one family: the address
   * lists must meet within the same family */
  for (i = 0; i < 2; i++) {
    if (nets_meet(a->src, a->n_src, b->src, b->n_src, families[i]) &&
        nets_meet(a->dst, a->n_dst, b->dst, b->n_dst, families[i])) {
      return 1;
    }
  }
  return 0;
}

/* ---- tables ------------------------------------------------------------- */

static int is_consumer(const struct inc_filter *f)
{
  return f->mode != INC_FILTER_MONITOR;
}

/* the table's position class of f: 0 UDP consumer, 1 UDP monitor, 2 TCP
 * consumer, 3 TCP monitor */
static unsigned class_of(const struct inc_filter *f)
{
  return (f->kind == INC_FILTER_TCP_ACCEPT ? 2u : 0u) + (is_consumer(f) ? 0u : 1u);
}

static struct inc__ftab *build(struct inc_stack *s, struct inc_filter *const *in, unsigned n,
                               const struct inc_filter *skip, struct inc_filter *add)
{
  struct inc__ftab *t;
  unsigned c, i, k = 0, start[4];

  t = (struct inc__ftab *)calloc(1, sizeof(*t) + (size_t)(n + 1) * sizeof(t->f[0]));
  if (t == NULL) {
    return NULL;
  }
  t->stack = s;
  for (c = 0; c < 4; c++) {
    start[c] = k;
    for (i = 0; i < n; i++) {
      if (in[i] != skip && class_of(in[i]) == c) {
        t->f[k++] = in[i];
      }
    }
    if (add != NULL && class_of(add) == c) {
      t->f[k++] = add;
    }
  }
  t->n = k;
  t->udp_mon = start[1];
  t->tcp = start[2];
  t->tcp_mon = start[3];
  return t;
}

int inc__ftab_with(const struct inc__ftab *old, struct inc_stack *s, struct inc_filter *f, struct inc__ftab **out)
{
  unsigned i, n = old != NULL ? old->n : 0;

  if (n >= INC_FILTER_MAX) {
    return -ENOSPC;
  }
  if (is_consumer(f)) {
    for (i = 0; i < n; i++) {
      if (is_consumer(old->f[i]) && inc__filter_overlap(old->f[i], f)) {
        return -EADDRINUSE;
      }
    }
  }
  *out = build(old != NULL ? old->stack : s, old != NULL ? old->f : NULL, n, NULL, f);
  return *out != NULL ? 0 : -ENOMEM;
}

int inc__ftab_without(const struct inc__ftab *old, const struct inc_filter *f, struct inc__ftab **out)
{
  unsigned i;
  int found = 0;

  *out = NULL;
  for (i = 0; old != NULL && i < old->n; i++) {
    found |= old->f[i] == f;
  }
  if (!found) {
    return -ENOENT;
  }
  if (old->n == 1) {
    return 0;
  }
  *out = build(old->stack, old->f, old->n, f, NULL);
  return *out != NULL ? 0 : -ENOMEM;
}

void inc__ftab_free(struct inc__ftab *t)
{
  free(t);
}

int inc_filter_counters_get(const struct inc_filter *f, struct inc_filter_counters *out)
{
  unsigned i;
  if (f == NULL || out == NULL) {
    return -EINVAL;
  }
  memset(out, 0, sizeof(*out));
  for (i = 0; i < f->workers; i++) {
    const struct inc__fcnt *c = &f->cnt[i];
    /* relaxed: counters only (pairs with the worker's relaxed stores) */
    out->matched += __atomic_load_n(&c->matched, __ATOMIC_RELAXED);
    out->consumed += __atomic_load_n(&c->consumed, __ATOMIC_RELAXED);
    out->declined += __atomic_load_n(&c->declined, __ATOMIC_RELAXED);
    out->monitored += __atomic_load_n(&c->monitored, __ATOMIC_RELAXED);
    out->hidden += __atomic_load_n(&c->hidden, __ATOMIC_RELAXED);
  }
  return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

/* single writer (the worker): relaxed load + store; pairs with the relaxed
 * loads of inc_filter_counters_get() (counters only, no ordering) */
static void bump(uint64_t *c)
{
  __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static int call(const struct inc_filter *f, const struct inc_filter_pkt *pkt, struct inc_raw_conn *conn)
{
  int r;
  in_callback++;
  r = f->kind == INC_FILTER_UDP ? f->udp(f->arg, pkt) : f->tcp(f->arg, pkt, conn);
  in_callback--;
  return r;
}

int inc__ftab_any(const struct inc__ftab *t, enum inc_filter_kind kind, const struct inc__fkey *k)
{
  unsigned i, lo, hi;
  if (t == NULL) {
    return 0;
  }
  lo = kind == INC_FILTER_UDP ? 0 : t->tcp;
  hi = kind == INC_FILTER_UDP ? t->tcp : t->n;
  for (i = lo; i < hi; i++) {
    if (inc__filter_match(t->f[i], k)) {
      return 1;
    }
  }
  return 0;
}

int inc__ftab_dispatch(const struct inc__ftab *t, enum inc_filter_kind kind, unsigned worker,
                       const struct inc__fkey *k, const struct inc_filter_pkt *pkt, struct inc_raw_conn *conn)
{
  unsigned i, cons_lo, mon_lo, mon_hi;
  struct inc_filter *consumer = NULL;
  int hide, r;

  if (t == NULL) {
    return 0;
  }
  if (kind == INC_FILTER_UDP) {
    cons_lo = 0;
    mon_lo = t->udp_mon;
    mon_hi = t->tcp;
  } else {
    cons_lo = t->tcp;
    mon_lo = t->tcp_mon;
    mon_hi = t->n;
  }
  for (i = cons_lo; i < mon_lo; i++) {
    if (inc__filter_match(t->f[i], k)) {
      consumer = t->f[i]; /* the only one: installs refuse overlaps */
      break;
    }
  }
  if (consumer != NULL && worker < consumer->workers) {
    bump(&consumer->cnt[worker].matched);
  }
  hide = consumer != NULL && consumer->mode == INC_FILTER_CONSUME_EXCLUSIVE;
  for (i = mon_lo; i < mon_hi; i++) {
    struct inc_filter *m = t->f[i];
    if (!inc__filter_match(m, k) || worker >= m->workers) {
      continue;
    }
    bump(&m->cnt[worker].matched);
    if (hide) {
      bump(&m->cnt[worker].hidden);
      continue;
    }
    bump(&m->cnt[worker].monitored);
    (void)call(m, pkt, NULL);
  }
  if (consumer == NULL || worker >= consumer->workers) {
    return 0;
  }
  consumer_pkt = pkt;
  r = call(consumer, pkt, conn);
  consumer_pkt = NULL;
  if (r != 0) {
    bump(&consumer->cnt[worker].consumed);
    return 1;
  }
  bump(&consumer->cnt[worker].declined);
  return 0;
}
