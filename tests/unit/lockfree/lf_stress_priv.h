/*
 * Helpers shared by the stress drivers (not part of any module).
 */
#ifndef INC_LF_STRESS_PRIV_H
#define INC_LF_STRESS_PRIV_H

#include <sched.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t lf_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* xorshift64*: per-thread, deterministic from its seed. */
static inline uint64_t lf_rand(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545f4914f6cdd1dULL;
}

/* Progress watchdog of one thread: call with whether the loop moved. Returns
 * non-zero once nothing moved for stall_ms. Yields when nothing moved, so
 * that a preempted peer gets the CPU (threads outnumber cores). */
struct lf_watch {
  uint64_t last;
  unsigned stall_ms;
};

static inline void lf_watch_init(struct lf_watch *w, unsigned stall_ms) {
  w->last = lf_now_ms();
  w->stall_ms = stall_ms ? stall_ms : 60000;
}

static inline int lf_watch(struct lf_watch *w, int progress) {
  if (progress) {
    w->last = lf_now_ms();
    return 0;
  }
  sched_yield();
  return lf_now_ms() - w->last > w->stall_ms;
}

/* A worker thread's failure, read by the others while they run (relaxed: a
 * flag; the final value is read after the joins). */
static inline void lf_fail(int *rc, int v) { __atomic_store_n(rc, v, __ATOMIC_RELAXED); }
static inline int lf_failed(const int *rc) { return __atomic_load_n(rc, __ATOMIC_RELAXED) != 0; }

/* Relaxed atomic counter add for results shared by threads. */
static inline void lf_add(uint64_t *c, uint64_t v) { __atomic_fetch_add(c, v, __ATOMIC_RELAXED); }

#endif
