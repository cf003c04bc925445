/*
 * Flow table internals shared by flow.c (the cds_lfht table, reclamation),
 * flow_index.c (the lookup index) and flow_hash.c.
 */
#ifndef INC_FLOW_PRIV_H
#define INC_FLOW_PRIV_H

#include <string.h>

#include <urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "inception/flow.h"
#include "lf_priv.h"

/* Keys compare as five 64-bit words (struct inc_flow_key has no padding). */
#define INC__FLOW_KEY_WORDS 5

static inline uint64_t inc__flow_word(const struct inc_flow_key *k, unsigned i) {
  uint64_t w;
  memcpy(&w, (const char *)k + 8 * i, sizeof(w));
  return w;
}

static inline int inc__flow_key_eq(const struct inc_flow_key *a, const struct inc_flow_key *b) {
  uint64_t d = 0;
  for (unsigned i = 0; i < INC__FLOW_KEY_WORDS; i++)
    d |= inc__flow_word(a, i) ^ inc__flow_word(b, i);
  return d == 0;
}

/* The flow key hash: see flow_hash.c. */

#define INC__HASH_MUL1 0xbf58476d1ce4e5b9ULL
#define INC__HASH_MUL2 0x94d049bb133111ebULL

/* Odd 32-bit constants (fractional digits of pi), one per key half. */
static const uint32_t inc__hash_k[2 * INC__FLOW_KEY_WORDS] = {
    0x243f6a89u, 0x85a308d3u, 0x13198a2fu, 0x03707345u, 0xa4093823u,
    0x299f31d1u, 0x082efa99u, 0xec4e6c89u, 0x452821e7u, 0x38d01377u,
};

/* inc_flow_hash's body (flow_hash.c), inline for the lookup paths. */
static inline uint32_t inc__flow_hash(const struct inc_flow_key *key, uint64_t seed) {
  const uint32_t s_lo = (uint32_t)seed, s_hi = (uint32_t)(seed >> 32);
  uint64_t acc = seed;
#pragma GCC unroll 5
  for (unsigned i = 0; i < INC__FLOW_KEY_WORDS; i++) {
    const uint64_t w = inc__flow_word(key, i);
    const uint32_t lo = (uint32_t)w + (inc__hash_k[2 * i] ^ s_lo);
    const uint32_t hi = (uint32_t)(w >> 32) + (inc__hash_k[2 * i + 1] ^ s_hi);
    acc += (uint64_t)lo * hi;
  }
  acc ^= acc >> 31;
  acc *= INC__HASH_MUL1;
  acc ^= acc >> 29;
  acc *= INC__HASH_MUL2;
  acc ^= acc >> 32;
  return (uint32_t)acc;
}

#define INC__FLOW_NIL UINT32_MAX

/*
 * Where an entry stands in the lookup index (flow_index.c), entry->ix.
 * Written with atomics by its inserter and its remover, read by lookups:
 *   NONE  in the cds_lfht, not yet in the index (its insert is under way);
 *   SLOT  in a slot of its index line;
 *   OVF   its line was full: counted in the line's overflow word instead;
 *   DEAD  removed from the cds_lfht (lookups that reach it treat it as absent).
 */
enum { INC__FLOW_IX_NONE = 0, INC__FLOW_IX_SLOT, INC__FLOW_IX_OVF, INC__FLOW_IX_DEAD };

struct inc__flow_entry {
  struct cds_lfht_node node;
  struct inc_flow_key key;
  uint16_t owner;
  uint8_t home;          /* core whose pool it came from */
  uint8_t ix;            /* INC__FLOW_IX_*, atomic */
  uint32_t retire_next;  /* global index (home * entries_per_core + i) or NIL */
} __attribute__((aligned(INC_LF_CACHELINE)));

_Static_assert(sizeof(struct inc__flow_entry) == INC_LF_CACHELINE, "one line per entry");
_Static_assert(INC_LF_MAX_WORKERS <= 256, "entry->home is 8 bits");

/*
 * The lookup index: a power-of-two array of 64-byte lines, each holding
 * INC__FLOW_IX_WAYS slots and an overflow count. A slot is 0 (empty) or
 * (hash << 32 | line offset of the entry from the table's base); a key lives in
 * line hash & ix_mask, in any free slot, or, when all are taken, in no slot
 * and its line's overflow counts it (lookups then ask the cds_lfht).
 */
#define INC__FLOW_IX_WAYS 7

struct inc__flow_ixline {
  uint64_t slot[INC__FLOW_IX_WAYS];
  uint64_t overflow; /* entries of this line in the cds_lfht only */
} __attribute__((aligned(INC_LF_CACHELINE)));

/* A batch of removed entries waiting for a grace period. */
struct inc__flow_batch {
  struct rcu_head rcu;
  struct inc_flow_table *t;
  struct inc__flow_core *core;
  uint32_t head;  /* first entry (global index), NIL-terminated by retire_next */
  uint32_t count;
  uint32_t busy;  /* 1 from submission until the callback is done with it */
};

struct inc__flow_core {
  struct inc__owner owner;
  struct inc_pool *pool;
  uint32_t open_head; /* the open batch: entries removed, not yet submitted */
  uint32_t open_count;
  uint64_t inserted, removed, exists, no_memory, batches; /* core-written */
  uint64_t ix_overflows; /* core-written: inserts that found their index line full */
  uint64_t ix_handoffs;  /* core-written: entries removed before this core placed them */
  uint64_t reclaimed; /* written by callbacks (atomic add) */
  struct inc__flow_batch batch[INC_FLOW_RETIRE_SLOTS];
} __attribute__((aligned(INC_LF_CACHELINE)));

struct inc_flow_table {
  struct cds_lfht *ht;
  inc_flow_hash_fn hash;
  uint64_t seed;
  unsigned cores;
  unsigned entries_per_core;
  int auto_resize;
  struct inc__flow_core *core;
  struct inc__flow_ixline *ix; /* the lookup index, in the table's memory */
  uint32_t ix_mask;            /* lines - 1 */
} __attribute__((aligned(INC_LF_CACHELINE)));

static inline void inc__flow_count(uint64_t *c) {
  /* Core-written counter, read by inc_flow_stats anywhere: relaxed. */
  __atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

/* Lines of a table's index for a capacity of `entries`: a power of two with
 * at most INC_FLOW_INDEX_LOAD entries per line when every pool is empty. */
static inline size_t inc__flow_ix_lines(uint64_t entries) {
  const uint64_t want = (entries + INC_FLOW_INDEX_LOAD - 1) / INC_FLOW_INDEX_LOAD;
  size_t n = 1;
  while (n < want)
    n <<= 1;
  return n;
}

/* The slot value naming entry e of table t with hash h (never 0: the table
 * header sits at offset 0). */
static inline uint64_t inc__flow_ix_value(const struct inc_flow_table *t,
                                          const struct inc__flow_entry *e, uint32_t h) {
  return (uint64_t)h << 32 | (uint64_t)(((const char *)e - (const char *)t) / INC_LF_CACHELINE);
}

static inline struct inc__flow_entry *inc__flow_ix_entry(const struct inc_flow_table *t,
                                                         uint64_t v) {
  return (struct inc__flow_entry *)((char *)(uintptr_t)t +
                                    (size_t)(uint32_t)v * INC_LF_CACHELINE);
}

/* Puts a just-inserted entry (ix NONE, already in the cds_lfht) into the
 * index. Thread: the inserting worker `core`, online. */
void inc__flow_ix_place(struct inc_flow_table *t, unsigned core, struct inc__flow_entry *e,
                        uint32_t hash);
/* Takes an entry that this thread has just cds_lfht_del'ed out of the index.
 * Returns 1 if the caller retires it now, 0 if its inserter still places it
 * and retires it itself (inc__flow_ix_place). Thread: the remover, online. */
int inc__flow_ix_unplace(struct inc_flow_table *t, struct inc__flow_entry *e, uint32_t hash);
/* Links a removed entry into core's open retire batch (flow.c).
 * Thread: worker `core`. */
void inc__flow_retire(struct inc_flow_table *t, struct inc__flow_core *fc,
                      struct inc__flow_entry *e);
/* The cds_lfht lookup (the authoritative answer). Thread: online reader. */
int inc__flow_lfht_lookup(struct inc_flow_table *t, const struct inc_flow_key *key,
                          uint32_t hash);

#endif /* INC_FLOW_PRIV_H */
