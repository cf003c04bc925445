/*
 * Latency histogram: log-linear buckets (32 per power of two, so a
 * reported quantile is within ~3% of the true value), fixed size, no
 * allocation; one per client thread, merged at the end of a test.
 *
 * Thread: a histogram is used by one thread at a time.
 */
#ifndef INC_BENCH_HIST_H
#define INC_BENCH_HIST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define INC_BENCH_HIST_SUB_BITS 5u
#define INC_BENCH_HIST_BUCKETS (32u + 36u * 32u) /* up to 2^41 ns (~36 min) */

struct inc_bench_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t max;
	uint64_t bucket[INC_BENCH_HIST_BUCKETS];
};

/** Empty the histogram. */
void inc_bench_hist_reset(struct inc_bench_hist *h);

/** Record one value (nanoseconds). */
void inc_bench_hist_add(struct inc_bench_hist *h, uint64_t ns);

/** Add src's samples to dst. */
void inc_bench_hist_merge(struct inc_bench_hist *dst, const struct inc_bench_hist *src);

/** Returns: the q-quantile (0 < q <= 1) in ns (bucket midpoint), 0 if empty. */
uint64_t inc_bench_hist_quantile(const struct inc_bench_hist *h, double q);

#ifdef __cplusplus
}
#endif

#endif
