/*
 * One channel link: a ConcurrencyKit SPSC ring (ck_ring) of struct inc_msg,
 * with the link's counters on the producer's and the consumer's own lines.
 *
 * A single message is enqueued with ck_ring's own typed SPSC reserve/commit
 * (CK_RING_PROTOTYPE): ck checks for room, hands out the slot and publishes
 * it. ck_ring has no burst operation, and a loop of single enqueues or
 * dequeues reads the other side's index and writes its own for every message:
 * two cache lines move between the cores per message. The burst functions
 * below follow ck_ring's SPSC protocol on the same struct ck_ring
 * (free-running p_tail/c_head, one slot kept empty, slots written before
 * p_tail is published and read before c_head is published), but read the
 * other side's index once and publish their own once per burst. They
 * interoperate with ck_ring's own SPSC functions on the same ring
 * (lockfree_chan_test checks it with ck_ring_dequeue_spsc as well).
 *
 * Every slot access is ours, so ThreadSanitizer checks all of them: the
 * burst functions use C11-style atomics it understands, and where ck's
 * inline assembly publishes or observes an index we state that edge with
 * an annotation (lf_priv.h).
 *
 * Thread: put* by the link's single producer, get* by its single consumer.
 */
#ifndef INC_RING_PRIV_H
#define INC_RING_PRIV_H

#include <ck_ring.h>
#include <errno.h>

#include "inception/chan.h"
#include "lf_priv.h"

CK_RING_PROTOTYPE(inc_msg, inc_msg)

struct inc__ring {
  ck_ring_t ck;          /* c_head, p_tail/p_head, size/mask: one line each */
  struct inc_msg *slots; /* ck.size slots; read-only after init */
  struct {
    unsigned c_cache; /* last c_head seen: a lower bound of the consumer's index */
    uint64_t sent;
    uint64_t full_events;
    uint64_t refused;
  } prod __attribute__((aligned(INC_LF_CACHELINE))); /* producer-written */
  struct {
    unsigned p_cache; /* last p_tail seen: a lower bound of the producer's index */
    uint64_t received;
  } cons __attribute__((aligned(INC_LF_CACHELINE))); /* consumer-written */
} __attribute__((aligned(INC_LF_CACHELINE)));

/* Counters have one writer (the side that owns the line); relaxed atomic
 * stores keep concurrent stats readers well defined. No ordering needed. */
static inline void inc__count(uint64_t *c, uint64_t add) {
  __atomic_store_n(c, *c + add, __ATOMIC_RELAXED);
}

static inline void inc__ring_init(struct inc__ring *r, struct inc_msg *slots, unsigned size) {
  ck_ring_init(&r->ck, size);
  r->slots = slots;
  r->prod.c_cache = 0;
  r->prod.sent = r->prod.full_events = r->prod.refused = 0;
  r->cons.p_cache = 0;
  r->cons.received = 0;
}

static inline void inc__ring_count_full(struct inc__ring *r, unsigned refused) {
  inc__count(&r->prod.full_events, 1);
  inc__count(&r->prod.refused, refused);
}

/* Enqueues up to n messages, stamping src; returns how many. Producer only.
 * publish: __ATOMIC_RELEASE, or __ATOMIC_SEQ_CST where the producer then
 * reads a flag the consumer sets before it reads p_tail (the eventfd
 * handshake of chan_app.c). */
static inline unsigned inc__ring_put_order(struct inc__ring *r, const struct inc_msg *msgs,
                                           unsigned n, uint16_t src, int publish) {
  const unsigned mask = r->ck.mask;
  /* Relaxed: p_tail has no other writer than this producer. */
  const unsigned p = __atomic_load_n(&r->ck.p_tail, __ATOMIC_RELAXED);
  /* The consumer's index only grows: a cached value understates the room.
   * Read the consumer's line only when the cache says there is too little. */
  unsigned c = r->prod.c_cache;
  /* p - c > mask: the cache is older than a whole ring (ck's own enqueue
   * advanced p_tail without it); treat it as no room. */
  unsigned room = p - c <= mask ? mask - (p - c) : 0;
  if (room < n) {
    /* Acquire pairs with the release store of c_head in inc__ring_get() (and
     * with the ck_pr_fence_store before ck_ring_dequeue_spsc's c_head store,
     * when the consumer uses ck's own dequeue): the slots the consumer gave
     * back are read before we overwrite them. */
    c = __atomic_load_n(&r->ck.c_head, __ATOMIC_ACQUIRE);
    r->prod.c_cache = c;
    room = mask - (p - c);
  }
  unsigned k = n <= room ? n : room;

  for (unsigned i = 0; i < k; i++) {
    struct inc_msg *s = &r->slots[(p + i) & mask];
    *s = msgs[i];
    s->src = src;
  }
  if (k != 0) {
    /* Release pairs with the acquire load of p_tail in inc__ring_get() (and
     * with ck_ring_dequeue_spsc's ck_pr_fence_load, for a consumer that uses
     * ck's own dequeue): the slots are written before it can see them. */
    __atomic_store_n(&r->ck.p_tail, p + k, publish);
    inc__count(&r->prod.sent, k);
  }
  if (k < n)
    inc__ring_count_full(r, n - k);
  return k;
}

static inline unsigned inc__ring_put(struct inc__ring *r, const struct inc_msg *msgs, unsigned n,
                                     uint16_t src) {
  return inc__ring_put_order(r, msgs, n, src, __ATOMIC_RELEASE);
}

/* Enqueues one message with ck_ring's own SPSC reserve/commit: ck checks
 * for room and gives the slot, we fill it, ck publishes it. Producer only.
 * Returns 0 or -ENOBUFS. */
static inline int inc__ring_put1(struct inc__ring *r, const struct inc_msg *msg, uint16_t src) {
  struct inc_msg *slot = ck_ring_enqueue_reserve_spsc_inc_msg(&r->ck, r->slots);

  if (slot == NULL) {
    inc__ring_count_full(r, 1);
    return -ENOBUFS;
  }
  /* ck read c_head with an inline-asm load TSan cannot see: state the
   * acquire it performs (pairs with the release store of c_head in
   * inc__ring_get). */
  INC_TSAN_ACQUIRE(&r->ck.c_head);
  /* ck found room, so c_head > p_tail - mask: keep the burst path's cache
   * within a ring of the truth however long single sends go on. */
  r->prod.c_cache = r->ck.p_tail - r->ck.mask + 1;
  *slot = *msg;
  slot->src = src;
  /* ck_ring_enqueue_commit_spsc publishes with ck_pr_fence_store and an
   * inline-asm store: state that release (pairs with the acquire load of
   * p_tail in inc__ring_get). */
  INC_TSAN_RELEASE(&r->ck.p_tail);
  ck_ring_enqueue_commit_spsc(&r->ck);
  inc__count(&r->prod.sent, 1);
  return 0;
}

/* Dequeues up to n messages; returns how many. Consumer only. */
static inline unsigned inc__ring_get(struct inc__ring *r, struct inc_msg *out, unsigned n) {
  const unsigned mask = r->ck.mask;
  /* Relaxed: c_head has no other writer than this consumer. */
  const unsigned c = __atomic_load_n(&r->ck.c_head, __ATOMIC_RELAXED);
  /* The producer's index only grows: a cached value understates what is
   * there. Read the producer's line only when the cache runs short. */
  unsigned p = r->cons.p_cache;
  /* p - c > mask: the cache is behind c_head (ck's own dequeue advanced it
   * without the cache); treat it as empty. */
  unsigned avail = p - c <= mask ? p - c : 0;
  if (avail < n) {
    /* Acquire pairs with the release store of p_tail in inc__ring_put() (and
     * with ck_ring_enqueue_commit_spsc's ck_pr_fence_store; TSan: the
     * annotation in inc__ring_put1). Slots below a cached p_tail were
     * ordered by the acquire that cached it. */
    p = __atomic_load_n(&r->ck.p_tail, __ATOMIC_ACQUIRE);
    r->cons.p_cache = p;
    avail = p - c;
  }
  unsigned k = n <= avail ? n : avail;

  if (k == 0)
    return 0;
  for (unsigned i = 0; i < k; i++)
    out[i] = r->slots[(c + i) & mask];
  /* Release pairs with the acquire load of c_head in inc__ring_put(): our
   * slot reads happen before the producer reuses the slots. */
  __atomic_store_n(&r->ck.c_head, c + k, __ATOMIC_RELEASE);
  inc__count(&r->cons.received, k);
  return k;
}

/* Whether the ring holds a message (consumer's cheap check). */
static inline int inc__ring_empty(const struct inc__ring *r) {
  /* Relaxed loads: a hint only; inc__ring_get() does the ordered read. */
  return __atomic_load_n(&r->ck.p_tail, __ATOMIC_RELAXED) ==
         __atomic_load_n(&r->ck.c_head, __ATOMIC_RELAXED);
}

static inline void inc__ring_stats(const struct inc__ring *r, struct inc_chan_stats *out) {
  out->sent = __atomic_load_n(&r->prod.sent, __ATOMIC_RELAXED);
  out->full_events = __atomic_load_n(&r->prod.full_events, __ATOMIC_RELAXED);
  out->refused = __atomic_load_n(&r->prod.refused, __ATOMIC_RELAXED);
  out->received = __atomic_load_n(&r->cons.received, __ATOMIC_RELAXED);
  out->queued = ck_ring_size(&r->ck);
  out->capacity = ck_ring_capacity(&r->ck) - 1;
}

#endif /* INC_RING_PRIV_H */
