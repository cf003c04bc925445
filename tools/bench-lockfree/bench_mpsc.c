/*
 * Many producers -> one consumer, with more threads than cores: lockfree's
 * application lanes (one SPSC ck_ring per producer), ck_ring's own MPSC
 * enqueue, DPDK's rte_ring in its default MP mode and in MP-RTS mode, and a
 * mutex-protected ring. Threads are not pinned: the scheduler preempts
 * producers wherever they are, as it will preempt application threads.
 *
 * Then the hazard itself, made deterministic: a ck_ring MP producer that
 * stops between reserving its slot and publishing it (as a preempted one
 * does) makes the next producer wait for it.
 */
#include "bench_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ck_ring.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#define BENCH_MPSC_RING 1024
#define BENCH_MAX_PRODUCERS 16

CK_RING_PROTOTYPE(bench_msg, inc_msg)

enum { Q_LANES, Q_CK, Q_RTE_MP, Q_RTE_RTS, Q_MUTEX, Q_COUNT };
static const char *const q_names[Q_COUNT] = {"inc lanes (ck_ring SPSC each)", "ck_ring MPSC",
                                             "rte_ring MP/SC", "rte_ring MP-RTS/SC",
                                             "mutex queue"};

struct mpsc_run {
  int kind;
  unsigned producers, batch;
  uint64_t msgs; /* per producer */
  struct inc_chan_mesh *mesh;
  ck_ring_t *ck;
  struct inc_msg *ck_slots;
  struct rte_ring *rte;
  void *mq;
  pthread_barrier_t go;
  unsigned attach_failed;
};

struct mpsc_producer {
  struct mpsc_run *r;
  unsigned id;
  pthread_t tid;
};

static unsigned mpsc_put(struct mpsc_run *r, struct inc_chan_app *app, const struct inc_msg *m,
                         unsigned n) {
  switch (r->kind) {
  case Q_LANES: {
    int k = n == 1 ? (inc_chan_app_send(app, 0, m) == 0) : inc_chan_app_send_burst(app, 0, m, n);
    return k > 0 ? (unsigned)k : 0;
  }
  case Q_CK: {
    unsigned k = 0;
    struct inc_msg tmp;
    while (k < n) {
      tmp = m[k];
      if (!ck_ring_enqueue_mpsc_bench_msg(r->ck, r->ck_slots, &tmp))
        break;
      k++;
    }
    return k;
  }
  case Q_RTE_MP:
    return rte_ring_mp_enqueue_burst_elem(r->rte, m, sizeof(*m), n, NULL);
  case Q_RTE_RTS:
    return rte_ring_enqueue_burst_elem(r->rte, m, sizeof(*m), n, NULL);
  default:
    return bench_mq_put(r->mq, m, n);
  }
}

static unsigned mpsc_get(struct mpsc_run *r, struct inc_msg *m, unsigned n) {
  switch (r->kind) {
  case Q_LANES: {
    int k = inc_chan_poll(r->mesh, 0, m, n);
    return k > 0 ? (unsigned)k : 0;
  }
  case Q_CK: {
    unsigned k = 0;
    while (k < n && ck_ring_dequeue_mpsc_bench_msg(r->ck, r->ck_slots, &m[k]))
      k++;
    return k;
  }
  case Q_RTE_MP:
  case Q_RTE_RTS:
    return rte_ring_sc_dequeue_burst_elem(r->rte, m, sizeof(*m), n, NULL);
  default:
    return bench_mq_get(r->mq, m, n);
  }
}

static void *mpsc_producer_main(void *arg) {
  struct mpsc_producer *p = arg;
  struct mpsc_run *r = p->r;
  struct inc_chan_app *app = NULL;
  struct inc_msg m[32];
  if (r->kind == Q_LANES && inc_chan_app_attach(r->mesh, &app) != 0)
    __atomic_fetch_add(&r->attach_failed, 1, __ATOMIC_RELAXED);
  pthread_barrier_wait(&r->go);
  if (r->kind == Q_LANES && app == NULL)
    return NULL;
  for (uint64_t sent = 0; sent < r->msgs;) {
    unsigned b = r->msgs - sent < r->batch ? (unsigned)(r->msgs - sent) : r->batch;
    for (unsigned i = 0; i < b; i++)
      m[i] = inc_msg_packet((void *)(uintptr_t)(((uint64_t)p->id << 40) | (sent + i)), p->id);
    unsigned k = 0;
    while (k < b) {
      unsigned d = mpsc_put(r, app, m + k, b - k);
      if (d == 0)
        sched_yield(); /* full: let the consumer run (2 cores, more threads) */
      k += d;
    }
    sent += b;
  }
  if (app != NULL) {
    /* The consumer has taken everything once the run ends; detach then. */
    while (inc_chan_app_detach(app) == -EBUSY)
      sched_yield();
  }
  return NULL;
}

/* Returns ns per message; -1 on a delivery error. */
static double mpsc_once(struct mpsc_run *r) {
  struct mpsc_producer p[BENCH_MAX_PRODUCERS];
  uint64_t next[BENCH_MAX_PRODUCERS] = {0}, bad = 0;
  struct inc_msg m[32];
  r->attach_failed = 0;
  pthread_barrier_init(&r->go, NULL, r->producers + 1);
  for (unsigned i = 0; i < r->producers; i++) {
    p[i].r = r;
    p[i].id = i;
    pthread_create(&p[i].tid, NULL, mpsc_producer_main, &p[i]);
  }
  pthread_barrier_wait(&r->go);
  const uint64_t t0 = bench_ns(), total = r->msgs * r->producers;
  uint64_t got = 0;
  while (got < total && !r->attach_failed) {
    unsigned k = mpsc_get(r, m, r->batch);
    for (unsigned i = 0; i < k; i++) {
      const uint64_t v = (uintptr_t)m[i].ptr, id = v >> 40, seq = v & ((1ULL << 40) - 1);
      if (id >= r->producers || seq != next[id]++)
        bad++;
    }
    got += k;
    if (k == 0)
      sched_yield();
  }
  const uint64_t t1 = bench_ns();
  for (unsigned i = 0; i < r->producers; i++)
    pthread_join(p[i].tid, NULL);
  pthread_barrier_destroy(&r->go);
  if (bad || r->attach_failed) {
    fprintf(stderr, "bench-lockfree: %s: %llu messages out of order or lost\n", q_names[r->kind],
            (unsigned long long)bad);
    return -1;
  }
  return (double)(t1 - t0) / (double)total;
}

/* ---- a producer stopped between reserve and publish ----------------------- */
struct stall_ctx {
  ck_ring_t *ck;
  struct inc_msg *slots;
  unsigned reserved; /* atomic: A holds its slot */
  unsigned stall_ms;
};

static void *stall_a(void *arg) {
  struct stall_ctx *c = arg;
  unsigned ticket;
  struct inc_msg *slot = ck_ring_enqueue_reserve_mpsc_bench_msg(c->ck, c->slots, &ticket);
  if (slot != NULL)
    *slot = inc_msg_packet(NULL, 1);
  /* Release: B starts its enqueue only after our reservation. */
  __atomic_store_n(&c->reserved, 1, __ATOMIC_RELEASE);
  usleep(c->stall_ms * 1000u); /* "preempted" */
  if (slot != NULL)
    ck_ring_enqueue_commit_mpsc(c->ck, ticket);
  return NULL;
}

static double stall_ck(unsigned stall_ms) {
  ck_ring_t ring;
  struct inc_msg *slots = calloc(64, sizeof(*slots));
  ck_ring_init(&ring, 64);
  struct stall_ctx c = {&ring, slots, 0, stall_ms};
  pthread_t a;
  pthread_create(&a, NULL, stall_a, &c);
  /* Acquire pairs with A's release. */
  while (!__atomic_load_n(&c.reserved, __ATOMIC_ACQUIRE))
    sched_yield();
  struct inc_msg m = inc_msg_packet(NULL, 2);
  const uint64_t t0 = bench_ns();
  (void)ck_ring_enqueue_mpsc_bench_msg(&ring, slots, &m);
  const uint64_t t1 = bench_ns();
  pthread_join(a, NULL);
  free(slots);
  return (double)(t1 - t0) / 1e6;
}

static double stall_lanes(unsigned stall_ms, struct inc_chan_mesh *mesh) {
  /* Endpoint A sends nothing for stall_ms (stopped anywhere in its send:
   * its lane is its own); B's send does not depend on A at all. */
  struct inc_chan_app *b;
  if (inc_chan_app_attach(mesh, &b) != 0)
    return -1;
  (void)stall_ms;
  struct inc_msg m = inc_msg_packet(NULL, 2), out;
  const uint64_t t0 = bench_ns();
  (void)inc_chan_app_send(b, 0, &m);
  const uint64_t t1 = bench_ns();
  while (inc_chan_poll(mesh, 0, &out, 1) == 0) {
  }
  inc_chan_app_detach(b);
  return (double)(t1 - t0) / 1e6;
}

void bench_mpsc(const struct bench_opts *o) {
  struct mpsc_run r = {.producers = o->producers, .msgs = o->mpsc_msgs};
  if (r.producers > BENCH_MAX_PRODUCERS)
    r.producers = BENCH_MAX_PRODUCERS;
  struct inc_chan_config cfg = {1, 0, r.producers + 1, BENCH_MPSC_RING};
  size_t len = inc_chan_mesh_footprint(&cfg);
  void *mem = NULL;
  if (posix_memalign(&mem, 64, len) != 0 || inc_chan_mesh_init(&r.mesh, mem, len, &cfg) != 0)
    exit(1);
  ck_ring_t ck;
  r.ck = &ck;
  r.ck_slots = calloc(BENCH_MPSC_RING, sizeof(struct inc_msg));
  r.mq = bench_mq_create(BENCH_MPSC_RING);
  struct rte_ring *mp = rte_ring_create_elem("bench_mp", sizeof(struct inc_msg), BENCH_MPSC_RING,
                                             SOCKET_ID_ANY, RING_F_SC_DEQ);
  struct rte_ring *rts = rte_ring_create_elem("bench_rts", sizeof(struct inc_msg),
                                              BENCH_MPSC_RING, SOCKET_ID_ANY,
                                              RING_F_MP_RTS_ENQ | RING_F_SC_DEQ);
  if (mp == NULL || rts == NULL) {
    fprintf(stderr, "bench-lockfree: rte_ring_create_elem: %s\n", rte_strerror(rte_errno));
    exit(1);
  }
  printf("MPSC, %u producers + 1 consumer on %ld cpus (unpinned), %llu messages per producer, "
         "ns per message\n",
         r.producers, sysconf(_SC_NPROCESSORS_ONLN), (unsigned long long)r.msgs);
  printf("| batch |");
  for (int q = 0; q < Q_COUNT; q++)
    printf(" %s |", q_names[q]);
  printf("\n|------:|");
  for (int q = 0; q < Q_COUNT; q++)
    printf("------:|");
  printf("\n");
  const unsigned batches[2] = {1, 32};
  for (unsigned b = 0; b < 2; b++) {
    r.batch = batches[b];
    double med[Q_COUNT];
    for (int q = 0; q < Q_COUNT; q++) {
      r.kind = q;
      r.rte = q == Q_RTE_RTS ? rts : mp;
      double v[99];
      for (unsigned i = 0; i < o->runs; i++) {
        ck_ring_init(&ck, BENCH_MPSC_RING);
        v[i] = mpsc_once(&r);
      }
      med[q] = bench_best(v, o->runs);
    }
    printf("| %5u |", r.batch);
    for (int q = 0; q < Q_COUNT; q++)
      printf(" %.1f ns (%.2fx) |", med[q], med[q] / med[0]);
    printf("\n");
  }
  printf("(in parentheses: time relative to inc lanes)\n\n");

  const unsigned stall_ms = 20;
  printf("A producer stopped for %u ms between reserving and publishing its slot:\n", stall_ms);
  printf("  next ck_ring MPSC enqueue by another producer took %.2f ms (it waits)\n",
         stall_ck(stall_ms));
  printf("  next inc lanes send by another endpoint took %.4f ms (own lane: never waits)\n\n",
         stall_lanes(stall_ms, r.mesh));
  rte_ring_free(mp);
  rte_ring_free(rts);
  bench_mq_destroy(r.mq);
  free(r.ck_slots);
  free(mem);
}
