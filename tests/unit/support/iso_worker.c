/* iso_worker: see iso_worker.h. */
#include "iso_worker.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inc_lwip_instance.h"
#include "memlink.h"
#include "xfer.h"

#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

struct iso_shared {
  _Atomic unsigned finished; /* workers whose transfers are all done */
  _Atomic unsigned drained;  /* workers past the final drain */
  _Atomic int abort;         /* a worker stalled or failed: everyone stops */
  unsigned n_workers;
  unsigned stall_ms;
};

struct iso_worker {
  struct iso_shared *shared;
  uint8_t id; /* 1-based: last byte of the address and of the MAC */
  ip4_addr_t addr, peer;
  uint16_t port;
  uint32_t bytes;
  unsigned n_out, n_in;
  struct memlink_ring *tx, *rx;
  struct iso_result *r;
  struct inc_lwip_instance inst;
  struct memlink_end end;
  struct xfer_node node;
};

static uint64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Everything this instance can see must be its own. */
static void check_isolation(struct iso_worker *w)
{
  const struct netif *nif;
  const struct tcp_pcb *pcb;
  unsigned n = 0;
  for (nif = netif_list; nif != NULL; nif = nif->next) {
    n++;
    if (nif != &w->end.netif) {
      w->r->foreign_netif++;
    }
  }
  if (n > w->r->max_netifs) {
    w->r->max_netifs = n;
  }
  for (pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next) {
    w->r->pcb_checks++;
    if (!ip4_addr_cmp(ip_2_ip4(&pcb->local_ip), &w->addr) ||
        !ip4_addr_cmp(ip_2_ip4(&pcb->remote_ip), &w->peer)) {
      w->r->foreign_pcbs++;
    }
  }
  for (pcb = tcp_tw_pcbs; pcb != NULL; pcb = pcb->next) {
    w->r->pcb_checks++;
    if (!ip4_addr_cmp(ip_2_ip4(&pcb->local_ip), &w->addr)) {
      w->r->foreign_pcbs++;
    }
  }
}

static uint64_t progress(const struct iso_worker *w)
{
  uint64_t p = w->node.verified_bytes;
  unsigned i;
  for (i = 0; i < w->node.n_out; i++) {
    p += w->node.out[i].done_bytes;
  }
  return p + w->end.counts.rx_ipv4;
}

static void poll_once(struct iso_worker *w, unsigned *iter)
{
  unsigned n = memlink_poll(&w->end, 64);
  sys_check_timeouts();
  if ((++*iter & 31u) == 0) {
    check_isolation(w);
  }
  if (n == 0) {
    sched_yield(); /* oversubscribed: let the peer run */
  }
}

static void teardown(struct iso_worker *w)
{
  struct tcp_pcb *pcb;
  xfer_stop(&w->node);
  /* connections this side closed first wait in TIME_WAIT: drop them */
  while ((pcb = tcp_tw_pcbs) != NULL) {
    tcp_abort(pcb);
  }
  while ((pcb = tcp_active_pcbs) != NULL) {
    tcp_arg(pcb, NULL);
    tcp_abort(pcb);
  }
  netif_remove(&w->end.netif);
  w->r->memp_used_after_stop[0] = lwip_stats.memp[MEMP_TCP_PCB]->used;
  w->r->memp_used_after_stop[1] = lwip_stats.memp[MEMP_TCP_PCB_LISTEN]->used;
  w->r->memp_used_after_stop[2] = lwip_stats.memp[MEMP_TCP_SEG]->used;
  w->r->memp_used_after_stop[3] = lwip_stats.memp[MEMP_PBUF_POOL]->used;
}

static void *iso_worker_run(void *arg)
{
  struct iso_worker *w = (struct iso_worker *)arg;
  struct iso_shared *sh = w->shared;
  ip_addr_t peer;
  unsigned iter = 0;
  uint64_t last_progress = 0, last_change = now_ms(), drain_until;
  int counted_finished = 0;

  w->r->init_rc = inc_lwip_instance_init(&w->inst);
  if (w->r->init_rc != 0) {
    atomic_store(&sh->abort, 1);
    atomic_fetch_add(&sh->drained, 1); /* release the others' final barrier */
    return NULL;
  }
  w->r->stats_addr = (uintptr_t)&lwip_stats;
  w->r->active_pcbs_addr = (uintptr_t)&tcp_active_pcbs;

  if (memlink_end_add(&w->end, w->id, &w->addr, w->tx, w->rx) != 0) {
    w->r->start_rc = -1;
    atomic_store(&sh->abort, 1);
    atomic_fetch_add(&sh->drained, 1);
    inc_lwip_instance_detach(&w->inst);
    return NULL;
  }
  ip_addr_copy_from_ip4(peer, w->peer);
  w->r->start_rc = xfer_start(&w->node, &peer, w->port, w->bytes, w->n_out, w->n_in, (uint32_t)w->id << 16);
  if (w->r->start_rc != 0) {
    atomic_store(&sh->abort, 1);
  }

  /* run until every worker's transfers are done (peers keep serving) */
  while (atomic_load(&sh->finished) < sh->n_workers && !atomic_load(&sh->abort)) {
    uint64_t p;
    poll_once(w, &iter);
    if (!counted_finished && xfer_finished(&w->node)) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      w->r->finished_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
      counted_finished = 1;
      atomic_fetch_add(&sh->finished, 1);
    }
    p = progress(w);
    if (p != last_progress) {
      last_progress = p;
      last_change = now_ms();
    } else if (!counted_finished && now_ms() - last_change > sh->stall_ms) {
      w->r->stalled = 1;
      atomic_store(&sh->abort, 1);
    }
  }
  /* let the last ACKs and FINs cross, then stop together */
  drain_until = now_ms() + 300;
  while (now_ms() < drain_until) {
    poll_once(w, &iter);
  }
  atomic_fetch_add(&sh->drained, 1);
  while (atomic_load(&sh->drained) < sh->n_workers) {
    poll_once(w, &iter);
  }
  check_isolation(w);

  w->r->verified_bytes = w->node.verified_bytes;
  w->r->out_complete = w->node.out_complete;
  w->r->in_complete = w->node.in_complete;
  w->r->errors = w->node.errors;
  w->r->corrupt = w->node.corrupt;
  w->r->wrong_peer = w->node.wrong_peer;
  teardown(w);
  w->r->link_rx_ipv4 = w->end.counts.rx_ipv4;
  w->r->link_rx_arp = w->end.counts.rx_arp;
  w->r->link_tx_dropped = w->end.counts.tx_dropped_full;
  w->r->link_rx_dropped = w->end.counts.rx_dropped_nomem;
  w->r->stats = lwip_stats;
  inc_lwip_instance_detach(&w->inst);
  return NULL;
}

int iso_run(const struct iso_params *p, struct iso_result *results)
{
  const uint32_t ring_slots = 4096;
  struct iso_shared shared;
  struct iso_worker *w;
  struct memlink_ring *rings;
  uint8_t *slots;
  pthread_t *tids;
  unsigned i, started = 0;
  int rc = 0;

  if (p == NULL || results == NULL || p->threads == 0 || p->threads % 2 != 0 || p->threads > 254) {
    return -1;
  }
  w = calloc(p->threads, sizeof(*w));
  rings = calloc(p->threads, sizeof(*rings));
  slots = calloc((size_t)p->threads * ring_slots, 2u + MEMLINK_SLOT_BYTES);
  tids = calloc(p->threads, sizeof(*tids));
  if (w == NULL || rings == NULL || slots == NULL || tids == NULL) {
    rc = -1;
    goto out;
  }
  atomic_init(&shared.finished, 0u);
  atomic_init(&shared.drained, 0u);
  atomic_init(&shared.abort, 0);
  shared.n_workers = p->threads;
  shared.stall_ms = p->stall_ms;
  for (i = 0; i < p->threads; i++) {
    unsigned peer = i ^ 1u;
    memlink_ring_init(&rings[i], slots + (size_t)i * ring_slots * (2u + MEMLINK_SLOT_BYTES), ring_slots);
    memset(&results[i], 0, sizeof(results[i]));
    w[i].shared = &shared;
    w[i].id = (uint8_t)(i + 1);
    IP4_ADDR(&w[i].addr, 198, 18, 0, i + 1);
    IP4_ADDR(&w[i].peer, 198, 18, 0, peer + 1);
    w[i].port = 5001;
    w[i].bytes = p->bytes;
    w[i].n_out = p->transfers_per_thread;
    w[i].n_in = p->transfers_per_thread;
    w[i].r = &results[i];
  }
  for (i = 0; i < p->threads; i++) {
    w[i].tx = &rings[i];        /* ring i carries frames from i to its peer */
    w[i].rx = &rings[i ^ 1u];   /* and the peer's ring carries them back */
  }
  for (i = 0; i < p->threads; i++) {
    if (pthread_create(&tids[i], NULL, iso_worker_run, &w[i]) != 0) {
      atomic_store(&shared.abort, 1);
      /* the others must not wait for this one in the drain barrier */
      atomic_fetch_add(&shared.drained, p->threads - i);
      rc = -1;
      break;
    }
    started++;
  }
  for (i = 0; i < started; i++) {
    pthread_join(tids[i], NULL);
  }
out:
  free(tids);
  free(slots);
  free(rings);
  free(w);
  return rc;
}
