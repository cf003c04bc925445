/* sxfer: see sxfer.h. */
#include "sxfer.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/tcp.h"
#include "stack_priv.h"
#include "xfer.h"

struct sxfer_worker {
  struct xfer_node node;
  _Atomic uint64_t out_connected, out_complete, in_complete, progress; /* published for the test thread */
  int start_failed;
  struct sxfer_result res;
} __attribute__((aligned(64)));

struct sxfer {
  struct sxfer_params p;
  _Atomic unsigned failed_starts;
  struct sxfer_worker *w;
};

static int connect_tracked(void *ctx, struct tcp_pcb *pcb, const ip_addr_t *peer, uint16_t port,
                           err_t (*connected)(void *, struct tcp_pcb *, err_t))
{
  (void)ctx;
  return inc__tcp_connect(inc_worker_self(), pcb, peer, port, connected);
}

static void listening_tracked(void *ctx, struct tcp_pcb *pcb)
{
  (void)ctx;
  inc__flow_track_listener(inc_worker_self(), pcb);
}

static unsigned current_core(void *ctx)
{
  struct inc_worker *w = inc_worker_self();
  (void)ctx;
  return w != NULL ? inc_worker_index(w) : ~0u;
}

static void publish(struct sxfer_worker *sw)
{
  uint64_t prog = sw->node.verified_bytes;
  unsigned i;
  for (i = 0; i < sw->node.n_opened; i++) {
    prog += sw->node.out[i].done_bytes;
  }
  /* relaxed: progress counters for the test thread, no data behind them */
  atomic_store_explicit(&sw->out_connected, sw->node.out_connected, memory_order_relaxed);
  atomic_store_explicit(&sw->out_complete, sw->node.out_complete, memory_order_relaxed);
  atomic_store_explicit(&sw->in_complete, sw->node.in_complete, memory_order_relaxed);
  atomic_store_explicit(&sw->progress, prog + sw->node.n_in, memory_order_relaxed);
}

static void on_start(struct inc_worker *w, void *arg)
{
  struct sxfer *x = (struct sxfer *)arg;
  struct sxfer_worker *sw = &x->w[inc_worker_index(w)];
  struct xfer_ops ops;
  ip_addr_t peer;
  memset(&ops, 0, sizeof(ops));
  if (x->p.tracked) {
    ops.connect = connect_tracked;
    ops.listening = listening_tracked;
  }
  ops.current_core = current_core;
  if (x->p.peer_v6) {
    memset(&peer, 0, sizeof(peer));
    IP_SET_TYPE_VAL(peer, IPADDR_TYPE_V6);
    memcpy(ip_2_ip6(&peer)->addr, x->p.peer_ip6, 16);
    ip6_addr_clear_zone(ip_2_ip6(&peer)); /* global addresses have no zone */
  } else {
    ip_addr_set_ip4_u32_val(peer, x->p.peer_ip4);
  }
  if (xfer_start_ops(&sw->node, &peer, x->p.port, x->p.bytes, x->p.out_per_worker, 0,
                     x->p.id_base + (inc_worker_index(w) << 16), &ops, x->p.open_batch) != ERR_OK) {
    sw->start_failed = 1;
    atomic_fetch_add(&x->failed_starts, 1);
  }
}

static int on_poll(struct inc_worker *w, void *arg)
{
  struct sxfer *x = (struct sxfer *)arg;
  struct sxfer_worker *sw = &x->w[inc_worker_index(w)];
  int opened = 0;
  if (!sw->start_failed && sw->node.n_opened < sw->node.n_out) {
    opened = xfer_poll(&sw->node);
  }
  publish(sw);
  return opened > 0;
}

static void on_stop(struct inc_worker *w, void *arg)
{
  struct sxfer *x = (struct sxfer *)arg;
  struct sxfer_worker *sw = &x->w[inc_worker_index(w)];
  struct xfer_node *n = &sw->node;
  sw->res.out_opened = n->n_opened;
  sw->res.out_complete = n->out_complete;
  sw->res.in_accepted = n->n_in;
  sw->res.in_complete = n->in_complete;
  sw->res.errors = n->errors + (unsigned)sw->start_failed;
  sw->res.corrupt = n->corrupt;
  sw->res.wrong_core = n->wrong_core;
  sw->res.wrong_peer = n->wrong_peer;
  sw->res.verified_bytes = n->verified_bytes;
  publish(sw);
  xfer_stop(n);
}

struct sxfer *sxfer_new(const struct sxfer_params *p, struct inc_stack_callbacks *cb)
{
  struct sxfer *x = calloc(1, sizeof(*x));
  if (x == NULL) {
    return NULL;
  }
  x->p = *p;
  if (posix_memalign((void **)&x->w, 64, p->workers * sizeof(*x->w)) != 0) {
    free(x);
    return NULL;
  }
  memset(x->w, 0, p->workers * sizeof(*x->w));
  atomic_init(&x->failed_starts, 0u);
  cb->worker_start = on_start;
  cb->worker_poll = on_poll;
  cb->worker_stop = on_stop;
  cb->arg = x;
  return x;
}

void sxfer_free(struct sxfer *x)
{
  if (x != NULL) {
    free(x->w);
    free(x);
  }
}

static uint64_t sum(const struct sxfer *x, size_t off)
{
  uint64_t s = 0;
  unsigned i;
  for (i = 0; i < x->p.workers; i++) {
    const _Atomic uint64_t *a = (const _Atomic uint64_t *)(const void *)((const uint8_t *)&x->w[i] + off);
    s += atomic_load_explicit((_Atomic uint64_t *)(uintptr_t)a, memory_order_relaxed);
  }
  return s;
}

uint64_t sxfer_out_connected(const struct sxfer *x)
{
  return sum(x, offsetof(struct sxfer_worker, out_connected));
}

uint64_t sxfer_out_complete(const struct sxfer *x)
{
  return sum(x, offsetof(struct sxfer_worker, out_complete));
}

uint64_t sxfer_in_complete(const struct sxfer *x)
{
  return sum(x, offsetof(struct sxfer_worker, in_complete));
}

uint64_t sxfer_progress(const struct sxfer *x)
{
  return sum(x, offsetof(struct sxfer_worker, progress));
}

unsigned sxfer_failed_starts(const struct sxfer *x)
{
  return atomic_load(&((struct sxfer *)(uintptr_t)x)->failed_starts);
}

void sxfer_result_get(const struct sxfer *x, unsigned worker, struct sxfer_result *out)
{
  *out = x->w[worker].res;
}
