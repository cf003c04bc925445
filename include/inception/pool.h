/*
 * Per-core fixed-size object pools.
 *
 * A pool hands out objects of one size from caller memory, sized once from
 * its config: alloc and free are O(1) and touch only the owner's cache lines
 * (a LIFO index stack, so the most recently freed, cache-hot object comes back
 * first). Exhaustion is an answer, not a crash: NULL and a counted failure.
 * Any thread may give an object back with inc_pool_free_remote() (a lock-free
 * push, never waiting for another thread); the owner takes those back in one
 * swap when its free list runs dry, or in inc_pool_reclaim().
 *
 * These pools will back lwIP's typed memp hook: one pool per memp type per
 * core, so a core's allocations never leave the core and never touch the heap.
 *
 * Checked builds (Debug, ASan, TSan) abort when a bound pool's owner-only
 * function runs on another thread; ASan builds poison free objects, so a use
 * after free of a pooled object is reported like a heap one.
 *
 * RCU: no function here needs an RCU read-side section.
 */
#ifndef INC_POOL_H
#define INC_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "inception/lockfree_opts.h"

#ifdef __cplusplus
extern "C" {
#endif

struct inc_pool_config {
  const char *name;  /**< for diagnostics; may be NULL; not copied, must outlive the pool */
  size_t obj_size;   /**< bytes per object, 1..INC_POOL_OBJ_SIZE_MAX */
  size_t obj_align;  /**< power of two up to INC_POOL_ALIGN_MAX; 0: 16 */
  unsigned count;    /**< objects, 1..INC_POOL_COUNT_MAX */
};

struct inc_pool_stats {
  uint64_t in_use;       /**< objects not on the owner's free list (remote frees not yet reclaimed count as in use) */
  uint64_t high_water;   /**< largest in_use seen */
  uint64_t failures;     /**< allocations refused: the pool was empty */
  uint64_t allocs;       /**< successful allocations */
  uint64_t frees;        /**< objects the owner freed */
  uint64_t remote_frees; /**< objects other threads freed (reclaimed or not) */
  unsigned capacity;     /**< config count */
};

struct inc_pool;

/**
 * Bytes of caller memory a pool with this configuration needs (header, index
 * arrays and objects).
 * Thread: any. Returns: the size, or 0 if cfg is invalid.
 */
size_t inc_pool_footprint(const struct inc_pool_config *cfg);

/**
 * Builds a pool in caller memory with every object free.
 * Thread: control plane, before the owner uses it (publish with a release).
 * Ownership: mem stays the caller's and must outlive the pool; nothing is
 *   allocated, so there is no destroy.
 * RCU: none.
 * Returns: 0; -EINVAL (NULL argument, bad field, or mem not aligned to
 *   max(64, obj_align)); -ENOSPC (len < inc_pool_footprint(cfg)).
 */
int inc_pool_init(struct inc_pool **out, void *mem, size_t len, const struct inc_pool_config *cfg);

/**
 * Makes the calling thread the pool's owner (checked builds then assert it in
 * every owner-only call). Thread: the future owner. Returns: 0.
 */
int inc_pool_bind(struct inc_pool *p);

/**
 * Takes one object (its contents are whatever the last user left).
 * Thread: the owner. O(1); reclaims remote frees when the free list is empty.
 * Ownership: the object is the caller's until it frees it.
 * Returns: the object, or NULL when the pool is empty (counted in failures).
 */
void *inc_pool_alloc(struct inc_pool *p);

/**
 * Gives an object back to the owner's free list.
 * Thread: the owner. O(1).
 * Returns: 0; -EINVAL (obj is not an object of p: out of range or not at an
 *   object boundary); -EALREADY (obj is already free: a double free).
 */
int inc_pool_free(struct inc_pool *p, void *obj);

/**
 * Gives an object back from a thread that is not the owner: a lock-free push
 * that never waits for another thread (a compare-and-swap loop that can only
 * retry when another free succeeded). The object is reusable once the owner
 * reclaims it.
 * Thread: any. Ownership: obj is the pool's from now on.
 * Returns: 0; -EINVAL (not an object of p); -EALREADY (not in use).
 */
int inc_pool_free_remote(struct inc_pool *p, void *obj);

/**
 * Moves every remotely freed object back to the free list.
 * Thread: the owner (e.g. once per poll loop). Returns: how many it moved.
 */
unsigned inc_pool_reclaim(struct inc_pool *p);

/** Index 0..count-1 of obj in p, or -EINVAL. Thread: any. */
long inc_pool_index(const struct inc_pool *p, const void *obj);

/** Object at index i, or NULL when i >= count. Thread: any. */
void *inc_pool_object(const struct inc_pool *p, unsigned i);

/** Counters (relaxed snapshot). Thread: any. */
void inc_pool_stats_get(const struct inc_pool *p, struct inc_pool_stats *out);

/** The config name (may be NULL). Thread: any. */
const char *inc_pool_name(const struct inc_pool *p);

#ifdef __cplusplus
}
#endif

#endif /* INC_POOL_H */
