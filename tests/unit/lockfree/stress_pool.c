/*
 * Pool validator: one owner allocates, stamps each object and hands most of
 * them over a channel to remote threads, which check the stamp and free them
 * remotely; the owner frees the rest itself. The pool is small enough that
 * the owner runs dry and must reclaim remote frees. An object handed out
 * while someone still holds it, or changed while held, is an error; at the
 * end the counters must agree with what the threads did.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "inception/chan.h"
#include "inception/pool.h"
#include "lf_stress.h"
#include "lf_stress_priv.h"

struct lf_obj {
  uint64_t stamp;
  uint64_t seq;
  char pad[48];
};

struct pool_ctx {
  const struct lf_pool_params *p;
  struct lf_pool_result *r;
  struct inc_pool *pool;
  struct inc_chan_mesh *m;
  uint8_t *held; /* per object: 1 while someone holds it (atomic) */
  unsigned remotes_left;
  pthread_barrier_t start;
};

struct pool_thread {
  struct pool_ctx *ctx;
  unsigned index; /* mesh worker: 0 is the owner */
  pthread_t tid;
};

static uint64_t lf_stamp(long idx, uint64_t seq) { return ((uint64_t)idx << 32) ^ seq ^ 0xa5a5; }

static void *pool_remote_main(void *arg) {
  struct pool_thread *th = arg;
  struct pool_ctx *ctx = th->ctx;
  struct lf_pool_result *r = ctx->r;
  uint64_t frees = 0, corrupt = 0, bad = 0;
  struct inc_msg in[32];
  struct lf_watch watch;
  int stop = 0;

  inc_chan_worker_bind(ctx->m, th->index);
  pthread_barrier_wait(&ctx->start);
  lf_watch_init(&watch, ctx->p->stall_ms);
  while (!stop) {
    int n = inc_chan_recv_burst(ctx->m, th->index, 0, in, 32);
    for (int i = 0; i < n; i++) {
      struct lf_obj *o = in[i].ptr;
      if (o == NULL) {
        stop = 1;
        continue;
      }
      const long idx = inc_pool_index(ctx->pool, o);
      if (idx < 0 || o->stamp != lf_stamp(idx, o->seq)) {
        corrupt++;
        continue;
      }
      o->stamp = 0; /* the next holder must stamp it again */
      /* Release: our use of the object happens before the owner's exchange
       * of held (acquire) when it hands the object out again. */
      __atomic_store_n(&ctx->held[idx], 0, __ATOMIC_RELEASE);
      if (inc_pool_free_remote(ctx->pool, o) == 0)
        frees++;
      else
        bad++;
    }
    if (lf_watch(&watch, n > 0)) {
      lf_fail(&r->rc, -ETIMEDOUT);
      break;
    }
  }
  /* Release pairs with the owner's acquire wait below. */
  __atomic_fetch_sub(&ctx->remotes_left, 1, __ATOMIC_RELEASE);
  lf_add(&r->remote_frees, frees);
  lf_add(&r->corrupt, corrupt);
  lf_add(&r->stats_mismatch, bad);
  return NULL;
}

static void *pool_owner_main(void *arg) {
  struct pool_thread *th = arg;
  struct pool_ctx *ctx = th->ctx;
  const struct lf_pool_params *p = ctx->p;
  struct lf_pool_result *r = ctx->r;
  uint64_t seed = 42, allocs = 0, nulls = 0, local = 0, dbl = 0, bad = 0;
  struct lf_watch watch;

  inc_pool_bind(ctx->pool);
  inc_chan_worker_bind(ctx->m, 0);
  pthread_barrier_wait(&ctx->start);
  lf_watch_init(&watch, p->stall_ms);
  while (allocs < p->ops) {
    struct lf_obj *o = inc_pool_alloc(ctx->pool);
    if (o == NULL) {
      nulls++;
      if (lf_watch(&watch, 0)) {
        lf_fail(&r->rc, -ETIMEDOUT);
        break;
      }
      continue;
    }
    lf_watch(&watch, 1);
    const long idx = inc_pool_index(ctx->pool, o);
    /* Acquire pairs with the remote's release store of 0. */
    if (idx < 0 || __atomic_exchange_n(&ctx->held[idx], 1, __ATOMIC_ACQUIRE) != 0)
      dbl++;
    o->seq = allocs;
    o->stamp = lf_stamp(idx, allocs);
    allocs++;
    const uint64_t x = lf_rand(&seed);
    struct inc_msg m = inc_msg_packet(o, 0);
    if ((x & 3) == 0 ||
        inc_chan_send(ctx->m, 0, 1 + (unsigned)((x >> 8) % p->remotes), &m) != 0) {
      __atomic_store_n(&ctx->held[idx], 0, __ATOMIC_RELAXED);
      if (inc_pool_free(ctx->pool, o) == 0)
        local++;
      else
        bad++;
    }
  }
  /* Stop the remotes (a NULL object), retrying while their rings are full. */
  for (unsigned i = 1; i <= p->remotes; i++) {
    struct inc_msg stop = inc_msg_packet(NULL, 0);
    while (inc_chan_send(ctx->m, 0, i, &stop) != 0)
      sched_yield();
  }
  /* Acquire pairs with the remotes' release decrements. */
  while (__atomic_load_n(&ctx->remotes_left, __ATOMIC_ACQUIRE) != 0)
    sched_yield();
  inc_pool_reclaim(ctx->pool);
  struct inc_pool_stats st;
  inc_pool_stats_get(ctx->pool, &st);
  r->allocs = allocs;
  r->null_allocs = nulls;
  r->local_frees = local;
  r->double_alloc = dbl;
  r->in_use_after = st.in_use;
  r->high_water = st.high_water;
  r->failures = st.failures;
  lf_add(&r->stats_mismatch, bad + (st.allocs != allocs) + (st.frees != local) +
                                 (st.failures != nulls) + (st.high_water > p->objects));
  return NULL;
}

int lf_stress_pool(const struct lf_pool_params *p, struct lf_pool_result *r) {
  memset(r, 0, sizeof(*r));
  if (p->remotes == 0 || p->remotes > 63 || p->objects == 0)
    return r->rc = -EINVAL;
  struct pool_ctx ctx = {.p = p, .r = r, .remotes_left = p->remotes};
  struct inc_pool_config pc = {"stress", sizeof(struct lf_obj), 64, p->objects};
  struct inc_chan_config cc = {1 + p->remotes, 256, 0, 0};
  size_t plen = inc_pool_footprint(&pc), mlen = inc_chan_mesh_footprint(&cc);
  void *pmem = NULL, *mmem = NULL;
  ctx.held = calloc(p->objects, 1);
  struct pool_thread *th = calloc(1 + p->remotes, sizeof(*th));
  int rc = -ENOMEM;
  if (ctx.held && th && posix_memalign(&pmem, 64, plen) == 0 &&
      posix_memalign(&mmem, 64, mlen) == 0) {
    rc = inc_pool_init(&ctx.pool, pmem, plen, &pc);
    if (rc == 0)
      rc = inc_chan_mesh_init(&ctx.m, mmem, mlen, &cc);
  }
  if (rc == 0) {
    pthread_barrier_init(&ctx.start, NULL, 1 + p->remotes);
    for (unsigned i = 0; i <= p->remotes; i++) {
      th[i].ctx = &ctx;
      th[i].index = i;
      pthread_create(&th[i].tid, NULL, i == 0 ? pool_owner_main : pool_remote_main, &th[i]);
    }
    for (unsigned i = 0; i <= p->remotes; i++)
      pthread_join(th[i].tid, NULL);
    pthread_barrier_destroy(&ctx.start);
    struct inc_pool_stats st;
    inc_pool_stats_get(ctx.pool, &st);
    if (st.remote_frees != r->remote_frees)
      r->stats_mismatch++;
  } else {
    r->rc = rc;
  }
  free(th);
  free(ctx.held);
  free(pmem);
  free(mmem);
  return r->rc;
}
