/* Text/Markdown table and JSON report (see bench_report.h). */
#include "bench_report.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "bench_json.h"

enum field { F_RATE, F_GBPS, F_P50, F_P99 };

struct metric {
	const char *label;
	enum inc_bench_test test;
	enum field field;
};

static const struct metric metrics[] = {
	{"conn/s", INC_BENCH_T_CPS, F_RATE},
	{"req/s", INC_BENCH_T_RPS, F_RATE},
	{"bulk 1 conn Gbit/s", INC_BENCH_T_BULK1, F_GBPS},
	{"bulk K conns Gbit/s", INC_BENCH_T_BULKK, F_GBPS},
	{"latency p50 us", INC_BENCH_T_LAT, F_P50},
	{"latency p99 us", INC_BENCH_T_LAT, F_P99},
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

static double value(const struct inc_bench_result *r, const struct metric *m)
{
	const struct inc_bench_test_result *t = &r->t[m->test];

	if (!t->ran || !t->ok)
		return NAN;
	switch (m->field) {
	case F_RATE:
		return t->rate;
	case F_GBPS:
		return t->gbps;
	case F_P50:
		return (double)t->p50_ns / 1e3;
	case F_P99:
		return (double)t->p99_ns / 1e3;
	}
	return NAN;
}

static const struct inc_bench_result *find(const struct inc_bench_result *r, size_t n, const char *backend,
					   unsigned workers)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].workers == workers && strcmp(r[i].backend, backend) == 0)
			return &r[i];
	}
	return NULL;
}

static void fmt_value(char *buf, size_t size, double v, enum field f)
{
	if (isnan(v))
		snprintf(buf, size, "-");
	else if (f == F_GBPS)
		snprintf(buf, size, "%.2f", v);
	else if (f == F_RATE)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.1f", v);
}

/* "12345 (0.52x)" */
static void fmt_cell(char *buf, size_t size, const struct inc_bench_result *r, const struct inc_bench_result *ref,
		     const struct metric *m)
{
	char v[32];
	double x = value(r, m);

	fmt_value(v, sizeof v, x, m->field);
	double rv = ref != NULL ? value(ref, m) : NAN;

	if (!isnan(x) && !isnan(rv) && rv > 0)
		snprintf(buf, size, "%s (%.2fx)", v, x / rv);
	else
		snprintf(buf, size, "%s", v);
}

static void header(FILE *f, const struct inc_bench_meta *m, int md)
{
	const struct inc_bench_run_cfg *c = m->cfg;
	const char *b = md ? "**" : "";
	const char *sep = md ? "\n\n" : "\n";

	fprintf(f, "%sinc_bench%s %s on %u of %u CPUs (%s), %s%s", b, b, m->started, m->cpus_used,
		m->cpus_online, m->cpu_list, m->kernel, sep);
	fprintf(f, "Load average %.2f %.2f %.2f before, %.2f %.2f %.2f after; %.0f s in all.%s", m->load_start[0],
		m->load_start[1], m->load_start[2], m->load_end[0], m->load_end[1], m->load_end[2], m->wall_s, sep);
	if (m->repeat > 1)
		fprintf(f, "Each figure is the median of %u runs (interleaved).%s", m->repeat, sep);
	fprintf(f, "%.2f s per test. req/s: %u keep-alive connections x %u in flight per client thread; "
		"latency: ping-pong, 1 request in flight per client thread; bulk: %zu-byte writes.%s",
		c->duration_s, c->rps_conns, c->rps_depth, c->bulk_chunk, sep);
	fprintf(f, "Ratios are backend / %s%s%s (reference: %s).%s", b, m->reference, b, m->reference_why, sep);
}

void inc_bench_report_table(FILE *f, const struct inc_bench_meta *m, const struct inc_bench_result *r,
			    size_t n, int markdown)
{
	char cell[64];

	header(f, m, markdown);
	if (markdown) {
		fprintf(f, "| backend | workers |");
		for (size_t k = 0; k < NMETRICS; k++)
			fprintf(f, " %s |", metrics[k].label);
		fprintf(f, "\n|---|---|");
		for (size_t k = 0; k < NMETRICS; k++)
			fprintf(f, "---:|");
		fputc('\n', f);
	}
	for (unsigned ci = 0; ci < m->ncores; ci++) {
		unsigned w = m->cores[ci];
		const struct inc_bench_result *ref = find(r, n, m->reference, w);
		int over = w > m->cpus_used;

		if (!markdown) {
			fprintf(f, "\n%u worker%s%s\n%-12s", w, w == 1 ? "" : "s",
				over ? " (OVERSUBSCRIBED: more workers than CPUs)" : "", "backend");
			for (size_t k = 0; k < NMETRICS; k++)
				fprintf(f, " %20s", metrics[k].label);
			fputc('\n', f);
		}
		for (unsigned bi = 0; bi < m->nbackends; bi++) {
			const struct inc_bench_result *x = find(r, n, m->backends[bi]->name, w);

			if (x == NULL)
				continue;
			if (markdown)
				fprintf(f, "| %s | %u%s |", x->backend, w, over ? " (oversubscribed)" : "");
			else
				fprintf(f, "%-12s", x->backend);
			for (size_t k = 0; k < NMETRICS; k++) {
				fmt_cell(cell, sizeof cell, x, ref, &metrics[k]);
				fprintf(f, markdown ? " %s |" : " %20s", cell);
			}
			if (!x->ok)
				fprintf(f, markdown ? " FAILED: %s" : "  FAILED: %s", x->error);
			fputc('\n', f);
		}
	}
}

static void json_test(struct inc_bench_json *j, const struct inc_bench_test_result *t, enum inc_bench_test id)
{
	inc_bench_json_object(j, inc_bench_test_name(id));
	inc_bench_json_bool(j, "ok", t->ok);
	inc_bench_json_u64(j, "threads", t->threads);
	inc_bench_json_u64(j, "conns_per_thread", t->conns);
	inc_bench_json_u64(j, "depth", t->depth);
	inc_bench_json_u64(j, "ops", t->ops);
	inc_bench_json_u64(j, "bytes", t->bytes);
	inc_bench_json_num(j, "seconds", t->seconds);
	inc_bench_json_num(j, "rate", t->rate);
	inc_bench_json_num(j, "gbps", t->gbps);
	inc_bench_json_num(j, "p50_us", (double)t->p50_ns / 1e3);
	inc_bench_json_num(j, "p99_us", (double)t->p99_ns / 1e3);
	inc_bench_json_num(j, "p999_us", (double)t->p999_ns / 1e3);
	inc_bench_json_num(j, "max_us", (double)t->max_ns / 1e3);
	inc_bench_json_num(j, "mean_us", (double)t->mean_ns / 1e3);
	inc_bench_json_str(j, "error", t->error);
	inc_bench_json_end(j, '}');
}

static void json_result(struct inc_bench_json *j, const struct inc_bench_result *r)
{
	const struct inc_bench_server_stats *s = &r->server;

	inc_bench_json_object(j, NULL);
	inc_bench_json_str(j, "backend", r->backend);
	inc_bench_json_u64(j, "workers", r->workers);
	inc_bench_json_bool(j, "oversubscribed", r->oversubscribed);
	inc_bench_json_bool(j, "ok", r->ok);
	inc_bench_json_str(j, "error", r->error);
	inc_bench_json_object(j, "tests");
	for (unsigned t = 0; t < INC_BENCH_T_COUNT; t++) {
		if (r->t[t].ran)
			json_test(j, &r->t[t], (enum inc_bench_test)t);
	}
	inc_bench_json_end(j, '}');
	inc_bench_json_object(j, "client");
	inc_bench_json_u64(j, "conns", r->client_conns);
	inc_bench_json_u64(j, "requests", r->client_requests);
	inc_bench_json_u64(j, "bulk_streams", r->client_bulk_streams);
	inc_bench_json_u64(j, "bulk_bytes", r->client_bulk_bytes);
	inc_bench_json_end(j, '}');
	inc_bench_json_object(j, "server");
	inc_bench_json_u64(j, "conns_accepted", s->conns_accepted);
	inc_bench_json_u64(j, "conns_closed", s->conns_closed);
	inc_bench_json_u64(j, "requests", s->requests);
	inc_bench_json_u64(j, "bulk_streams", s->bulk_streams);
	inc_bench_json_u64(j, "bulk_bytes", s->bulk_bytes);
	inc_bench_json_u64(j, "errors", s->errors);
	inc_bench_json_str(j, "error", s->error);
	inc_bench_json_end(j, '}');
	inc_bench_json_object(j, "counters");
	for (unsigned i = 0; i < r->counters.n; i++)
		inc_bench_json_u64(j, r->counters.c[i].name, r->counters.c[i].value);
	inc_bench_json_end(j, '}');
	inc_bench_json_end(j, '}');
}

int inc_bench_report_json(const char *path, const struct inc_bench_meta *m, const struct inc_bench_result *r,
			  size_t n)
{
	const struct inc_bench_run_cfg *c = m->cfg;
	struct inc_bench_json j;
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -errno;
	inc_bench_json_init(&j, f);
	inc_bench_json_object(&j, NULL);
	inc_bench_json_str(&j, "tool", "inc_bench");
	inc_bench_json_u64(&j, "format", 1);
	inc_bench_json_object(&j, "machine");
	inc_bench_json_str(&j, "started", m->started);
	inc_bench_json_str(&j, "kernel", m->kernel);
	inc_bench_json_u64(&j, "cpus_online", m->cpus_online);
	inc_bench_json_u64(&j, "cpus_used", m->cpus_used);
	inc_bench_json_str(&j, "cpu_list", m->cpu_list);
	inc_bench_json_u64(&j, "pid", (uint64_t)m->pid);
	inc_bench_json_array(&j, "loadavg_start");
	for (int i = 0; i < 3; i++)
		inc_bench_json_num(&j, NULL, m->load_start[i]);
	inc_bench_json_end(&j, ']');
	inc_bench_json_array(&j, "loadavg_end");
	for (int i = 0; i < 3; i++)
		inc_bench_json_num(&j, NULL, m->load_end[i]);
	inc_bench_json_end(&j, ']');
	inc_bench_json_end(&j, '}');
	inc_bench_json_object(&j, "config");
	inc_bench_json_str(&j, "command", m->command);
	inc_bench_json_num(&j, "duration_s", c->duration_s);
	inc_bench_json_u64(&j, "repeat", m->repeat);
	inc_bench_json_u64(&j, "rps_conns", c->rps_conns);
	inc_bench_json_u64(&j, "rps_depth", c->rps_depth);
	inc_bench_json_u64(&j, "bulk_chunk", c->bulk_chunk);
	inc_bench_json_str(&j, "reference", m->reference);
	inc_bench_json_str(&j, "reference_why", m->reference_why);
	inc_bench_json_array(&j, "workers");
	for (unsigned i = 0; i < m->ncores; i++)
		inc_bench_json_u64(&j, NULL, m->cores[i]);
	inc_bench_json_end(&j, ']');
	inc_bench_json_array(&j, "tests");
	for (unsigned t = 0; t < INC_BENCH_T_COUNT; t++) {
		if (c->tests & (1u << t))
			inc_bench_json_str(&j, NULL, inc_bench_test_name((enum inc_bench_test)t));
	}
	inc_bench_json_end(&j, ']');
	inc_bench_json_end(&j, '}');
	inc_bench_json_array(&j, "backends");
	for (unsigned i = 0; i < m->nbackends; i++) {
		inc_bench_json_object(&j, NULL);
		inc_bench_json_str(&j, "name", m->backends[i]->name);
		inc_bench_json_str(&j, "summary", m->backends[i]->summary);
		inc_bench_json_end(&j, '}');
	}
	inc_bench_json_end(&j, ']');
	inc_bench_json_array(&j, "results");
	for (size_t i = 0; i < n; i++)
		json_result(&j, &r[i]);
	inc_bench_json_end(&j, ']');
	if (m->repeat > 1) {
		inc_bench_json_array(&j, "runs");
		for (size_t i = 0; i < m->nruns; i++)
			json_result(&j, &m->runs[i]);
		inc_bench_json_end(&j, ']');
	}
	int all_ok = 1;

	for (size_t i = 0; i < n; i++)
		all_ok &= r[i].ok;
	inc_bench_json_bool(&j, "ok", all_ok);
	inc_bench_json_num(&j, "wall_s", m->wall_s);
	inc_bench_json_end(&j, '}');
	int rc = ferror(f) ? -EIO : 0;

	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}
