/*
 * One producer core -> one consumer core: lockfree's worker-to-worker channel
 * (ck_ring), DPDK's rte_ring in SP/SC mode, and a mutex-protected ring, at
 * batch 1 and 32. Producer on cpu 0, consumer on cpu 1.
 */
#include "bench_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#define BENCH_RING 1024

/* ---- mutex queue ---------------------------------------------------------- */
struct bench_mq {
  pthread_mutex_t lock;
  unsigned mask, head, tail;
  struct inc_msg *slots;
};

void *bench_mq_create(unsigned size) {
  struct bench_mq *q = calloc(1, sizeof(*q));
  q->slots = calloc(size, sizeof(struct inc_msg));
  q->mask = size - 1;
  pthread_mutex_init(&q->lock, NULL);
  return q;
}

void bench_mq_destroy(void *p) {
  struct bench_mq *q = p;
  pthread_mutex_destroy(&q->lock);
  free(q->slots);
  free(q);
}

unsigned bench_mq_put(void *p, const struct inc_msg *m, unsigned n) {
  struct bench_mq *q = p;
  pthread_mutex_lock(&q->lock);
  unsigned room = q->mask + 1 - (q->tail - q->head), k = n < room ? n : room;
  for (unsigned i = 0; i < k; i++)
    q->slots[(q->tail + i) & q->mask] = m[i];
  q->tail += k;
  pthread_mutex_unlock(&q->lock);
  return k;
}

unsigned bench_mq_get(void *p, struct inc_msg *m, unsigned n) {
  struct bench_mq *q = p;
  pthread_mutex_lock(&q->lock);
  unsigned avail = q->tail - q->head, k = n < avail ? n : avail;
  for (unsigned i = 0; i < k; i++)
    m[i] = q->slots[(q->head + i) & q->mask];
  q->head += k;
  pthread_mutex_unlock(&q->lock);
  return k;
}

/* ---- lockfree channel: worker 0 -> worker 1 ------------------------------- */
static unsigned inc_put(void *q, const struct inc_msg *m, unsigned n) {
  if (n == 1)
    return inc_chan_send(q, 0, 1, m) == 0; /* ck_ring's reserve/commit */
  return (unsigned)inc_chan_send_burst(q, 0, 1, m, n);
}

static unsigned inc_get(void *q, struct inc_msg *m, unsigned n) {
  if (n == 1)
    return (unsigned)inc_chan_recv(q, 1, 0, m);
  return (unsigned)inc_chan_recv_burst(q, 1, 0, m, n);
}

/* ---- rte_ring SP/SC, 16-byte elements ------------------------------------- */
static unsigned rte_put(void *q, const struct inc_msg *m, unsigned n) {
  return rte_ring_sp_enqueue_burst_elem(q, m, sizeof(*m), n, NULL);
}

static unsigned rte_get(void *q, struct inc_msg *m, unsigned n) {
  return rte_ring_sc_dequeue_burst_elem(q, m, sizeof(*m), n, NULL);
}

/* ---- the run -------------------------------------------------------------- */
struct spsc_run {
  const struct bench_queue *bq;
  unsigned batch;
  uint64_t msgs;
  pthread_barrier_t go;
  uint64_t bad;
};

static void *spsc_producer(void *arg) {
  struct spsc_run *r = arg;
  struct inc_msg m[32];
  bench_pin(0);
  pthread_barrier_wait(&r->go);
  for (uint64_t sent = 0; sent < r->msgs;) {
    unsigned b = r->msgs - sent < r->batch ? (unsigned)(r->msgs - sent) : r->batch;
    for (unsigned i = 0; i < b; i++)
      m[i] = inc_msg_packet((void *)(uintptr_t)(sent + i), 0);
    unsigned k = 0;
    while (k < b)
      k += r->bq->put(r->bq->q, m + k, b - k);
    sent += b;
  }
  return NULL;
}

double bench_spsc_run(const struct bench_queue *bq, unsigned batch, uint64_t msgs) {
  struct spsc_run r = {.bq = bq, .batch = batch, .msgs = msgs};
  pthread_t prod;
  struct inc_msg m[32];
  pthread_barrier_init(&r.go, NULL, 2);
  pthread_create(&prod, NULL, spsc_producer, &r);
  bench_pin(1);
  pthread_barrier_wait(&r.go);
  const uint64_t t0 = bench_ns();
  uint64_t got = 0;
  while (got < msgs) {
    unsigned k = bq->get(bq->q, m, batch);
    for (unsigned i = 0; i < k; i++)
      r.bad += (uintptr_t)m[i].ptr != got + i;
    got += k;
  }
  const uint64_t t1 = bench_ns();
  pthread_join(prod, NULL);
  pthread_barrier_destroy(&r.go);
  if (r.bad)
    fprintf(stderr, "bench-lockfree: %s delivered %llu messages out of order\n", bq->name,
            (unsigned long long)r.bad);
  return (double)(t1 - t0) / (double)msgs;
}

void bench_spsc(const struct bench_opts *o) {
  struct inc_chan_config cfg = {2, BENCH_RING, 0, 0};
  size_t len = inc_chan_mesh_footprint(&cfg);
  void *mem = NULL;
  struct inc_chan_mesh *mesh = NULL;
  if (posix_memalign(&mem, 64, len) != 0 || inc_chan_mesh_init(&mesh, mem, len, &cfg) != 0) {
    fprintf(stderr, "bench-lockfree: mesh setup failed\n");
    exit(1);
  }
  struct rte_ring *ring = rte_ring_create_elem("bench_spsc", sizeof(struct inc_msg), BENCH_RING,
                                               SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (ring == NULL) {
    fprintf(stderr, "bench-lockfree: rte_ring_create_elem: %s\n", rte_strerror(rte_errno));
    exit(1);
  }
  void *mq = bench_mq_create(BENCH_RING);
  const struct bench_queue qs[3] = {
      {"inc_chan (ck_ring)", mesh, inc_put, inc_get},
      {"rte_ring SP/SC", ring, rte_put, rte_get},
      {"mutex queue", mq, bench_mq_put, bench_mq_get},
  };
  printf("SPSC channel, producer cpu 0 -> consumer cpu 1, ring of %u slots, ns per message\n",
         BENCH_RING);
  printf("| batch | inc_chan (ck_ring) | rte_ring SP/SC | mutex queue | inc vs rte_ring | inc vs mutex |\n");
  printf("|------:|-------------------:|---------------:|------------:|----------------:|-------------:|\n");
  const unsigned batches[2] = {1, 32};
  for (unsigned b = 0; b < 2; b++) {
    double med[3];
    for (unsigned q = 0; q < 3; q++) {
      double v[99];
      /* Batch 1 moves fewer messages: it is slower per message. */
      const uint64_t n = batches[b] == 1 ? o->spsc_msgs / 4 : o->spsc_msgs;
      for (unsigned i = 0; i < o->runs; i++)
        v[i] = bench_spsc_run(&qs[q], batches[b], n);
      med[q] = bench_best(v, o->runs);
    }
    printf("| %5u | %15.1f ns | %11.1f ns | %8.1f ns | %14.2fx | %11.2fx |\n", batches[b], med[0],
           med[1], med[2], med[1] / med[0], med[2] / med[0]);
  }
  printf("(inc vs X: X's time / inc's time; above 1 means inc_chan is faster)\n\n");
  bench_mq_destroy(mq);
  rte_ring_free(ring);
  free(mem);
}
