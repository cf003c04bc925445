/* Callgrind mode: instructions per request and per packet (bench_callgrind.h). */
#define _GNU_SOURCE
#include "bench_callgrind.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_json.h"
#include "bench_sys.h"

struct cg_sample {
	uint64_t requests, packets, loops;
	uint64_t ir_client, ir_server;  /* server: processes started with --child */
	unsigned files;
	int ok;
};

struct cg_result {
	const char *backend;
	struct cg_sample a, b;          /* N and 2N requests */
	struct cg_sample ia, ib;        /* polling backends: idle 300 and 600 ms */
	int polling;
	double ir_per_idle_loop, loops_per_request, per_request_work, per_packet_work;
	double per_request, per_request_client, per_request_server, per_packet, packets_per_request;
	int ok;
	char error[160];
};

/* Start the server, leave it idle, stop it: res gets the counters' deltas. */
static int idle_run(const struct inc_bench_backend *b, void *state, const struct inc_bench_run_cfg *cfg,
		    unsigned idle_ms, struct inc_bench_result *res)
{
	struct inc_bench_server_cfg scfg = {.workers = cfg->workers, .port = cfg->port, .pattern = cfg->pattern};
	struct inc_bench_counters before = {0}, after = {0};
	int rc;

	if (b->counters != NULL)
		b->counters(state, &before);
	rc = b->server_start(state, &scfg);
	if (rc < 0)
		return rc;
	usleep(idle_ms * 1000u);
	rc = b->server_stop(state, &res->server);
	if (b->counters != NULL) {
		b->counters(state, &after);
		for (unsigned i = 0; i < after.n; i++)
			inc_bench_counters_add(&res->counters, after.c[i].name,
					       after.c[i].value - inc_bench_counters_get(&before, after.c[i].name));
	}
	return rc;
}

int inc_bench_callgrind_run(const struct inc_bench_backend *b, const struct inc_bench_env *env,
			    const struct inc_bench_run_cfg *cfg, unsigned idle_ms, const char *path)
{
	struct inc_bench_result *res = calloc(1, sizeof *res);
	void *state = NULL;
	int rc = res != NULL ? b->setup(env, &state) : -ENOMEM;

	if (rc == 0) {
		rc = idle_ms > 0 ? idle_run(b, state, cfg, idle_ms, res) : inc_bench_run(b, state, cfg, res);
		if (rc < 0)
			fprintf(stderr, "inc_bench --cg-run %s: %s\n", b->name, res->error);
		b->teardown(state);
	}
	if (rc == 0) {
		FILE *f = fopen(path, "w");

		if (f == NULL)
			rc = -errno;
		else {
			fprintf(f, "requests %" PRIu64 "\npackets %" PRIu64 "\nloops %" PRIu64 "\n",
				res->client_requests, inc_bench_counters_get(&res->counters, "packets"),
				inc_bench_counters_get(&res->counters, "loops"));
			if (fclose(f) != 0)
				rc = -errno;
		}
	}
	free(res);
	return rc;
}

/* Total Ir of one callgrind file and whether it is a --child process. */
static int parse_cg_file(const char *path, uint64_t *ir, int *is_child)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	int found = 0;

	if (f == NULL)
		return -errno;
	*is_child = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long long v;

		if (strncmp(line, "cmd:", 4) == 0 && strstr(line, " --child ") != NULL)
			*is_child = 1;
		if ((sscanf(line, "summary: %llu", &v) == 1 || sscanf(line, "totals: %llu", &v) == 1) && !found) {
			*ir = v;
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -ENODATA;
}

static int run_valgrind(const struct inc_bench_cg_cfg *cfg, const char *backend, uint64_t n, unsigned idle_ms,
			struct cg_sample *s)
{
	char dir[1100], outfile[1400], counts[1400], prefix[128], reqs[32], port[16], idle[16];
	int rc;

	memset(s, 0, sizeof *s);
	snprintf(dir, sizeof dir, "%s/callgrind", cfg->out_dir);
	if (idle_ms > 0)
		snprintf(prefix, sizeof prefix, "%s.idle%u.", backend, idle_ms);
	else
		snprintf(prefix, sizeof prefix, "%s.%s%" PRIu64 ".", backend, cfg->cps ? "cps" : "", n);
	snprintf(idle, sizeof idle, "%u", idle_ms);
	snprintf(outfile, sizeof outfile, "--callgrind-out-file=%s/%s%%p.out", dir, prefix);
	snprintf(counts, sizeof counts, "%s/%scounts", dir, prefix);
	snprintf(reqs, sizeof reqs, "%" PRIu64, n);
	snprintf(port, sizeof port, "%u", cfg->port);
	const char *argv[] = {"valgrind", "--tool=callgrind", "-q", outfile, "--trace-children=yes",
			      "--trace-children-skip=*/ip,*/gnuplot,*/rm", cfg->self_exe, "--cg-run", counts,
			      "--backends", backend, "--requests", reqs, "--port", port, "--cg-idle-ms", idle,
			      cfg->cps ? "--callgrind-cps" : NULL, NULL};

	/* Old files of the same name would be summed in. */
	DIR *d = opendir(dir);

	if (d != NULL) {
		for (struct dirent *e; (e = readdir(d)) != NULL;) {
			if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
				char p[1400];

				snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
				remove(p);
			}
		}
		closedir(d);
	}
	if (cfg->verbose)
		fprintf(stderr, "inc_bench: callgrind %s, %" PRIu64 " requests\n", backend, n);
	rc = inc_bench_run_cmd(argv, 0);
	if (rc < 0)
		return rc;
	FILE *f = fopen(counts, "r");

	if (f == NULL)
		return -errno;
	unsigned long long r = 0, p = 0, l = 0;

	if (fscanf(f, "requests %llu packets %llu loops %llu", &r, &p, &l) != 3)
		rc = -ENODATA;
	fclose(f);
	if (rc < 0)
		return rc;
	s->requests = r;
	s->packets = p;
	s->loops = l;
	d = opendir(dir);
	if (d == NULL)
		return -errno;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		size_t len = strlen(e->d_name);
		char p2[1400];
		uint64_t ir = 0;
		int child = 0;

		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || len < 4 || strcmp(e->d_name + len - 4, ".out") != 0)
			continue;
		snprintf(p2, sizeof p2, "%s/%s", dir, e->d_name);
		rc = parse_cg_file(p2, &ir, &child);
		if (rc < 0)
			break;
		if (child)
			s->ir_server += ir;
		else
			s->ir_client += ir;
		s->files++;
	}
	closedir(d);
	s->ok = rc == 0 && s->files > 0;
	return s->ok ? 0 : (rc < 0 ? rc : -ENODATA);
}

static void compute(struct cg_result *r)
{
	double dreq = (double)r->b.requests - (double)r->a.requests;
	double dpkt = (double)r->b.packets - (double)r->a.packets;
	double dcli = (double)r->b.ir_client - (double)r->a.ir_client;
	double dsrv = (double)r->b.ir_server - (double)r->a.ir_server;

	if (dreq <= 0) {
		snprintf(r->error, sizeof r->error, "no difference in requests between the runs");
		return;
	}
	r->per_request_client = dcli / dreq;
	r->per_request_server = dsrv / dreq;
	r->per_request = (dcli + dsrv) / dreq;
	r->packets_per_request = dpkt / dreq;
	r->per_packet = dpkt > 0 ? (dcli + dsrv) / dpkt : 0.0;
	if (r->polling) {
		double iloops = (double)r->ib.loops - (double)r->ia.loops;
		double iir = (double)(r->ib.ir_client + r->ib.ir_server) - (double)(r->ia.ir_client + r->ia.ir_server);
		double dloops = (double)r->b.loops - (double)r->a.loops;

		if (iloops <= 0) {
			snprintf(r->error, sizeof r->error, "no difference in idle loops between the idle runs");
			return;
		}
		r->ir_per_idle_loop = iir / iloops;
		r->loops_per_request = dloops / dreq;
		r->per_request_work = (dcli + dsrv - dloops * r->ir_per_idle_loop) / dreq;
		r->per_packet_work = dpkt > 0 ? r->per_request_work * dreq / dpkt : 0.0;
	}
	r->ok = 1;
}

static int write_json(const struct inc_bench_cg_cfg *cfg, const struct cg_result *res)
{
	char path[1200];
	struct inc_bench_json j;

	snprintf(path, sizeof path, "%s/callgrind.json", cfg->out_dir);
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -errno;
	inc_bench_json_init(&j, f);
	inc_bench_json_object(&j, NULL);
	inc_bench_json_str(&j, "tool", "inc_bench --callgrind");
	inc_bench_json_u64(&j, "requests", cfg->requests);
	inc_bench_json_str(&j, "unit", cfg->cps ? "connection (cps: connect, 64-byte request and response, close)"
						 : "64-byte request/response (lat)");
	inc_bench_json_str(&j, "note", "user-space instructions only; marginal cost from runs of N and 2N requests");
	inc_bench_json_array(&j, "results");
	for (unsigned i = 0; i < cfg->nbackends; i++) {
		const struct cg_result *r = &res[i];

		inc_bench_json_object(&j, NULL);
		inc_bench_json_str(&j, "backend", r->backend);
		inc_bench_json_bool(&j, "ok", r->ok);
		inc_bench_json_str(&j, "error", r->error);
		inc_bench_json_num(&j, "ir_per_request", r->per_request);
		inc_bench_json_num(&j, "ir_per_request_main_process", r->per_request_client);
		inc_bench_json_num(&j, "ir_per_request_child_process", r->per_request_server);
		inc_bench_json_num(&j, "ir_per_packet", r->per_packet);
		inc_bench_json_num(&j, "packets_per_request", r->packets_per_request);
		inc_bench_json_u64(&j, "ir_main_n", r->a.ir_client);
		inc_bench_json_u64(&j, "ir_child_n", r->a.ir_server);
		inc_bench_json_u64(&j, "ir_main_2n", r->b.ir_client);
		inc_bench_json_u64(&j, "ir_child_2n", r->b.ir_server);
		inc_bench_json_bool(&j, "polling", r->polling);
		if (r->polling) {
			inc_bench_json_num(&j, "ir_per_idle_loop", r->ir_per_idle_loop);
			inc_bench_json_num(&j, "loops_per_request", r->loops_per_request);
			inc_bench_json_num(&j, "ir_per_request_excluding_polling", r->per_request_work);
			inc_bench_json_num(&j, "ir_per_packet_excluding_polling", r->per_packet_work);
		}
		inc_bench_json_end(&j, '}');
	}
	inc_bench_json_end(&j, ']');
	inc_bench_json_end(&j, '}');
	return fclose(f) == 0 ? 0 : -errno;
}

int inc_bench_callgrind(const struct inc_bench_cg_cfg *cfg)
{
	struct cg_result *res = calloc(cfg->nbackends, sizeof *res);
	char dir[1100];
	int all_ok = 1;

	if (res == NULL)
		return -ENOMEM;
	snprintf(dir, sizeof dir, "%s/callgrind", cfg->out_dir);
	const char *mk[] = {"mkdir", "-p", dir, NULL};

	if (inc_bench_run_cmd(mk, 0) < 0) {
		free(res);
		return -EIO;
	}
	for (unsigned i = 0; i < cfg->nbackends; i++) {
		struct cg_result *r = &res[i];
		int rc;

		r->backend = cfg->backends[i]->name;
		rc = run_valgrind(cfg, r->backend, cfg->requests, 0, &r->a);
		if (rc == 0)
			rc = run_valgrind(cfg, r->backend, 2 * cfg->requests, 0, &r->b);
		r->polling = rc == 0 && r->a.loops > 0;
		if (r->polling)
			rc = run_valgrind(cfg, r->backend, cfg->requests, 300, &r->ia);
		if (r->polling && rc == 0)
			rc = run_valgrind(cfg, r->backend, cfg->requests, 600, &r->ib);
		if (rc < 0)
			snprintf(r->error, sizeof r->error, "callgrind run failed: %s", strerror(-rc));
		else
			compute(r);
		all_ok &= r->ok;
	}
	printf("Instructions (Ir, user space only) per %s, callgrind, marginal over "
	       "%" PRIu64 " of them (runs of %" PRIu64 " and %" PRIu64 "):\n",
	       cfg->cps ? "connection (connect, 64-byte request and response, close)" : "64-byte request/response",
	       cfg->requests, cfg->requests, 2 * cfg->requests);
	printf("%-12s %12s %14s %14s %12s %12s\n", "backend", cfg->cps ? "Ir/conn" : "Ir/request", "main process",
	       "child process", "Ir/packet", cfg->cps ? "pkts/conn" : "pkts/request");
	for (unsigned i = 0; i < cfg->nbackends; i++) {
		const struct cg_result *r = &res[i];

		if (!r->ok) {
			printf("%-12s FAILED: %s\n", r->backend, r->error);
			continue;
		}
		printf("%-12s %12.0f %14.0f %14.0f %12.0f %12.2f\n", r->backend, r->per_request,
		       r->per_request_client, r->per_request_server, r->per_packet, r->packets_per_request);
	}
	for (unsigned i = 0; i < cfg->nbackends; i++) {
		const struct cg_result *r = &res[i];

		if (!r->ok || !r->polling)
			continue;
		printf("%-12s excluding polling: %.0f Ir/%s, %.0f Ir/packet (%.2f loop iterations per %s "
		       "at %.0f Ir per idle iteration subtracted)\n",
		       r->backend, r->per_request_work, cfg->cps ? "conn" : "request", r->per_packet_work,
		       r->loops_per_request, cfg->cps ? "connection" : "request", r->ir_per_idle_loop);
	}
	printf("main process: clients (and the server threads of backends without a server process);\n"
	       "child process: a backend's server process (lwip). linux-*: the kernel's TCP/IP is not\n"
	       "counted, only the benchmark's own code and the system-call wrappers.\n");
	int rc = write_json(cfg, res);

	free(res);
	return all_ok && rc == 0 ? 0 : -EIO;
}
