/* Log-linear latency histogram (see bench_hist.h). */
#include "bench_hist.h"

#include <string.h>

#define SUB (1u << INC_BENCH_HIST_SUB_BITS)

static unsigned bucket_of(uint64_t v)
{
	if (v < SUB)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= SUB_BITS */
	unsigned sub = (unsigned)(v >> (e - INC_BENCH_HIST_SUB_BITS)) - SUB;
	unsigned idx = SUB + (e - INC_BENCH_HIST_SUB_BITS) * SUB + sub;

	return idx < INC_BENCH_HIST_BUCKETS ? idx : INC_BENCH_HIST_BUCKETS - 1u;
}

/* Lower bound and width of bucket idx. */
static void bucket_range(unsigned idx, uint64_t *lo, uint64_t *width)
{
	if (idx < SUB) {
		*lo = idx;
		*width = 1;
		return;
	}
	unsigned e = (idx - SUB) / SUB + INC_BENCH_HIST_SUB_BITS;
	unsigned sub = (idx - SUB) % SUB;

	*width = 1ull << (e - INC_BENCH_HIST_SUB_BITS);
	*lo = (1ull << e) + (uint64_t)sub * *width;
}

void inc_bench_hist_reset(struct inc_bench_hist *h)
{
	memset(h, 0, sizeof *h);
}

void inc_bench_hist_add(struct inc_bench_hist *h, uint64_t ns)
{
	h->bucket[bucket_of(ns)]++;
	h->count++;
	h->sum += ns;
	if (ns > h->max)
		h->max = ns;
}

void inc_bench_hist_merge(struct inc_bench_hist *dst, const struct inc_bench_hist *src)
{
	for (unsigned i = 0; i < INC_BENCH_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t inc_bench_hist_quantile(const struct inc_bench_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)h->count + 0.5);
	uint64_t seen = 0;

	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < INC_BENCH_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t lo, width;

			bucket_range(i, &lo, &width);
			uint64_t mid = lo + width / 2;

			return mid > h->max ? h->max : mid;
		}
	}
	return h->max;
}
