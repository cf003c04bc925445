/*
 * Output of the benchmark, apart from measurement: a text table (and the
 * same as Markdown) with ratios to a reference backend, a JSON document
 * with everything measured, and PNG plots drawn by gnuplot.
 *
 * Thread: main thread only.
 */
#ifndef INC_BENCH_REPORT_H
#define INC_BENCH_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "bench_driver.h"

/** How a run was made (for the report's header and the JSON). */
struct inc_bench_meta {
	char started[32];          /**< UTC, ISO 8601 */
	char kernel[224];
	unsigned cpus_online;
	unsigned cpus_used;        /**< CPUs in our affinity mask */
	char cpu_list[128];
	double load_start[3];      /**< /proc/loadavg before and after */
	double load_end[3];
	char command[1024];
	const char *reference;     /**< backend the ratios divide by */
	const char *reference_why; /**< why that one */
	const struct inc_bench_run_cfg *cfg;
	const unsigned *cores;     /**< worker counts, in run order */
	unsigned ncores;
	const struct inc_bench_backend *const *backends;
	unsigned nbackends;
	double wall_s;             /**< whole run */
	int pid;                   /**< ours: namespace names carry it */
	unsigned repeat;           /**< runs per (backend, workers); results are medians */
	const struct inc_bench_result *runs;  /**< every run, for the JSON */
	size_t nruns;
};

/** Print the results as a text table per worker count (markdown = 0) or
 *  as one Markdown table (markdown = 1). */
void inc_bench_report_table(FILE *f, const struct inc_bench_meta *m, const struct inc_bench_result *r,
			    size_t n, int markdown);

/** Write the JSON report. Returns: 0 or a negative errno. */
int inc_bench_report_json(const char *path, const struct inc_bench_meta *m, const struct inc_bench_result *r,
			  size_t n);

/** Write gnuplot data and script into dir and draw throughput.png and
 *  latency.png there. Returns: 0 or a negative errno (gnuplot missing or
 *  failing is -ECHILD / -ENOENT). */
int inc_bench_report_plots(const char *dir, const struct inc_bench_meta *m, const struct inc_bench_result *r,
			   size_t n);

#endif
