/*
 * Instruction counts per request and per packet, with callgrind.
 *
 * `inc_bench --callgrind` runs, for each backend, this program twice under
 * `valgrind --tool=callgrind --trace-children=yes` in "--cg-run" mode: one
 * server worker, one client connection, exactly N and then 2N ping-pong
 * requests of 64 bytes. Each process (client, and the server process of a
 * backend that has one) writes its own callgrind file. The difference
 * between the two runs divided by N is the instruction cost of one request
 * (start-up, connection set-up and shutdown cancel out); divided by the
 * difference in the backend's "packets" counter it is the cost per packet.
 * Instruction counts hardly move with machine load, so they show
 * regressions that timings on a busy machine hide.
 *
 * Polling backends (Inception's workers spin, yielding when idle) execute
 * idle loop iterations while they wait, and how many depends on how
 * valgrind schedules threads. For a backend with a "loops" counter two more
 * runs leave the stack idle for 300 and 600 ms: their difference per loop
 * is the cost of one idle iteration, and the figure "excluding polling" is
 * (difference in Ir - difference in loops x that cost) / N: the stack's and
 * the application's work per request without any loop overhead.
 *
 * Only user-space instructions are counted: for the Linux backends the
 * kernel's TCP/IP work is invisible, so their figures are the application
 * and system-call wrappers only. For user-space stacks (lwIP, Inception)
 * the figure is the whole stack.
 *
 * Thread: main thread only.
 */
#ifndef INC_BENCH_CALLGRIND_H
#define INC_BENCH_CALLGRIND_H

#include <stdint.h>

#include "bench.h"
#include "bench_driver.h"

struct inc_bench_cg_cfg {
	const char *self_exe;
	const char *out_dir;
	const struct inc_bench_backend *const *backends;
	unsigned nbackends;
	uint64_t requests;       /**< N */
	uint16_t port;
	int verbose;
	int cps;                 /**< the cps test instead of lat: per connection */
};

/** Run the two valgrind runs per backend, print a table, write
 *  <out_dir>/callgrind.json. Returns: 0 if every run succeeded, -EIO. */
int inc_bench_callgrind(const struct inc_bench_cg_cfg *cfg);

/** The "--cg-run <path>" mode (inside valgrind): set up b, run cfg (one
 *  worker, the lat test, or cps with --callgrind-cps, with fixed_requests), write "requests R\npackets P\n
 *  loops L\n" to path. With idle_ms > 0 ("--cg-idle-ms"), start the server
 *  and leave it idle that long instead (requests 0): for a polling backend
 *  (one with a "loops" counter) the cost of an idle loop iteration.
 *  Returns: 0 or a negative errno. */
int inc_bench_callgrind_run(const struct inc_bench_backend *b, const struct inc_bench_env *env,
			    const struct inc_bench_run_cfg *cfg, unsigned idle_ms, const char *path);

#endif
