/*
 * PNG plots of a run, drawn by gnuplot: throughput.png (connections/s,
 * requests/s, bulk Gbit/s on 1 and on K connections) and latency.png
 * (p50 and p99) against the number of workers. Worker counts above the
 * number of CPUs are shaded and labelled "oversubscribed".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench_report.h"
#include "bench_sys.h"

static void put(FILE *f, double v)
{
	if (isnan(v))
		fputs(" ?", f);
	else
		fprintf(f, " %.6g", v);
}

static const struct inc_bench_result *find(const struct inc_bench_result *r, size_t n, const char *b, unsigned w)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].workers == w && strcmp(r[i].backend, b) == 0)
			return &r[i];
	}
	return NULL;
}

static double ok_val(const struct inc_bench_test_result *t, double v)
{
	return t->ran && t->ok ? v : NAN;
}

/* One data file per backend: x, workers, cps, rps, bulk1, bulkK, p50, p99 (us). */
static int write_data(const char *dir, const struct inc_bench_meta *m, const struct inc_bench_result *r,
		      size_t n, unsigned bi)
{
	char path[1200];
	const char *name = m->backends[bi]->name;

	snprintf(path, sizeof path, "%s/plot-%s.dat", dir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -errno;
	fprintf(f, "# x workers conn/s req/s bulk1_gbps bulkK_gbps lat_p50_us lat_p99_us\n");
	for (unsigned ci = 0; ci < m->ncores; ci++) {
		const struct inc_bench_result *x = find(r, n, name, m->cores[ci]);

		if (x == NULL)
			continue;
		fprintf(f, "%u %u", ci + 1, m->cores[ci]);
		put(f, ok_val(&x->t[INC_BENCH_T_CPS], x->t[INC_BENCH_T_CPS].rate));
		put(f, ok_val(&x->t[INC_BENCH_T_RPS], x->t[INC_BENCH_T_RPS].rate));
		put(f, ok_val(&x->t[INC_BENCH_T_BULK1], x->t[INC_BENCH_T_BULK1].gbps));
		put(f, ok_val(&x->t[INC_BENCH_T_BULKK], x->t[INC_BENCH_T_BULKK].gbps));
		put(f, ok_val(&x->t[INC_BENCH_T_LAT], (double)x->t[INC_BENCH_T_LAT].p50_ns / 1e3));
		put(f, ok_val(&x->t[INC_BENCH_T_LAT], (double)x->t[INC_BENCH_T_LAT].p99_ns / 1e3));
		fputc('\n', f);
	}
	return fclose(f) == 0 ? 0 : -errno;
}

static void axes(FILE *f, const struct inc_bench_meta *m)
{
	fprintf(f, "set xrange [0.5:%u.5]\nset xtics (", m->ncores);
	for (unsigned ci = 0; ci < m->ncores; ci++) {
		unsigned w = m->cores[ci];

		fprintf(f, "%s\"%u%s\" %u", ci ? ", " : "", w, w > m->cpus_used ? "\\n(oversubscribed)" : "",
			ci + 1);
	}
	fprintf(f, ")\nunset object\nunset label\n");
	for (unsigned ci = 0; ci < m->ncores; ci++) {
		if (m->cores[ci] <= m->cpus_used)
			continue;
		fprintf(f, "set object rect from %u.5-1, graph 0 to %u.5, graph 1 fc rgb '#e6e6e6' "
			   "fillstyle solid noborder behind\n",
			ci + 1, ci + 1);
	}
	fprintf(f, "set xlabel 'workers K (K server threads and K client threads on %u CPUs)' offset 0,-0.8\n"
		   "set grid ytics\nset key below horizontal\nset yrange [0:*]\n",
		m->cpus_used);
}

/* Whether any backend has a figure of test t (a test left out with --tests
 * has none, and gnuplot refuses to plot a panel without a single point). */
static int any_ran(const struct inc_bench_result *r, size_t n, unsigned t)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].t[t].ran && r[i].t[t].ok)
			return 1;
	return 0;
}

static void panel(FILE *f, const char *dir, const struct inc_bench_meta *m, const char *title, const char *ylabel,
		  unsigned col, int has_data)
{
	if (!has_data) {
		/* an empty panel that says so */
		fprintf(f, "set title '%s (not run)'\nset ylabel '%s'\nset yrange [0:1]\n"
			   "plot 1/0 notitle\nset yrange [0:*]\n", title, ylabel);
		return;
	}
	fprintf(f, "set title '%s'\nset ylabel '%s'\nplot ", title, ylabel);
	for (unsigned bi = 0; bi < m->nbackends; bi++)
		fprintf(f, "%s'%s/plot-%s.dat' using 1:%u with linespoints lw 2 pt 7 title '%s'",
			bi ? ", \\\n     " : "", dir, m->backends[bi]->name, col, m->backends[bi]->name);
	fputc('\n', f);
}

int inc_bench_report_plots(const char *dir, const struct inc_bench_meta *m, const struct inc_bench_result *r,
			   size_t n)
{
	char script[1200];
	int rc;

	for (unsigned bi = 0; bi < m->nbackends; bi++) {
		rc = write_data(dir, m, r, n, bi);
		if (rc < 0)
			return rc;
	}
	snprintf(script, sizeof script, "%s/plots.gp", dir);
	FILE *f = fopen(script, "w");

	if (f == NULL)
		return -errno;
	fprintf(f, "# Written by inc_bench; run with: gnuplot %s\n", script);
	fprintf(f, "set datafile missing '?'\nset terminal pngcairo noenhanced size 1400,1000 font ',10'\n");
	fprintf(f, "set output '%s/throughput.png'\n", dir);
	fprintf(f, "set multiplot layout 2,2 title 'inc_bench %s: throughput against workers "
		   "(shaded: oversubscribed, more workers than CPUs)'\n", m->started);
	axes(f, m);
	panel(f, dir, m, "connections per second (connect, 64 B request, 64 B response, close)", "conn/s", 3, any_ran(r, n, INC_BENCH_T_CPS));
	panel(f, dir, m, "requests per second (keep-alive, 64 B)", "req/s", 4, any_ran(r, n, INC_BENCH_T_RPS));
	panel(f, dir, m, "bulk, 1 connection", "Gbit/s", 5, any_ran(r, n, INC_BENCH_T_BULK1));
	panel(f, dir, m, "bulk, K connections", "Gbit/s", 6, any_ran(r, n, INC_BENCH_T_BULKK));
	fprintf(f, "unset multiplot\n");
	fprintf(f, "set terminal pngcairo noenhanced size 1400,600 font ',10'\nset output '%s/latency.png'\n", dir);
	fprintf(f, "set multiplot layout 1,2 title 'inc_bench %s: request latency against workers, "
		   "1 request in flight per client thread (shaded: oversubscribed)'\n", m->started);
	axes(f, m);
	panel(f, dir, m, "latency p50", "microseconds", 7, any_ran(r, n, INC_BENCH_T_LAT));
	panel(f, dir, m, "latency p99", "microseconds", 8, any_ran(r, n, INC_BENCH_T_LAT));
	fprintf(f, "unset multiplot\n");
	if (fclose(f) != 0)
		return -errno;
	const char *argv[] = {"gnuplot", script, NULL};

	rc = inc_bench_run_cmd(argv, 0);
	if (rc < 0)
		fprintf(stderr, "inc_bench: gnuplot %s failed: %s\n", script, strerror(-rc));
	return rc;
}
