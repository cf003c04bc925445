/*
 * Flow-table lookups at 1K and 1M entries: lockfree's table through the
 * cds_lfht alone (the lookup before the index, inc_flow_lookup_lfht), through
 * its lookup index one key at a time, in bursts of 32 and with a precomputed
 * hash; DPDK's rte_hash (lock-free readers, single, bulk of 32, with a
 * precomputed hash) and a mutex-protected chained hash table. One reader
 * thread on cpu 1; keys present, looked up in a shuffled order (every lookup
 * lands on a random part of the table; every key once per pass).
 */
#include "bench_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include "inception/flow.h"
#include "inception/rcu.h"

/* ---- mutex-protected chained hash table ------------------------------------ */
struct mh_entry {
  struct inc_flow_key key;
  int owner;
  struct mh_entry *next;
};

struct mutex_hash {
  pthread_mutex_t lock;
  unsigned mask;
  struct mh_entry **bucket;
  struct mh_entry *entries;
};

static void mh_init(struct mutex_hash *h, const struct inc_flow_key *keys, unsigned n) {
  unsigned b = 1;
  while (b < n)
    b <<= 1;
  pthread_mutex_init(&h->lock, NULL);
  h->mask = b - 1;
  h->bucket = calloc(b, sizeof(*h->bucket));
  h->entries = calloc(n, sizeof(*h->entries));
  for (unsigned i = 0; i < n; i++) {
    struct mh_entry *e = &h->entries[i];
    e->key = keys[i];
    e->owner = (int)(i & 7);
    unsigned s = inc_flow_hash(&keys[i], 1) & h->mask;
    e->next = h->bucket[s];
    h->bucket[s] = e;
  }
}

static int mh_lookup(struct mutex_hash *h, const struct inc_flow_key *k) {
  int owner = -1;
  pthread_mutex_lock(&h->lock);
  for (struct mh_entry *e = h->bucket[inc_flow_hash(k, 1) & h->mask]; e; e = e->next)
    if (memcmp(&e->key, k, sizeof(*k)) == 0) {
      owner = e->owner;
      break;
    }
  pthread_mutex_unlock(&h->lock);
  return owner;
}

static void mh_free(struct mutex_hash *h) {
  pthread_mutex_destroy(&h->lock);
  free(h->bucket);
  free(h->entries);
}

/* ---- the runs ------------------------------------------------------------- */
enum {
  F_LFHT, F_INC, F_INC_BURST, F_INC_HASHED, F_RTE, F_RTE_BULK, F_RTE_HASHED, F_MUTEX, F_COUNT
};
static const char *const f_names[F_COUNT] = {
    "inc_flow_lookup_lfht (cds_lfht only)", "inc_flow_lookup (index)",
    "inc_flow_lookup_burst (32)", "inc_flow_lookup_hashed", "rte_hash (LF)",
    "rte_hash bulk (32)", "rte_hash with_hash", "mutex hash"};

struct flow_bench {
  unsigned n;
  unsigned ws; /* lookups cycle over keys[0..ws) */
  struct inc_flow_key *keys; /* shuffled lookup order */
  uint32_t *inc_hash, *rte_sig;
  struct inc_flow_table *t;
  struct rte_hash *rh;
  struct mutex_hash mh;
};

static double flow_once(const struct bench_opts *o, struct flow_bench *fb, int kind,
                        uint64_t lookups) {
  uint64_t sum = 0, miss = 0;
  const unsigned n = fb->ws;
  const uint64_t t0 = o->cpu_time ? bench_thread_ns() : bench_ns();
  if (kind == F_INC_BURST || kind == F_RTE_BULK) {
    /* Bursts of 32 consecutive keys of the shuffled order (ws is a multiple
     * of 8; the last burst of a pass may be shorter). */
    int owners[32];
    const void *kp[32];
    void *data[32];
    for (uint64_t i = 0, j = 0; i < lookups;) {
      const unsigned b = n - j < 32 ? (unsigned)(n - j) : 32;
      if (kind == F_INC_BURST) {
        miss += b - inc_flow_lookup_burst(fb->t, &fb->keys[j], b, owners);
        for (unsigned q = 0; q < b; q++)
          sum += (unsigned)owners[q];
      } else {
        uint64_t hits = 0;
        for (unsigned q = 0; q < b; q++)
          kp[q] = &fb->keys[j + q];
        miss += b - (unsigned)rte_hash_lookup_bulk_data(fb->rh, kp, b, &hits, data);
        for (unsigned q = 0; q < b; q++)
          sum += (hits >> q & 1) ? (unsigned)(uintptr_t)data[q] : 0;
      }
      i += b;
      j = j + b == n ? 0 : j + b;
      if ((i & 1023) < b && kind == F_INC_BURST)
        inc_rcu_quiescent();
    }
  }
  for (uint64_t i = 0, j = 0; kind != F_INC_BURST && kind != F_RTE_BULK && i < lookups;
       i++, j = j + 1 == n ? 0 : j + 1) {
    const struct inc_flow_key *k = &fb->keys[j];
    int owner;
    void *data;
    switch (kind) {
    case F_LFHT:
      owner = inc_flow_lookup_lfht(fb->t, k);
      break;
    case F_INC:
      owner = inc_flow_lookup(fb->t, k);
      break;
    case F_INC_HASHED:
      owner = inc_flow_lookup_hashed(fb->t, k, fb->inc_hash[j]);
      break;
    case F_RTE:
      owner = rte_hash_lookup_data(fb->rh, k, &data) >= 0 ? (int)(uintptr_t)data : -1;
      break;
    case F_RTE_HASHED:
      owner = rte_hash_lookup_with_hash_data(fb->rh, k, fb->rte_sig[j], &data) >= 0
                  ? (int)(uintptr_t)data
                  : -1;
      break;
    default:
      owner = mh_lookup(&fb->mh, k);
      break;
    }
    miss += owner < 0;
    sum += (unsigned)owner;
    if ((i & 1023) == 0 && kind <= F_INC_HASHED)
      inc_rcu_quiescent(); /* as a worker does once per poll loop */
  }
  const uint64_t t1 = o->cpu_time ? bench_thread_ns() : bench_ns();
  if (miss)
    fprintf(stderr, "bench-lockfree: %s missed %llu present keys\n", f_names[kind],
            (unsigned long long)miss);
  __asm__ volatile("" : : "r"(sum));
  return (double)(t1 - t0) / (double)lookups;
}

static void flow_key(struct inc_flow_key *k, unsigned i) {
  inc_flow_key_v4(k, 6, (uint16_t)(i & 3), 0xc6120001u, (uint16_t)(1024 + (i % 50000)),
                  0xc6130000u + (i / 50000) * 7919u, (uint16_t)(i * 2654435761u >> 16));
}

/* n entries; lookups over a random working set of ws of them (ws == n: all). */
static void flow_size(const struct bench_opts *o, unsigned n, unsigned ws) {
  struct flow_bench fb = {.n = n, .ws = ws};
  fb.keys = malloc((size_t)n * sizeof(*fb.keys));
  fb.inc_hash = malloc((size_t)n * sizeof(uint32_t));
  fb.rte_sig = malloc((size_t)n * sizeof(uint32_t));
  for (unsigned i = 0; i < n; i++)
    flow_key(&fb.keys[i], i);

  /* lockfree's table, sized for n (it would grow by itself too) */
  unsigned buckets = 1;
  while (buckets < n)
    buckets <<= 1;
  struct inc_flow_config cfg = {1, n, buckets, 0, 1, NULL, 1};
  size_t len = inc_flow_table_footprint(&cfg);
  void *mem = NULL;
  /* The caller's memory: 2 MiB aligned and advised for transparent huge
   * pages when asked to (--thp), as a deployment would give it hugepage
   * memory; every lookup touches a random entry, and with 4 KiB pages that
   * is a TLB miss (a two-dimensional page walk in a VM). */
  if (posix_memalign(&mem, 2u << 20, len) != 0)
    exit(1);
  if (o->thp)
    (void)madvise(mem, len, MADV_HUGEPAGE);
  if (inc_flow_table_init(&fb.t, mem, len, &cfg) != 0)
    exit(1);
  inc_rcu_register();
  inc_flow_core_bind(fb.t, 0);
  for (unsigned i = 0; i < n; i++)
    if (inc_flow_insert(fb.t, 0, &fb.keys[i], 0) != 0)
      exit(1);

  struct rte_hash_parameters hp = {
      .name = n > 1000 ? "bench_flow_big" : "bench_flow_small",
      .entries = n + n / 4 + 64,
      .key_len = sizeof(struct inc_flow_key),
      .hash_func = rte_hash_crc,
      .hash_func_init_val = 0,
      .socket_id = 0,
      .extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
  };
  fb.rh = rte_hash_create(&hp);
  if (fb.rh == NULL) {
    fprintf(stderr, "bench-lockfree: rte_hash_create: %s\n", rte_strerror(rte_errno));
    exit(1);
  }
  for (unsigned i = 0; i < n; i++)
    if (rte_hash_add_key_data(fb.rh, &fb.keys[i], (void *)(uintptr_t)(i & 7)) != 0)
      exit(1);
  mh_init(&fb.mh, fb.keys, n);

  /* Shuffled lookup order; hashes precomputed for the _hashed variants. */
  uint64_t s = 88172645463325252ULL;
  for (unsigned i = n - 1; i > 0; i--) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    unsigned j = (unsigned)(s % (i + 1));
    struct inc_flow_key tmp = fb.keys[i];
    fb.keys[i] = fb.keys[j];
    fb.keys[j] = tmp;
  }
  for (unsigned i = 0; i < n; i++) {
    fb.inc_hash[i] = inc_flow_table_hash(fb.t, &fb.keys[i]);
    fb.rte_sig[i] = rte_hash_hash(fb.rh, &fb.keys[i]);
  }

  const uint64_t lookups = o->lookups > 2ull * ws ? o->lookups : 2ull * ws;
  double best[F_COUNT], v[F_COUNT][99];
  for (int k = 0; k < F_COUNT; k++)
    flow_once(o, &fb, k, ws); /* warm-up pass */
  /* Runs interleave the kinds, so that a busy spell of the machine is spread
   * over all of them rather than landing on one. */
  for (unsigned r = 0; r < o->runs; r++)
    for (int k = 0; k < F_COUNT; k++)
      v[k][r] = flow_once(o, &fb, k, lookups);
  for (int k = 0; k < F_COUNT; k++)
    best[k] = bench_best(v[k], o->runs);
  if (ws == n)
    printf("| %7u, all |", n);
  else
    printf("| %7u, %u hot |", n, ws);
  for (int k = 0; k < F_COUNT; k++)
    printf(" %.1f ns (%.2fx) |", best[k], best[k] / best[F_LFHT]);
  printf("\n");
  if (o->medians) {
    printf("| median of %u |", o->runs);
    for (int k = 0; k < F_COUNT; k++) {
      const double m = bench_median(v[k], o->runs);
      printf(" %.1f ns |", m);
    }
    printf("\n");
  }

  inc_rcu_offline();
  inc_rcu_online();
  inc_flow_table_destroy(fb.t);
  inc_rcu_unregister();
  free(mem);
  rte_hash_free(fb.rh);
  mh_free(&fb.mh);
  free(fb.keys);
  free(fb.inc_hash);
  free(fb.rte_sig);
}

void bench_flow(const struct bench_opts *o) {
  bench_pin(1);
  printf("Flow-table lookup, one reader on cpu 1, present keys in shuffled order, "
         "ns per lookup (%s)\n| entries, keys looked up |",
         o->cpu_time ? "the thread's CPU time" : "wall clock");
  for (int k = 0; k < F_COUNT; k++)
    printf(" %s |", f_names[k]);
  printf("\n|------------------------:|");
  for (int k = 0; k < F_COUNT; k++)
    printf("------:|");
  printf("\n");
  flow_size(o, 1000, 1000);
  flow_size(o, 1000000, 1000000);
  /* Traffic concentrates on the flows that are active now: the same table,
   * with lookups over a random 16K of its flows. */
  flow_size(o, 1000000, 16384);
  printf("(in parentheses: time relative to inc_flow_lookup_lfht, the cds_lfht lookup "
         "without the index)\n\n");
}
