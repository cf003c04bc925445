/*
 * Multi-thread validators of lockfree/, in the style of ConcurrencyKit's
 * regressions: each driver starts its threads, runs them to completion and
 * fills a result the caller checks. Thread counts and sizes are parameters;
 * the C programs validate_*.c take them from argv, the GoogleTest suites
 * (tests/unit/lockfree_*_test.cc) from their parameter tables.
 *
 * Threads may outnumber the cores (the CI machine has 2): every wait loop
 * yields the CPU when it makes no progress, and reports a stall instead of
 * hanging when nothing moves for stall_ms.
 */
#ifndef INC_LF_STRESS_H
#define INC_LF_STRESS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Divides sizes in sanitizer builds: the INC_LF_SCALE environment variable
 * (set by tests/unit/lockfree.cmake), 1 when unset. */
unsigned lf_scale(void);
/* n / lf_scale(), at least min. */
unsigned lf_scaled(unsigned n, unsigned min);

/* ---- one ring: ck_ring's own SPSC functions and lockfree's burst functions
 * interleaved at random on one ring (single thread). 0 when they agree. */
int lf_ring_interop(unsigned iterations, unsigned size);

/* ---- worker mesh: every worker sends to every other one ----------------- */
struct lf_mesh_params {
  unsigned workers;       /* 2..64 */
  unsigned msgs_per_pair; /* messages each worker sends each other worker */
  unsigned ring_size;     /* slots per ring (power of two) */
  unsigned max_burst;     /* bursts of 1..max_burst */
  int mix_single;         /* also use ck_ring's single enqueue/dequeue */
  unsigned stall_ms;
};

struct lf_mesh_result {
  int rc; /* 0, or -errno of setup, or -ETIMEDOUT on a stall */
  uint64_t sent, received;
  uint64_t out_of_order, duplicates, lost, wrong_src, wrong_type;
  uint64_t stats_sent, stats_received, stats_refused, stats_full_events;
  uint64_t refused_seen; /* messages the senders saw refused (short counts) */
};

int lf_stress_mesh(const struct lf_mesh_params *p, struct lf_mesh_result *r);

/* ---- application lanes: apps send commands, workers complete them -------- */
struct lf_lanes_params {
  unsigned workers;      /* 1..64 */
  unsigned apps;         /* application threads, 1..256 */
  unsigned cmds_per_app; /* commands each app sends (spread over the workers) */
  unsigned lane_size;    /* slots per lane ring */
  unsigned max_burst;
  int sleep;             /* apps sleep in inc_chan_app_wait when idle */
  unsigned stall_ms;
};

struct lf_lanes_result {
  int rc;
  uint64_t cmds_sent, cmds_seen, completions;
  uint64_t out_of_order;   /* a worker saw an app's commands out of order */
  uint64_t wrong_src;      /* src of a command is not its app */
  uint64_t dup_completion; /* a command completed twice */
  uint64_t missing;        /* commands never completed */
  uint64_t wrong_status;
  uint64_t cpl_out_of_order; /* completions from one worker out of command order */
  uint64_t waits, wait_timeouts; /* sleeps, and sleeps that ran into the timeout */
  uint64_t detach_failures;
};

int lf_stress_lanes(const struct lf_lanes_params *p, struct lf_lanes_result *r);

/* ---- flow table: writers churn, readers look up, a thread resizes -------- */
struct lf_flow_params {
  unsigned writers;         /* worker cores inserting/removing their own keys */
  unsigned readers;         /* lookup-only threads */
  unsigned stable_keys;     /* inserted before the run, never removed */
  unsigned churn_keys;      /* per writer, inserted and removed every round */
  unsigned rounds;
  unsigned init_buckets;
  int auto_resize;          /* the table grows and shrinks by itself */
  int resizer;              /* a thread forcing resizes (only without auto_resize) */
  unsigned stall_ms;
  unsigned burst;           /* readers look keys up in bursts of this many (0, 1: one by one) */
  unsigned contested;       /* keys every writer inserts and removes at random (races) */
  int narrow_hash;          /* a hash with 64 values: full index lines, equal hashes */
};

struct lf_flow_result {
  int rc;
  uint64_t lookups, stable_misses, wrong_owner, own_misses, ghost_hits;
  uint64_t inserts, removes, unexpected_rc, nomem_retries, resizes;
  uint64_t final_count, expected_count;
  uint64_t stats_inserted, stats_removed, stats_reclaimed;
  uint64_t leaked; /* entries still in use in the pools beyond the stable and contested keys */
  uint64_t contested_present; /* contested keys in the table at the end */
  uint64_t index_mismatch; /* at the end: keys whose lookup, burst lookup and cds_lfht lookup differ */
  uint64_t stats_index_overflows, stats_index_handoffs;
};

int lf_stress_flow(const struct lf_flow_params *p, struct lf_flow_result *r);

/* ---- pool: the owner allocates, other threads free remotely -------------- */
struct lf_pool_params {
  unsigned remotes;  /* threads that get objects from the owner and free them */
  unsigned objects;  /* pool size */
  unsigned ops;      /* allocations the owner makes in all */
  unsigned stall_ms;
};

struct lf_pool_result {
  int rc;
  uint64_t allocs, null_allocs, local_frees, remote_frees;
  uint64_t double_alloc;   /* an object handed out while still held */
  uint64_t corrupt;        /* an object's contents changed while held */
  uint64_t stats_mismatch; /* counters disagree with what the threads did */
  uint64_t in_use_after, high_water, failures;
};

int lf_stress_pool(const struct lf_pool_params *p, struct lf_pool_result *r);

#ifdef __cplusplus
}
#endif

#endif /* INC_LF_STRESS_H */
