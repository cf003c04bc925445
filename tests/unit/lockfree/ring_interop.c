/*
 * lockfree/ring_priv.h's burst functions follow ck_ring's SPSC protocol on a
 * struct ck_ring: check that ck_ring's own enqueue/dequeue and ours agree on
 * a ring's contents, order, capacity and size through many wrap-arounds,
 * with every mix of producer and consumer functions (one thread: this is a
 * check of the index conventions; the ordering is exercised by the
 * multi-thread validators, which use our functions).
 */
#include <errno.h>
#include <stdlib.h>

#include "lf_stress.h"
#include "ring_priv.h"

int lf_ring_interop(unsigned iterations, unsigned size) {
  struct inc__ring r;
  struct inc_msg *slots = NULL;
  if (posix_memalign((void **)&slots, 64, size * sizeof(*slots)) != 0)
    return -ENOMEM;
  inc__ring_init(&r, slots, size);
  if (ck_ring_capacity(&r.ck) != size) {
    free(slots);
    return -EINVAL;
  }
  uint64_t seed = 99, next_send = 1, next_recv = 1, queued = 0;
  int bad = 0;
  for (unsigned it = 0; it < iterations && !bad; it++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    const unsigned b = 1 + (unsigned)((seed >> 33) % (size + 2));
    struct inc_msg buf[70];
    const unsigned nb = b < 70 ? b : 70;
    unsigned put = 0;
    switch ((seed >> 60) & 3) {
    case 0: /* ck's own enqueue, one by one */
      for (unsigned i = 0; i < nb; i++) {
        struct inc_msg m = inc_msg_packet((void *)(uintptr_t)(next_send + i), 0);
        if (!ck_ring_enqueue_spsc_inc_msg(&r.ck, r.slots, &m))
          break;
        put++;
      }
      break;
    case 1: /* ck's reserve/commit (inc_chan_send) */
      for (unsigned i = 0; i < nb; i++) {
        struct inc_msg m = inc_msg_packet((void *)(uintptr_t)(next_send + i), 0);
        if (inc__ring_put1(&r, &m, 0) != 0)
          break;
        put++;
      }
      break;
    default: /* our burst */
      for (unsigned i = 0; i < nb; i++)
        buf[i] = inc_msg_packet((void *)(uintptr_t)(next_send + i), 0);
      put = inc__ring_put(&r, buf, nb, 0);
      break;
    }
    /* Both kinds agree on "full": one slot stays empty. */
    if (put < nb && queued + put != size - 1)
      bad = 1;
    next_send += put;
    queued += put;
    if (ck_ring_size(&r.ck) != queued)
      bad = 1;

    const unsigned want = 1 + (unsigned)((seed >> 40) % (size + 2));
    const unsigned nw = want < 70 ? want : 70;
    unsigned got = 0;
    if ((seed >> 58) & 1) {
      while (got < nw && ck_ring_dequeue_spsc_inc_msg(&r.ck, r.slots, &buf[got]))
        got++;
    } else {
      got = inc__ring_get(&r, buf, nw);
    }
    for (unsigned i = 0; i < got; i++)
      if ((uintptr_t)buf[i].ptr != next_recv++)
        bad = 1;
    if (got < nw && got != queued)
      bad = 1; /* "empty" must agree too */
    queued -= got;
  }
  free(slots);
  return bad ? -EPROTO : 0;
}
