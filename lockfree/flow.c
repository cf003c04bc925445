/*
 * Flow table on liburcu's cds_lfht, QSBR flavour (see include/inception/flow.h).
 *
 * Entries are 64 bytes, one cache line: the lfht node, the key, the owner, the
 * inserting core ("home") and a link for the retire list. They come from the
 * inserting core's pool (pool.c) and go back to it after a grace period:
 *
 *   inc_flow_remove (core c): cds_lfht_del, then link the entry into c's open
 *     retire batch; a full batch goes to call_rcu.
 *   callback (liburcu's call_rcu thread, after a grace period): every entry of
 *     the batch goes back to its home pool with inc_pool_free_remote (a
 *     lock-free push), and the batch slot is released.
 *   the home core takes the entries back when its pool runs dry or in
 *     inc_flow_reclaim.
 *
 * So insert and remove never allocate and never block, reclamation costs one
 * call_rcu per INC_FLOW_RETIRE_BATCH removals, and a reader never sees an
 * entry reused while it may still hold it (it is an online QSBR reader until
 * its next quiescent state, which the grace period waits for).
 *
 * Lookups go through the lookup index first (flow_index.c, in the table's
 * memory after the pools); insert and remove keep it in step with the
 * cds_lfht, which stays the authoritative table.
 */
#include <errno.h>
#include <string.h>

#include "flow_priv.h"
#include "inception/pool.h"
#include "inception/rcu.h"

struct inc__flow_layout {
  size_t off_core, off_pools, pool_bytes, off_ix, ix_lines, total;
  unsigned init_buckets;
};

static void inc__flow_pool_cfg(unsigned count, struct inc_pool_config *pc) {
  memset(pc, 0, sizeof(*pc));
  pc->name = "inc_flow_entry";
  pc->obj_size = sizeof(struct inc__flow_entry);
  pc->obj_align = INC_LF_CACHELINE;
  pc->count = count;
}

static int inc__flow_layout(const struct inc_flow_config *cfg, struct inc__flow_layout *l) {
  struct inc_pool_config pc;

  if (cfg == NULL || cfg->cores == 0 || cfg->cores > INC_LF_MAX_WORKERS ||
      cfg->entries_per_core == 0 ||
      (uint64_t)cfg->cores * cfg->entries_per_core >= INC__FLOW_NIL)
    return -EINVAL;
  l->init_buckets = cfg->init_buckets ? cfg->init_buckets : INC_FLOW_INIT_BUCKETS_DEFAULT;
  if (!inc__is_pow2(l->init_buckets) || (cfg->max_buckets != 0 && !inc__is_pow2(cfg->max_buckets)) ||
      (cfg->max_buckets != 0 && cfg->max_buckets < l->init_buckets))
    return -EINVAL;
  inc__flow_pool_cfg(cfg->entries_per_core, &pc);
  l->pool_bytes = inc__align_up(inc_pool_footprint(&pc), INC_LF_CACHELINE);
  if (l->pool_bytes == 0)
    return -EINVAL;
  l->off_core = inc__align_up(sizeof(struct inc_flow_table), INC_LF_CACHELINE);
  l->off_pools = l->off_core + cfg->cores * sizeof(struct inc__flow_core);
  l->off_ix = l->off_pools + cfg->cores * l->pool_bytes;
  l->ix_lines = inc__flow_ix_lines((uint64_t)cfg->cores * cfg->entries_per_core);
  l->total = l->off_ix + l->ix_lines * sizeof(struct inc__flow_ixline);
  /* Slots name entries by their 64-byte line offset from the table in 32 bits. */
  if (l->total / INC_LF_CACHELINE > UINT32_MAX)
    return -EINVAL;
  return 0;
}

size_t inc_flow_table_footprint(const struct inc_flow_config *cfg) {
  struct inc__flow_layout l;
  return inc__flow_layout(cfg, &l) == 0 ? l.total : 0;
}

static int inc__flow_match(struct cds_lfht_node *node, const void *key) {
  const struct inc__flow_entry *e = caa_container_of(node, struct inc__flow_entry, node);
  /* cds_lfht published the node with rcu_assign_pointer, inside liburcu where
   * TSan cannot see it: pairs with the release in inc_flow_insert. */
  INC_TSAN_ACQUIRE(e);
  return inc__flow_key_eq(&e->key, key);
}

int inc_flow_table_init(struct inc_flow_table **out, void *mem, size_t len,
                        const struct inc_flow_config *cfg) {
  struct inc__flow_layout l;
  struct inc_pool_config pc;
  int rc;

  if (out == NULL || mem == NULL || ((uintptr_t)mem & (INC_LF_CACHELINE - 1)) != 0)
    return -EINVAL;
  rc = inc__flow_layout(cfg, &l);
  if (rc != 0)
    return rc;
  if (len < l.total)
    return -ENOSPC;

  char *base = mem;
  struct inc_flow_table *t = mem;
  memset(t, 0, sizeof(*t));
  t->hash = cfg->hash ? cfg->hash : inc_flow_hash;
  t->seed = cfg->seed;
  t->cores = cfg->cores;
  t->entries_per_core = cfg->entries_per_core;
  t->auto_resize = cfg->auto_resize != 0;
  t->core = (struct inc__flow_core *)(base + l.off_core);
  t->ix = (struct inc__flow_ixline *)(base + l.off_ix);
  t->ix_mask = (uint32_t)(l.ix_lines - 1);
  memset(t->ix, 0, l.ix_lines * sizeof(struct inc__flow_ixline));
  inc__flow_pool_cfg(cfg->entries_per_core, &pc);
  for (unsigned c = 0; c < cfg->cores; c++) {
    struct inc__flow_core *fc = &t->core[c];
    memset(fc, 0, sizeof(*fc));
    fc->open_head = INC__FLOW_NIL;
    rc = inc_pool_init(&fc->pool, base + l.off_pools + c * l.pool_bytes, l.pool_bytes, &pc);
    if (rc != 0)
      return rc;
  }
  /* min_nr_alloc_buckets = init size: never shrink below what was asked. */
  t->ht = cds_lfht_new_flavor(l.init_buckets, l.init_buckets, cfg->max_buckets,
                              CDS_LFHT_ACCOUNTING | (cfg->auto_resize ? CDS_LFHT_AUTO_RESIZE : 0),
                              &urcu_qsbr_flavor, NULL);
  if (t->ht == NULL)
    return -ENOMEM;
  /* The call_rcu worker is created on first use; create it now, on the
   * control plane, rather than in a worker's first inc_flow_remove. */
  (void)get_default_call_rcu_data();
  *out = t;
  return 0;
}

int inc_flow_table_destroy(struct inc_flow_table *t) {
  struct cds_lfht_iter it;
  struct cds_lfht_node *node;

  /* Every other user has stopped: unlink all entries (their memory is the
   * caller's and goes away with the table, so no reclamation is queued). */
  rcu_read_lock();
  cds_lfht_for_each(t->ht, &it, node) (void)cds_lfht_del(t->ht, node);
  rcu_read_unlock();
  /* Callbacks already queued still push into the pools: wait for them. */
  inc_rcu_barrier();
  /* cds_lfht_destroy waits for queued resize work, which waits for grace
   * periods: an online QSBR caller would wait for itself. Go offline. */
  const int was_online = rcu_read_ongoing();
  if (was_online)
    inc_rcu_offline();
  int rc = cds_lfht_destroy(t->ht, NULL);
  if (was_online)
    inc_rcu_online();
  return rc;
}

int inc_flow_core_bind(struct inc_flow_table *t, unsigned core) {
  if (core >= t->cores)
    return -EINVAL;
  inc__owner_bind(&t->core[core].owner);
  return inc_pool_bind(t->core[core].pool);
}

static inline uint32_t inc__flow_gindex(const struct inc_flow_table *t,
                                        const struct inc__flow_entry *e) {
  return e->home * t->entries_per_core + (uint32_t)inc_pool_index(t->core[e->home].pool, e);
}

static inline struct inc__flow_entry *inc__flow_entry_at(const struct inc_flow_table *t,
                                                         uint32_t g) {
  return inc_pool_object(t->core[g / t->entries_per_core].pool, g % t->entries_per_core);
}

uint32_t inc_flow_table_hash(const struct inc_flow_table *t, const struct inc_flow_key *key) {
  return t->hash(key, t->seed);
}

int inc_flow_insert(struct inc_flow_table *t, unsigned core, const struct inc_flow_key *key,
                    uint16_t owner) {
  if (INC_LF_UNLIKELY(core >= t->cores || owner >= t->cores ||
                      (key->family != INC_FLOW_IPV4 && key->family != INC_FLOW_IPV6)))
    return -EINVAL;
  struct inc__flow_core *fc = &t->core[core];
  INC_LF_ASSERT_OWNER(&fc->owner, "inc_flow_insert");

  struct inc__flow_entry *e = inc_pool_alloc(fc->pool);
  if (e == NULL) {
    inc__flow_count(&fc->no_memory);
    return -ENOMEM;
  }
  cds_lfht_node_init(&e->node);
  e->key = *key;
  e->owner = owner;
  e->home = (uint8_t)core;
  /* Relaxed: lookups reach the entry only through the publications below
   * (cds_lfht's, and the release CAS of its index slot). */
  __atomic_store_n(&e->ix, INC__FLOW_IX_NONE, __ATOMIC_RELAXED);
  e->retire_next = INC__FLOW_NIL;
  const uint32_t hash = t->hash(key, t->seed);
  /* cds_lfht_add_unique publishes the node inside liburcu, invisible to
   * TSan: pairs with the acquire in inc__flow_match. */
  INC_TSAN_RELEASE(e);
  rcu_read_lock();
  struct cds_lfht_node *got = cds_lfht_add_unique(t->ht, hash, inc__flow_match, key, &e->node);
  rcu_read_unlock();
  if (got != &e->node) {
    /* Never published: straight back to the pool. */
    (void)inc_pool_free(fc->pool, e);
    inc__flow_count(&fc->exists);
    return -EEXIST;
  }
  inc__flow_ix_place(t, core, e, hash);
  inc__flow_count(&fc->inserted);
  return 0;
}

int inc__flow_lfht_lookup(struct inc_flow_table *t, const struct inc_flow_key *key,
                          uint32_t hash) {
  struct cds_lfht_iter it;

  /* No rcu_read_lock(): with QSBR an online thread is always in a read-side
   * section, and liburcu-qsbr's rcu_read_lock/unlock are empty functions (two
   * calls through the PLT per lookup for nothing). */
  cds_lfht_lookup(t->ht, hash, inc__flow_match, key, &it);
  struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
  return node != NULL ? caa_container_of(node, struct inc__flow_entry, node)->owner : -ENOENT;
}

int inc_flow_lookup_lfht(struct inc_flow_table *t, const struct inc_flow_key *key) {
  return inc__flow_lfht_lookup(t, key, t->hash(key, t->seed));
}

static void inc__flow_reclaim_cb(struct rcu_head *head) {
  /* The grace period is over (liburcu waited for it, invisibly to TSan):
   * pairs with the readers' releases at their quiescent states (rcu.c) and
   * with the remover's release in inc__flow_submit. */
  INC_TSAN_ACQUIRE(inc__rcu_gp_key());
  struct inc__flow_batch *b = caa_container_of(head, struct inc__flow_batch, rcu);
  const struct inc_flow_table *t = b->t;
  uint32_t g = b->head;
  uint64_t n = 0;
  while (g != INC__FLOW_NIL) {
    struct inc__flow_entry *e = inc__flow_entry_at(t, g);
    g = e->retire_next;
    (void)inc_pool_free_remote(t->core[e->home].pool, e);
    n++;
  }
  /* Relaxed: a statistic, summed by inc_flow_stats. */
  __atomic_fetch_add(&b->core->reclaimed, n, __ATOMIC_RELAXED);
  /* Release pairs with the acquire load in inc__flow_submit: we are done
   * with the batch before the core refills it. */
  __atomic_store_n(&b->busy, 0, __ATOMIC_RELEASE);
  /* Last: pairs with the acquire after rcu_barrier in inc_rcu_barrier (the
   * table's memory may go once the barrier returns). */
  INC_TSAN_RELEASE(inc__rcu_gp_key());
}

/* Hands core's open batch to call_rcu if a batch slot is free. */
static void inc__flow_submit(struct inc_flow_table *t, struct inc__flow_core *fc) {
  if (fc->open_count == 0)
    return;
  for (unsigned i = 0; i < INC_FLOW_RETIRE_SLOTS; i++) {
    struct inc__flow_batch *b = &fc->batch[i];
    /* Acquire pairs with the release at the end of inc__flow_reclaim_cb. */
    if (__atomic_load_n(&b->busy, __ATOMIC_ACQUIRE) != 0)
      continue;
    b->t = t;
    b->core = fc;
    b->head = fc->open_head;
    b->count = fc->open_count;
    /* Relaxed: call_rcu below orders it before the callback. */
    __atomic_store_n(&b->busy, 1, __ATOMIC_RELAXED);
    fc->open_head = INC__FLOW_NIL;
    fc->open_count = 0;
    /* call_rcu hands the batch to liburcu's thread invisibly to TSan: pairs
     * with the acquire at the start of inc__flow_reclaim_cb. */
    INC_TSAN_RELEASE(inc__rcu_gp_key());
    call_rcu(&b->rcu, inc__flow_reclaim_cb);
    inc__flow_count(&fc->batches);
    return;
  }
  /* Every slot waits for a grace period: keep collecting in the open batch. */
}

int inc_flow_remove(struct inc_flow_table *t, unsigned core, const struct inc_flow_key *key) {
  struct cds_lfht_iter it;

  if (INC_LF_UNLIKELY(core >= t->cores))
    return -EINVAL;
  struct inc__flow_core *fc = &t->core[core];
  INC_LF_ASSERT_OWNER(&fc->owner, "inc_flow_remove");

  const uint32_t hash = t->hash(key, t->seed);
  rcu_read_lock();
  cds_lfht_lookup(t->ht, hash, inc__flow_match, key, &it);
  struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
  int rc = node != NULL ? cds_lfht_del(t->ht, node) : -ENOENT;
  rcu_read_unlock();
  if (rc != 0)
    return -ENOENT; /* absent, or another thread's del won */

  struct inc__flow_entry *e = caa_container_of(node, struct inc__flow_entry, node);
  inc__flow_count(&fc->removed);
  /* Out of the index first: an entry is retired only once no slot names it
   * (its inserter retires it if it has not placed it yet). */
  if (inc__flow_ix_unplace(t, e, hash))
    inc__flow_retire(t, fc, e);
  return 0;
}

void inc__flow_retire(struct inc_flow_table *t, struct inc__flow_core *fc,
                      struct inc__flow_entry *e) {
  e->retire_next = fc->open_head;
  fc->open_head = inc__flow_gindex(t, e);
  fc->open_count++;
  if (fc->open_count >= INC_FLOW_RETIRE_BATCH)
    inc__flow_submit(t, fc);
}

unsigned inc_flow_reclaim(struct inc_flow_table *t, unsigned core) {
  if (core >= t->cores)
    return 0;
  struct inc__flow_core *fc = &t->core[core];
  INC_LF_ASSERT_OWNER(&fc->owner, "inc_flow_reclaim");
  inc__flow_submit(t, fc);
  return inc_pool_reclaim(fc->pool);
}

int inc_flow_resize(struct inc_flow_table *t, unsigned long buckets) {
  if (!inc__is_pow2(buckets))
    return -EINVAL;
  /* liburcu 0.13's resize worker (automatic resizes) registers as a QSBR
   * reader and then waits for the table's resize mutex while online. If we
   * held that mutex in cds_lfht_resize, our grace period would wait for the
   * worker and the worker for us: a deadlock, reproduced by
   * lockfree_validate_flow under TSan. So a table resizes itself or is
   * resized by hand, never both. */
  if (t->auto_resize)
    return -EPERM;
  /* cds_lfht_resize must not run in a read-side section, and with QSBR an
   * online thread is always in one: it waits for grace periods (its resize
   * worker's), so an online caller would wait for itself. Go offline. */
  const int was_online = rcu_read_ongoing();
  if (was_online)
    inc_rcu_offline();
  cds_lfht_resize(t->ht, buckets);
  if (was_online)
    inc_rcu_online();
  return 0;
}

unsigned long inc_flow_count(struct inc_flow_table *t) {
  long before, after;
  unsigned long count;

  rcu_read_lock();
  cds_lfht_count_nodes(t->ht, &before, &count, &after);
  rcu_read_unlock();
  return count;
}

void inc_flow_stats_get(const struct inc_flow_table *t, struct inc_flow_stats *out) {
  memset(out, 0, sizeof(*out));
  for (unsigned c = 0; c < t->cores; c++) {
    const struct inc__flow_core *fc = &t->core[c];
    out->inserted += __atomic_load_n(&fc->inserted, __ATOMIC_RELAXED);
    out->removed += __atomic_load_n(&fc->removed, __ATOMIC_RELAXED);
    out->exists += __atomic_load_n(&fc->exists, __ATOMIC_RELAXED);
    out->no_memory += __atomic_load_n(&fc->no_memory, __ATOMIC_RELAXED);
    out->retired_batches += __atomic_load_n(&fc->batches, __ATOMIC_RELAXED);
    out->reclaimed += __atomic_load_n(&fc->reclaimed, __ATOMIC_RELAXED);
    out->index_overflows += __atomic_load_n(&fc->ix_overflows, __ATOMIC_RELAXED);
    out->index_handoffs += __atomic_load_n(&fc->ix_handoffs, __ATOMIC_RELAXED);
    struct inc_pool_stats ps;
    inc_pool_stats_get(fc->pool, &ps);
    out->entries_in_use += ps.in_use;
  }
}
