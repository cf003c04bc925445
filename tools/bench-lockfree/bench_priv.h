/*
 * bench-lockfree internals: timing, thread placement, result rows.
 */
#ifndef INC_BENCH_LF_PRIV_H
#define INC_BENCH_LF_PRIV_H

#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

#include "inception/chan.h"

static inline uint64_t bench_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The calling thread's CPU time (excludes time spent waiting for a CPU). */
static inline uint64_t bench_thread_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Pins the calling thread to cpu % online cpus (no-op if that fails). */
void bench_pin(unsigned cpu);

/* Smallest of n doubles: the run least disturbed by other work on the
 * machine (the benchmark shares 2 cores with whatever else runs). */
double bench_best(const double *v, unsigned n);

/* Median of n doubles (sorts a copy). */
double bench_median(const double *v, unsigned n);

struct bench_opts {
  unsigned runs;        /* repetitions; the best is reported */
  uint64_t spsc_msgs;   /* messages per SPSC run */
  uint64_t mpsc_msgs;   /* messages per producer per MPSC run */
  unsigned producers;   /* MPSC producers (more than cores: oversubscribed) */
  uint64_t lookups;     /* lookups per flow run */
  int thp;              /* advise the flow table's memory for transparent huge pages */
  int cpu_time;         /* flow runs timed by the thread's CPU clock, not the wall clock */
  int medians;          /* flow rows also print the median of the runs */
};

/* A queue under test: single producer, single consumer, 16-byte messages.
 * put/get return how many they moved ("up to n"). */
struct bench_queue {
  const char *name;
  void *q;
  unsigned (*put)(void *q, const struct inc_msg *m, unsigned n);
  unsigned (*get)(void *q, struct inc_msg *m, unsigned n);
};

/* A mutex-protected ring of 16-byte messages (any number of producers). */
void *bench_mq_create(unsigned size);
void bench_mq_destroy(void *q);
unsigned bench_mq_put(void *q, const struct inc_msg *m, unsigned n);
unsigned bench_mq_get(void *q, struct inc_msg *m, unsigned n);

/* ns per message from one producer thread to one consumer thread. */
double bench_spsc_run(const struct bench_queue *bq, unsigned batch, uint64_t msgs);

void bench_spsc(const struct bench_opts *o);
void bench_mpsc(const struct bench_opts *o);
void bench_flow(const struct bench_opts *o);

#endif
