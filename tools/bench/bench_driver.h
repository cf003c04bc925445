/*
 * The measurement driver: runs the benchmark's tests against one backend
 * with K server workers and K client threads, and checks that every request
 * completed and every byte was verified, on both ends.
 *
 * Tests (each runs for the configured duration, clients in closed loop):
 *   cps    K threads: connect, 64-byte request, 64-byte response, close.
 *          Rate = connections/s; latency = whole connection.
 *   rps    K threads x C keep-alive connections x D requests in flight:
 *          throughput of 64-byte request/response. Latency = per request.
 *   lat    K threads x 1 connection x 1 request in flight (ping-pong):
 *          the per-request latency p50/p99 reported as "latency".
 *   bulk1  1 connection streams verified bytes to the server, then waits
 *          for the server's acknowledgement of every byte: Gbit/s.
 *   bulkK  the same on K connections (one per client thread) at once.
 *
 * Thread: inc_bench_run from the main thread; it starts and joins the
 * client threads itself.
 */
#ifndef INC_BENCH_DRIVER_H
#define INC_BENCH_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "bench.h"

#ifdef __cplusplus
extern "C" {
#endif

enum inc_bench_test {
	INC_BENCH_T_CPS,
	INC_BENCH_T_RPS,
	INC_BENCH_T_LAT,
	INC_BENCH_T_BULK1,
	INC_BENCH_T_BULKK,
	INC_BENCH_T_COUNT
};

#define INC_BENCH_T_ALL ((1u << INC_BENCH_T_COUNT) - 1u)

/** Short name of a test ("cps", "rps", "lat", "bulk1", "bulkK"). */
const char *inc_bench_test_name(enum inc_bench_test t);

/** Parse a comma-separated list of test names into a bit mask.
 *  Returns: 0 or -EINVAL. */
int inc_bench_test_parse(const char *list, unsigned *mask);

struct inc_bench_run_cfg {
	unsigned workers;        /**< K: server workers and client threads */
	double duration_s;       /**< per test */
	unsigned tests;          /**< mask of (1u << enum inc_bench_test) */
	unsigned rps_conns;      /**< rps: connections per client thread */
	unsigned rps_depth;      /**< rps: requests in flight per connection */
	size_t bulk_chunk;       /**< bulk: bytes per send, <= 65536 */
	uint64_t fixed_requests; /**< lat: exactly this many per thread instead of duration (0: off) */
	uint16_t port;
	double stall_s;          /**< no test may overrun its duration by more: the program exits (3) */
	unsigned cpus;           /**< CPUs the benchmark may use (oversubscribed: workers > cpus) */
	int corrupt;             /**< self-test: client 0 flips one bit of its first request (cps,
				      rps, lat) or bulk chunk; the run must then fail */
	const struct inc_bench_pattern *pattern;
};

struct inc_bench_test_result {
	int ran;
	int ok;
	unsigned threads;
	unsigned conns;          /**< connections per thread held open (rps/lat/bulk) */
	unsigned depth;
	uint64_t ops;            /**< cps: connections; rps/lat: requests; bulk: streams */
	uint64_t bytes;          /**< bulk: payload bytes, each acknowledged as verified */
	double seconds;
	double rate;             /**< ops per second */
	double gbps;             /**< bulk payload Gbit/s */
	uint64_t p50_ns, p99_ns, p999_ns, max_ns, mean_ns;
	char error[192];
};

/** Everything measured for one backend at one worker count. */
struct inc_bench_result {
	char backend[32];
	unsigned workers;
	int oversubscribed;
	int ok;
	char error[256];
	struct inc_bench_test_result t[INC_BENCH_T_COUNT];
	struct inc_bench_server_stats server;
	struct inc_bench_counters counters;   /**< backend counters, deltas over the run */
	uint64_t client_conns;
	uint64_t client_requests;
	uint64_t client_bulk_streams;
	uint64_t client_bulk_bytes;
};

/** Start the backend's server with cfg->workers workers, run the selected
 *  tests, stop the server and cross-check client and server accounting.
 *  `state` is what b->setup returned.
 *  Returns: 0 if everything passed, -EIO otherwise (details in *out). */
int inc_bench_run(const struct inc_bench_backend *b, void *state, const struct inc_bench_run_cfg *cfg,
		  struct inc_bench_result *out);

/** Combine n runs of the same backend and worker count into *out: each
 *  rate, throughput and latency figure is the median over the runs (the
 *  upper median for an even n), counts are summed, ok only if every run
 *  passed (the first error is kept). */
void inc_bench_result_median(struct inc_bench_result *out, const struct inc_bench_result *const *runs, unsigned n);

#ifdef __cplusplus
}
#endif

#endif
