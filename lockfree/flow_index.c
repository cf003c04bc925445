/*
 * The flow table's lookup index, in front of the cds_lfht.
 *
 * A cds_lfht lookup is a chain of dependent loads (the bucket array, bucket
 * and dummy nodes of the split-ordered list, our node): at 1M entries each is
 * a cache and TLB miss, and its API gives nothing to prefetch. The index turns
 * a lookup into two loads, both known early enough to prefetch: the key's
 * index line (from its hash), then the entry that line names. A burst of keys
 * is looked up in three passes (hash every key and prefetch its line; scan
 * each line and prefetch the entry; compare the keys), so the misses of the
 * whole burst are in flight together.
 *
 * Layout: a power-of-two array of 64-byte lines (flow_priv.h), sized from the
 * table's capacity at init (never resized: entries are bounded by the pools),
 * INC__FLOW_IX_WAYS slots and an overflow count per line. A slot is 0 or
 * (32-bit hash << 32 | the entry's 64-byte line offset from the table). The
 * cds_lfht stays the authoritative table (it decides what is present, and it
 * resizes as before); the index only ever says "here is the entry" (verified
 * by key) or "absent", and the latter only when the line has no overflow.
 *
 * Protocol (entry->ix, flow_priv.h):
 *   insert: cds_lfht_add_unique, then place: CAS a free slot 0 -> value
 *     (release: the entry is written), or count the line's overflow; then CAS
 *     entry->ix NONE -> SLOT/OVF. If that CAS finds DEAD, a remover came
 *     between: the inserter clears what it placed and retires the entry.
 *   remove: cds_lfht_del, then exchange entry->ix to DEAD; if it was SLOT/OVF
 *     the remover clears the slot (or the overflow count) and retires the
 *     entry; if it was NONE the inserter does both (above).
 *   lookup: acquire-load the slots whose hash matches, read the entry, accept
 *     it if the key is equal and entry->ix is not DEAD. No match: -ENOENT if
 *     the line's overflow is 0, else cds_lfht_lookup.
 *
 * Why a lookup never reads a reused entry: an entry is retired (handed to
 * call_rcu) only after the slot naming it was cleared, by the same thread.
 * A reader that loaded the old slot value did so while online, before the
 * clear and so before the grace period began; reclamation waits for its next
 * quiescent state (the usual RCU unlink-then-reclaim argument, with the slot
 * as the link). Removed but not yet reclaimed entries keep their key, and
 * DEAD keeps them from answering after their remove has returned.
 *
 * Semantics against concurrent writers are those of the cds_lfht lookup: a
 * key inserted or removed during the lookup may be found or not; once an
 * insert (remove) has returned, lookups that happen after it find (miss) the
 * key. Lookups write no shared memory.
 */
#include <errno.h>

#include "flow_priv.h"

/* Keys of a burst looked up together (the stack's receive bursts are 32). */
#define INC__FLOW_BURST 32

static inline struct inc__flow_ixline *inc__flow_ix_line(const struct inc_flow_table *t,
                                                         uint32_t hash) {
  return &t->ix[hash & t->ix_mask];
}

/* Does slot value v name an entry with this hash? (An empty slot is 0; a
 * slot's entry offset is never 0, so hash 0 cannot match an empty slot.) */
static inline int inc__flow_ix_tag_eq(uint64_t v, uint32_t hash) {
  return (v >> 32) == hash && (uint32_t)v != 0;
}

/* The table's hash of key; Inception's own hash inline (no indirect call). */
static inline uint32_t inc__flow_ix_hash(const struct inc_flow_table *t,
                                         const struct inc_flow_key *key) {
  return t->hash == inc_flow_hash ? inc__flow_hash(key, t->seed) : t->hash(key, t->seed);
}

/* The first slot value of line that carries hash, or 0. Branch-free: which
 * slot matches is random, a branch per slot would mispredict. */
static inline uint64_t inc__flow_ix_first(const struct inc__flow_ixline *line, uint32_t hash) {
  uint64_t c = 0;
  for (unsigned w = INC__FLOW_IX_WAYS; w-- > 0;) {
    /* Acquire pairs with the release CAS in inc__flow_ix_place. */
    const uint64_t v = __atomic_load_n(&line->slot[w], __ATOMIC_ACQUIRE);
    c = inc__flow_ix_tag_eq(v, hash) ? v : c;
  }
  return c;
}

/* Removes e's placement recorded as state (SLOT or OVF) from its line. */
static void inc__flow_ix_clear(struct inc_flow_table *t, struct inc__flow_entry *e,
                               uint32_t hash, uint8_t state) {
  struct inc__flow_ixline *line = inc__flow_ix_line(t, hash);
  if (state == INC__FLOW_IX_OVF) {
    /* Relaxed: a count of this line's entries outside the slots, read by
     * lookups as a hint to ask the cds_lfht (see inc__flow_ix_lookup). */
    __atomic_fetch_sub(&line->overflow, 1, __ATOMIC_RELAXED);
    return;
  }
  const uint64_t v = inc__flow_ix_value(t, e, hash);
  for (unsigned i = 0; i < INC__FLOW_IX_WAYS; i++) {
    uint64_t cur = v;
    /* Relaxed: only the thread ending the placement clears this value, and
     * the next inserter's release CAS publishes what it needs itself. The
     * retire that follows (call_rcu) orders the clear before reclamation. */
    if (__atomic_compare_exchange_n(&line->slot[i], &cur, 0, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED))
      return;
  }
}

void inc__flow_ix_place(struct inc_flow_table *t, unsigned core, struct inc__flow_entry *e,
                        uint32_t hash) {
  struct inc__flow_ixline *line = inc__flow_ix_line(t, hash);
  const uint64_t v = inc__flow_ix_value(t, e, hash);
  uint8_t state = INC__FLOW_IX_OVF;

  for (unsigned i = 0; i < INC__FLOW_IX_WAYS; i++) {
    uint64_t cur = __atomic_load_n(&line->slot[i], __ATOMIC_RELAXED);
    /* Release: the entry's key, owner and ix are written before a lookup
     * that acquires this slot reads them; pairs with the acquire loads in
     * inc__flow_ix_lookup and inc_flow_lookup_burst. */
    if (cur == 0 && __atomic_compare_exchange_n(&line->slot[i], &cur, v, 0, __ATOMIC_RELEASE,
                                                __ATOMIC_RELAXED)) {
      state = INC__FLOW_IX_SLOT;
      break;
    }
  }
  if (state == INC__FLOW_IX_OVF) {
    /* Relaxed: see inc__flow_ix_clear; a lookup that happens after this
     * insert returns sees it by coherence. */
    __atomic_fetch_add(&line->overflow, 1, __ATOMIC_RELAXED);
    inc__flow_count(&t->core[core].ix_overflows);
  }
  uint8_t expect = INC__FLOW_IX_NONE;
  /* Acq_rel pairs with the remover's exchange in inc__flow_ix_unplace: one
   * of the two sees the other's value and that one ends the placement. */
  if (__atomic_compare_exchange_n(&e->ix, &expect, state, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return;
  /* A remover deleted the entry from the cds_lfht before we got here and
   * left it to us (expect == DEAD): undo, then retire it on this core. */
  inc__flow_ix_clear(t, e, hash, state);
  inc__flow_count(&t->core[core].ix_handoffs);
  inc__flow_retire(t, &t->core[core], e);
}

int inc__flow_ix_unplace(struct inc_flow_table *t, struct inc__flow_entry *e, uint32_t hash) {
  /* Acq_rel pairs with the inserter's CAS in inc__flow_ix_place. From here
   * on lookups that reach e treat it as absent. */
  const uint8_t old = __atomic_exchange_n(&e->ix, INC__FLOW_IX_DEAD, __ATOMIC_ACQ_REL);
  if (old == INC__FLOW_IX_NONE)
    return 0; /* its inserter has not placed it yet: it undoes and retires */
  inc__flow_ix_clear(t, e, hash, old);
  return 1;
}

/* The owner if slot value v names a live entry with this key, else -1. */
static inline int inc__flow_ix_verify(const struct inc_flow_table *t, uint64_t v,
                                      const struct inc_flow_key *key) {
  const struct inc__flow_entry *e = inc__flow_ix_entry(t, v);
  if (!inc__flow_key_eq(&e->key, key))
    return -1;
  /* Relaxed: a remove that happened before this lookup stored DEAD before
   * it returned (coherence); one that races with it may go either way. */
  if (__atomic_load_n(&e->ix, __ATOMIC_RELAXED) == INC__FLOW_IX_DEAD)
    return -1;
  return e->owner;
}

/* The whole lookup of one key from its line: slots, then the cds_lfht if the
 * line has overflowed. */
static int inc__flow_ix_lookup(struct inc_flow_table *t, const struct inc_flow_key *key,
                               uint32_t hash) {
  const struct inc__flow_ixline *line = inc__flow_ix_line(t, hash);
  for (unsigned i = 0; i < INC__FLOW_IX_WAYS; i++) {
    /* Acquire pairs with the release CAS in inc__flow_ix_place. */
    const uint64_t v = __atomic_load_n(&line->slot[i], __ATOMIC_ACQUIRE);
    if (inc__flow_ix_tag_eq(v, hash)) {
      const int owner = inc__flow_ix_verify(t, v, key);
      if (owner >= 0)
        return owner;
    }
  }
  /* Relaxed: see inc__flow_ix_place. */
  if (INC_LF_UNLIKELY(__atomic_load_n(&line->overflow, __ATOMIC_RELAXED) != 0))
    return inc__flow_lfht_lookup(t, key, hash);
  return -ENOENT;
}

/* Pass 3 of one key: compare, or settle by the single-key path. */
static inline int inc__flow_burst_finish(struct inc_flow_table *t, const struct inc_flow_key *key,
                                         const struct inc__flow_ixline *line, uint32_t hash,
                                         uint64_t cand) {
  int owner = cand != 0 ? inc__flow_ix_verify(t, cand, key) : -1;
  if (INC_LF_LIKELY(owner >= 0))
    return owner;
  /* A wrong candidate (another key with the same hash, a removed entry) or
   * none: the single-key path settles it (the other slots, then the
   * cds_lfht if the line has overflowed). Relaxed: see inc__flow_ix_place. */
  if (cand != 0 || __atomic_load_n(&line->overflow, __ATOMIC_RELAXED) != 0)
    return inc__flow_ix_lookup(t, key, hash);
  return -ENOENT;
}

/* One key, without prefetching: the same three steps as a burst. */
static inline int inc__flow_lookup_one(struct inc_flow_table *t, const struct inc_flow_key *key,
                                       uint32_t hash) {
  const struct inc__flow_ixline *line = inc__flow_ix_line(t, hash);
  return inc__flow_burst_finish(t, key, line, hash, inc__flow_ix_first(line, hash));
}

int inc_flow_lookup_hashed(struct inc_flow_table *t, const struct inc_flow_key *key,
                           uint32_t hash) {
  return inc__flow_lookup_one(t, key, hash);
}

int inc_flow_lookup(struct inc_flow_table *t, const struct inc_flow_key *key) {
  return inc__flow_lookup_one(t, key, inc__flow_ix_hash(t, key));
}

unsigned inc_flow_lookup_burst(struct inc_flow_table *t, const struct inc_flow_key *keys,
                               unsigned n, int *owners) {
  uint32_t hash[INC__FLOW_BURST];
  const struct inc__flow_ixline *line[INC__FLOW_BURST];
  uint64_t cand[INC__FLOW_BURST];
  unsigned found = 0;

  /* Three passes per group of keys rather than a rolling pipeline: measured
   * here, a pipeline with 4, 8 or 16 keys between stages was 5-25% slower
   * than issuing a whole group's prefetches back to back. */
  for (unsigned base = 0; base < n; base += INC__FLOW_BURST) {
    const unsigned m = n - base < INC__FLOW_BURST ? n - base : INC__FLOW_BURST;
    const struct inc_flow_key *k = &keys[base];
    /* Pass 1: hash every key, start loading its line. */
    for (unsigned i = 0; i < m; i++) {
      hash[i] = inc__flow_ix_hash(t, &k[i]);
      line[i] = inc__flow_ix_line(t, hash[i]);
      __builtin_prefetch(line[i], 0, 3);
    }
    /* Pass 2: the first slot with the key's hash names the likely entry:
     * start loading it. */
    for (unsigned i = 0; i < m; i++) {
      cand[i] = inc__flow_ix_first(line[i], hash[i]);
      if (cand[i] != 0)
        __builtin_prefetch(inc__flow_ix_entry(t, cand[i]), 0, 3);
    }
    /* Pass 3: compare keys. */
    for (unsigned i = 0; i < m; i++) {
      owners[base + i] = inc__flow_burst_finish(t, &k[i], line[i], hash[i], cand[i]);
      found += owners[base + i] >= 0;
    }
  }
  return found;
}
