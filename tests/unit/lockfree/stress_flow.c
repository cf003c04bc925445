/*
 * Flow-table validator: writer cores insert and remove their own keys round
 * after round, reader threads look up stable and churning keys, and a resizer
 * thread forces the table to grow and shrink, all at once.
 *
 * Every key's owner is a function of the key, so any hit can be checked
 * without coordination: a reader may miss a churning key or find it, but
 * never with another owner; stable keys are always found; a writer always
 * finds its own key after inserting it and never after removing it. At the
 * end every removed entry must be back in its pool (no leak, no double free).
 *
 * Options: readers look up in bursts (inc_flow_lookup_burst); "contested"
 * keys that every writer inserts and removes at random, so that a remove
 * often meets an insert of the same key still under way on another core; a
 * narrow hash (64 values) that fills index lines and makes unequal keys
 * share a hash, so lookups fall back to the cds_lfht. At the end, with every
 * thread stopped, single, burst and cds_lfht-only lookups must agree on every
 * key ever used.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "inception/flow.h"
#include "inception/rcu.h"
#include "lf_stress.h"
#include "lf_stress_priv.h"

#define LF_PROTO_TCP 6

/* Stable key i: writer index 0xffff; churn key i of writer w: writer w. */
static void lf_flow_key(struct inc_flow_key *k, unsigned writer, unsigned i) {
  if (i % 3 == 2) {
    uint8_t la[16] = {0x20, 0x01, 0x0d, 0xb8}, ra[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff};
    memcpy(&la[8], &i, sizeof(i));
    memcpy(&ra[8], &writer, sizeof(writer));
    inc_flow_key_v6(k, LF_PROTO_TCP, (uint16_t)(writer & 7), la, (uint16_t)(i * 7), ra,
                    (uint16_t)writer);
  } else {
    inc_flow_key_v4(k, (i & 1) ? 17 : LF_PROTO_TCP, (uint16_t)(writer & 7),
                    0xc6120001u + (writer << 16), (uint16_t)(i & 0xffff), 0xc6130000u + i,
                    (uint16_t)(writer ^ (i >> 16)));
  }
}

static uint16_t lf_flow_owner(unsigned writer, unsigned i, unsigned cores) {
  return (uint16_t)((writer * 31u + i) % cores);
}

#define LF_STABLE 0xffffu
#define LF_CONTESTED 0xfffeu

static uint32_t lf_flow_narrow_hash(const struct inc_flow_key *k, uint64_t seed) {
  return inc_flow_hash(k, seed) & 0x3fu;
}

struct flow_ctx {
  const struct lf_flow_params *p;
  struct lf_flow_result *r;
  struct inc_flow_table *t;
  unsigned cores;        /* writers, or 1 when there are none */
  unsigned writers_left; /* atomic */
  pthread_barrier_t start;
};

struct flow_thread {
  struct flow_ctx *ctx;
  unsigned index;
  pthread_t tid;
};

/* One random insert or remove of a contested key by writer `self`: any
 * writer may have inserted or removed it meanwhile. Returns 1 on an answer
 * that no interleaving explains. */
static unsigned flow_contest(struct flow_ctx *ctx, unsigned self, uint64_t *seed) {
  const uint64_t x = lf_rand(seed);
  const unsigned j = (unsigned)((x >> 8) % ctx->p->contested);
  struct inc_flow_key k;
  lf_flow_key(&k, LF_CONTESTED, j);
  if (x & 1) {
    const int rc = inc_flow_insert(ctx->t, self, &k, lf_flow_owner(LF_CONTESTED, j, ctx->cores));
    if (rc == -ENOMEM) {
      inc_flow_reclaim(ctx->t, self);
      return 0;
    }
    return rc != 0 && rc != -EEXIST;
  }
  const int rc = inc_flow_remove(ctx->t, self, &k);
  return rc != 0 && rc != -ENOENT;
}

static void *flow_writer_main(void *arg) {
  struct flow_thread *th = arg;
  struct flow_ctx *ctx = th->ctx;
  const struct lf_flow_params *p = ctx->p;
  struct lf_flow_result *r = ctx->r;
  const unsigned self = th->index;
  uint64_t ins = 0, rem = 0, bad = 0, nomem = 0, own_miss = 0, wrong = 0;
  uint64_t seed = 0xc0ffee + self;
  struct inc_flow_key k;
  struct lf_watch watch;

  inc_rcu_register();
  inc_flow_core_bind(ctx->t, self);
  inc_rcu_offline();
  pthread_barrier_wait(&ctx->start);
  inc_rcu_online();
  lf_watch_init(&watch, p->stall_ms);
  for (unsigned round = 0; round < p->rounds && !lf_failed(&r->rc); round++) {
    for (unsigned i = 0; i < p->churn_keys; i++) {
      lf_flow_key(&k, self, i);
      const uint16_t owner = lf_flow_owner(self, i, ctx->cores);
      int rc;
      while ((rc = inc_flow_insert(ctx->t, self, &k, owner)) == -ENOMEM) {
        /* Entries wait for a grace period: hand them over, let it pass. */
        nomem++;
        inc_flow_reclaim(ctx->t, self);
        inc_rcu_quiescent();
        if (lf_watch(&watch, 0)) {
          lf_fail(&r->rc, -ETIMEDOUT);
          break;
        }
      }
      if (rc == 0) {
        ins++;
        lf_watch(&watch, 1);
      } else {
        bad++;
      }
      int got = inc_flow_lookup(ctx->t, &k);
      if (got < 0)
        own_miss++;
      else if (got != owner)
        wrong++;
      if (p->contested)
        bad += flow_contest(ctx, self, &seed);
      if ((i & 63) == 0)
        inc_rcu_quiescent();
    }
    for (unsigned i = 0; i < p->churn_keys; i++) {
      lf_flow_key(&k, self, i);
      if (inc_flow_remove(ctx->t, self, &k) == 0)
        rem++;
      else
        bad++;
      if (inc_flow_lookup(ctx->t, &k) != -ENOENT)
        bad++;
      if (p->contested)
        bad += flow_contest(ctx, self, &seed);
      if ((i & 63) == 0) {
        inc_flow_reclaim(ctx->t, self);
        inc_rcu_quiescent();
      }
    }
    inc_flow_reclaim(ctx->t, self);
    inc_rcu_quiescent();
  }
  __atomic_fetch_sub(&ctx->writers_left, 1, __ATOMIC_RELEASE);
  inc_rcu_unregister();
  lf_add(&r->inserts, ins);
  lf_add(&r->removes, rem);
  lf_add(&r->unexpected_rc, bad);
  lf_add(&r->nomem_retries, nomem);
  lf_add(&r->own_misses, own_miss);
  lf_add(&r->wrong_owner, wrong);
  return NULL;
}

/* Checks a reader's answer for key (writer, i). */
static void flow_check(const struct flow_ctx *ctx, unsigned writer, unsigned i, int got,
                       uint64_t *miss, uint64_t *wrong, uint64_t *ghost) {
  const struct lf_flow_params *p = ctx->p;
  if (writer == LF_STABLE) {
    if (p->stable_keys == 0)
      return;
    if (got < 0)
      (*miss)++;
    else if (got != lf_flow_owner(writer, i, ctx->cores))
      (*wrong)++;
  } else if (got >= 0) {
    if (writer != LF_CONTESTED && i >= p->churn_keys)
      (*ghost)++;
    else if (got != lf_flow_owner(writer, i, ctx->cores))
      (*wrong)++;
  }
}

static void *flow_reader_main(void *arg) {
  struct flow_thread *th = arg;
  struct flow_ctx *ctx = th->ctx;
  const struct lf_flow_params *p = ctx->p;
  struct lf_flow_result *r = ctx->r;
  uint64_t seed = 0x1234567ULL + th->index, lookups = 0, miss = 0, wrong = 0, ghost = 0;
  enum { LF_BURST_MAX = 64 };
  struct inc_flow_key k[LF_BURST_MAX];
  unsigned kw[LF_BURST_MAX], ki[LF_BURST_MAX];
  int owners[LF_BURST_MAX];
  const unsigned burst = p->burst > LF_BURST_MAX ? LF_BURST_MAX : p->burst ? p->burst : 1;

  inc_rcu_register();
  inc_rcu_offline();
  pthread_barrier_wait(&ctx->start);
  inc_rcu_online();
  /* At least one pass even if the writers finished before we ran. Acquire
   * pairs with the writers' release decrements. */
  do {
    for (unsigned j = 0; j < 256; j += burst) {
      for (unsigned q = 0; q < burst; q++) {
        const uint64_t x = lf_rand(&seed);
        unsigned writer, i;
        if (p->writers == 0 || (x & 1)) {
          writer = LF_STABLE;
          i = (unsigned)((x >> 8) % (p->stable_keys ? p->stable_keys : 1));
        } else if (p->contested && (x & 6) == 0) {
          writer = LF_CONTESTED;
          i = (unsigned)((x >> 8) % p->contested);
        } else {
          writer = (unsigned)((x >> 8) % p->writers);
          /* Half of the probes name keys no writer ever inserts. */
          i = (unsigned)((x >> 24) % (2 * (p->churn_keys ? p->churn_keys : 1)));
        }
        lf_flow_key(&k[q], writer, i);
        kw[q] = writer;
        ki[q] = i;
      }
      if (burst == 1)
        owners[0] = inc_flow_lookup(ctx->t, &k[0]);
      else
        (void)inc_flow_lookup_burst(ctx->t, k, burst, owners);
      lookups += burst;
      for (unsigned q = 0; q < burst; q++)
        flow_check(ctx, kw[q], ki[q], owners[q], &miss, &wrong, &ghost);
    }
    inc_rcu_quiescent();
  } while (__atomic_load_n(&ctx->writers_left, __ATOMIC_ACQUIRE) != 0);
  inc_rcu_unregister();
  lf_add(&r->lookups, lookups);
  lf_add(&r->stable_misses, miss);
  lf_add(&r->wrong_owner, wrong);
  lf_add(&r->ghost_hits, ghost);
  return NULL;
}

static void *flow_resizer_main(void *arg) {
  struct flow_thread *th = arg;
  struct flow_ctx *ctx = th->ctx;
  static const unsigned long sizes[] = {1u << 14, 16, 1u << 10, 64, 1u << 16, 256};
  uint64_t n = 0;

  inc_rcu_register();
  inc_rcu_offline();
  pthread_barrier_wait(&ctx->start);
  inc_rcu_online();
  /* At least one resize; acquire pairs with the writers' release decrements. */
  do {
    if (inc_flow_resize(ctx->t, sizes[n % (sizeof(sizes) / sizeof(sizes[0]))]) != 0)
      lf_add(&ctx->r->unexpected_rc, 1);
    n++;
    inc_rcu_quiescent();
    sched_yield();
  } while (__atomic_load_n(&ctx->writers_left, __ATOMIC_ACQUIRE) != 0);
  inc_rcu_unregister();
  lf_add(&ctx->r->resizes, n);
  return NULL;
}

/* With every thread stopped: keys whose single, burst and cds_lfht-only
 * lookups differ, over every key the run used (and as many never used). */
static uint64_t flow_index_check(const struct flow_ctx *ctx) {
  const struct lf_flow_params *p = ctx->p;
  uint64_t bad = 0;
  struct inc_flow_key k[32];
  int owners[32], single[32];
  unsigned n = 0;
  for (unsigned pass = 0; pass < 3; pass++) {
    const unsigned writers = pass == 0 ? 1 : pass == 1 ? (p->contested ? 1 : 0) : p->writers;
    for (unsigned w = 0; w < writers; w++) {
      const unsigned writer = pass == 0 ? LF_STABLE : pass == 1 ? LF_CONTESTED : w;
      const unsigned count = 2 * (pass == 0 ? p->stable_keys : pass == 1 ? p->contested : p->churn_keys);
      for (unsigned i = 0; i < count; i++) {
        lf_flow_key(&k[n], writer, i);
        single[n] = inc_flow_lookup(ctx->t, &k[n]);
        bad += single[n] != inc_flow_lookup_lfht(ctx->t, &k[n]);
        if (++n == 32 || i + 1 == count) {
          (void)inc_flow_lookup_burst(ctx->t, k, n, owners);
          for (unsigned q = 0; q < n; q++)
            bad += owners[q] != single[q];
          n = 0;
        }
      }
    }
  }
  return bad;
}

int lf_stress_flow(const struct lf_flow_params *p, struct lf_flow_result *r) {
  memset(r, 0, sizeof(*r));
  /* A table resizes itself or is resized by hand (inc_flow_resize). */
  if (p->writers > 64 || p->writers + p->readers == 0 || (p->resizer && p->auto_resize))
    return r->rc = -EINVAL;
  struct flow_ctx ctx = {.p = p, .r = r};
  ctx.cores = p->writers ? p->writers : 1;
  /* Core 0 also holds the stable keys; room for a few batches in flight. */
  struct inc_flow_config cfg = {
      .cores = ctx.cores,
      .entries_per_core = p->stable_keys + p->churn_keys + p->contested + 2048,
      .init_buckets = p->init_buckets ? p->init_buckets : 16,
      .max_buckets = 0,
      .auto_resize = p->auto_resize,
      .hash = p->narrow_hash ? lf_flow_narrow_hash : NULL,
      .seed = 0x5eed,
  };
  size_t len = inc_flow_table_footprint(&cfg);
  void *mem = NULL;
  if (len == 0 || posix_memalign(&mem, 64, len) != 0)
    return r->rc = -ENOMEM;
  int rc = inc_flow_table_init(&ctx.t, mem, len, &cfg);
  if (rc != 0) {
    free(mem);
    return r->rc = rc;
  }

  /* Stable keys, inserted by "core 0" before its worker starts. */
  inc_rcu_register();
  struct inc_flow_key k;
  for (unsigned i = 0; i < p->stable_keys; i++) {
    lf_flow_key(&k, LF_STABLE, i);
    if (inc_flow_insert(ctx.t, 0, &k, lf_flow_owner(LF_STABLE, i, ctx.cores)) != 0)
      r->unexpected_rc++;
  }
  inc_rcu_offline();

  const unsigned n = p->writers + p->readers + (p->resizer ? 1 : 0);
  struct flow_thread *th = calloc(n, sizeof(*th));
  ctx.writers_left = p->writers ? p->writers : 1; /* readers alone: main ends the run */
  pthread_barrier_init(&ctx.start, NULL, n);
  for (unsigned i = 0; i < n; i++) {
    th[i].ctx = &ctx;
    th[i].index = i < p->writers ? i : i - p->writers;
    void *(*fn)(void *) = i < p->writers ? flow_writer_main
                          : i < p->writers + p->readers ? flow_reader_main
                                                        : flow_resizer_main;
    pthread_create(&th[i].tid, NULL, fn, &th[i]);
  }
  if (p->writers == 0) {
    /* Readers alone: let them run for a while. */
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  for (unsigned i = 0; i < n; i++) {
    if (p->writers == 0 && i == 0)
      __atomic_store_n(&ctx.writers_left, 0, __ATOMIC_RELEASE);
    pthread_join(th[i].tid, NULL);
  }
  pthread_barrier_destroy(&ctx.start);
  free(th);

  /* Every removed entry back home: submit the last open batches (as their
   * core, now that its worker is gone) and wait for the callbacks. */
  inc_rcu_online();
  r->final_count = inc_flow_count(ctx.t);
  for (unsigned j = 0; j < p->contested; j++) {
    lf_flow_key(&k, LF_CONTESTED, j);
    r->contested_present += inc_flow_lookup_lfht(ctx.t, &k) >= 0;
  }
  r->expected_count = p->stable_keys + r->contested_present;
  r->index_mismatch = flow_index_check(&ctx);
  for (unsigned pass = 0; pass < 4; pass++) {
    for (unsigned c = 0; c < ctx.cores; c++) {
      inc_flow_core_bind(ctx.t, c);
      inc_flow_reclaim(ctx.t, c);
    }
    inc_rcu_barrier();
  }
  for (unsigned c = 0; c < ctx.cores; c++)
    inc_flow_reclaim(ctx.t, c);
  struct inc_flow_stats st;
  inc_flow_stats_get(ctx.t, &st);
  r->stats_inserted = st.inserted;
  r->stats_removed = st.removed;
  r->stats_reclaimed = st.reclaimed;
  /* Entries in use must be exactly the stable ones (all inserted by core 0). */
  r->leaked = st.entries_in_use - p->stable_keys - r->contested_present;
  r->stats_index_overflows = st.index_overflows;
  r->stats_index_handoffs = st.index_handoffs;
  if (inc_flow_table_destroy(ctx.t) != 0)
    r->unexpected_rc++;
  inc_rcu_unregister();
  free(mem);
  return r->rc;
}
