/*
 * Compile-time limits and defaults of the lock-free plumbing (lockfree/), in
 * the style of lwIP's opt.h: every value can be overridden by defining it
 * before this header is included (or with -D). Run-time sizes come from the
 * config structs of chan.h, flow.h, listen.h and pool.h; the values here only
 * bound them or fill in a field left 0.
 */
#ifndef INC_LOCKFREE_OPTS_H
#define INC_LOCKFREE_OPTS_H

/** Most worker cores a channel mesh or flow table can have. */
#ifndef INC_LF_MAX_WORKERS
#define INC_LF_MAX_WORKERS 64
#endif

/** Most application endpoints (non-worker threads) a channel mesh can have. */
#ifndef INC_CHAN_MAX_APPS
#define INC_CHAN_MAX_APPS 256
#endif

/** Slots of a worker-to-worker ring when inc_chan_config.ring_size is 0.
 *  A ring of n slots holds n - 1 messages (ck_ring keeps one slot empty). */
#ifndef INC_CHAN_RING_SIZE_DEFAULT
#define INC_CHAN_RING_SIZE_DEFAULT 1024
#endif

/** Slots of each application lane ring when inc_chan_config.app_ring_size is 0. */
#ifndef INC_CHAN_APP_RING_SIZE_DEFAULT
#define INC_CHAN_APP_RING_SIZE_DEFAULT 256
#endif

/** Largest ring a channel accepts (slots). */
#ifndef INC_CHAN_RING_SIZE_MAX
#define INC_CHAN_RING_SIZE_MAX (1u << 24)
#endif

/** Initial bucket count of a flow table when inc_flow_config.init_buckets is 0. */
#ifndef INC_FLOW_INIT_BUCKETS_DEFAULT
#define INC_FLOW_INIT_BUCKETS_DEFAULT 1024
#endif

/** Removed flow entries a core collects before it hands them to call_rcu as
 *  one batch (one grace-period callback per batch, not per entry). */
#ifndef INC_FLOW_RETIRE_BATCH
#define INC_FLOW_RETIRE_BATCH 64
#endif

/** Retire batches a core can have waiting for a grace period at once; when
 *  all are in flight, removed entries accumulate in the open batch. */
#ifndef INC_FLOW_RETIRE_SLOTS
#define INC_FLOW_RETIRE_SLOTS 8
#endif

/** Flow-table index load: the lookup index (flow_index.c) gets one 64-byte
 *  line of 7 slots per this many entries of the table's capacity (cores x
 *  entries_per_core), rounded up to a power of two: 64 / this many bytes per
 *  entry, up to twice that after rounding. At 2 a full table has 1-2 entries
 *  per line on average, and about 1 entry in 1,500 (2 per line) to 1 in
 *  87,000 (1 per line) overflows its line (then its lookups go to the
 *  cds_lfht). */
#ifndef INC_FLOW_INDEX_LOAD
#define INC_FLOW_INDEX_LOAD 2
#endif

/** Largest object a pool accepts (bytes) and largest alignment. */
#ifndef INC_POOL_OBJ_SIZE_MAX
#define INC_POOL_OBJ_SIZE_MAX (1u << 20)
#endif
#ifndef INC_POOL_ALIGN_MAX
#define INC_POOL_ALIGN_MAX 4096u
#endif

/** Most objects in one pool. */
#ifndef INC_POOL_COUNT_MAX
#define INC_POOL_COUNT_MAX (1u << 28)
#endif

#endif /* INC_LOCKFREE_OPTS_H */
