/*
 * inc_bench: side-by-side benchmark of TCP stacks. See `inc_bench --help`
 * and docs/bench.md.
 *
 * Exit status: 0 all passed; 1 a connection, data or accounting error in
 * some run (reported); 2 usage or set-up error; 3 a stall (a test overran
 * its duration by more than --stall seconds).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_callgrind.h"
#include "bench_driver.h"
#include "bench_proto.h"
#include "bench_report.h"
#include "bench_sys.h"

#define MAX_BACKENDS 8
#define MAX_CORES 8

struct options {
	const struct inc_bench_backend *backends[MAX_BACKENDS];
	unsigned nbackends;
	unsigned cores[MAX_CORES];
	unsigned ncores;
	struct inc_bench_run_cfg run;
	const char *reference;
	const char *out_dir;
	const char *cpus;
	int plots;
	int callgrind;
	const char *cg_run;       /* hidden: inside valgrind */
	unsigned cg_idle_ms;      /* hidden: --cg-run without requests, the stack idle this long */
	int cg_cps;               /* --callgrind-cps: per connection instead of per request */
	uint64_t requests;
	int verbose;
	unsigned repeat;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: inc_bench [options]\n"
		"Runs the same TCP tests against each backend, on the same CPUs, and reports\n"
		"connections/s, requests/s, bulk Gbit/s and latency p50/p99 with ratios.\n\n"
		"  --backends LIST   backends to run, in order (default: all; see --list)\n"
		"  --workers LIST    worker counts K (server threads = client threads), default 1,2,4\n"
		"  --tests LIST      cps,rps,lat,bulk1,bulkK or all (default all)\n"
		"  --duration SEC    seconds per test (default 2)\n"
		"  --repeat N        run everything N times (interleaved) and report medians (default 1)\n"
		"  --rps-conns N     rps: keep-alive connections per client thread (default 4)\n"
		"  --rps-depth N     rps: requests in flight per connection (default 1, max %u)\n"
		"  --bulk-chunk B    bulk: bytes per send (default 65536, max 65536)\n"
		"  --reference NAME  backend the ratios divide by (default: inception if run,\n"
		"                    else the first backend)\n"
		"  --out DIR         where bench.json, bench.md and the PNG plots go (default bench-out)\n"
		"  --no-plots        do not run gnuplot\n"
		"  --cpus LIST       run on these CPUs only, e.g. 0-1 (default: all we may use)\n"
		"  --port N          server port (default 5201)\n"
		"  --stall SEC       a test that overruns its duration by this much is a stall (default 30)\n"
		"  --callgrind       count instructions per request and per packet under callgrind\n"
		"  --requests N      callgrind: requests per measurement (default 20000)\n"
		"  --callgrind-cps   callgrind: per connection (connect, request, response, close)\n"
		"  --list            list the backends\n"
		"  --corrupt         self-test: client 0 sends one corrupted byte; the run must fail\n"
		"  -v, --verbose\n"
		"Exit status: 0 passed, 1 a data/connection/accounting error, 2 usage or set-up\n"
		"error, 3 stall. Needs root (network namespaces) for the linux-* backends.\n",
		INC_BENCH_MAX_DEPTH);
}

static int parse_uint_list(const char *s, unsigned *out, unsigned max, unsigned *n)
{
	char *end;

	*n = 0;
	while (*s != '\0') {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v == 0 || v > 64 || *n >= max)
			return -EINVAL;
		out[(*n)++] = (unsigned)v;
		s = end;
		if (*s == ',')
			s++;
		else if (*s != '\0')
			return -EINVAL;
	}
	return *n > 0 ? 0 : -EINVAL;
}

static int parse_backends(const char *list, struct options *o)
{
	char buf[256];
	char *save = NULL;

	if (strlen(list) >= sizeof buf)
		return -EINVAL;
	strcpy(buf, list);
	o->nbackends = 0;
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		const struct inc_bench_backend *b = inc_bench_backend_find(t);

		if (b == NULL) {
			fprintf(stderr, "inc_bench: unknown backend '%s' (see --list)\n", t);
			return -EINVAL;
		}
		for (unsigned i = 0; i < o->nbackends; i++) {
			if (o->backends[i] == b) {
				fprintf(stderr, "inc_bench: backend '%s' given twice\n", t);
				return -EINVAL;
			}
		}
		if (o->nbackends == MAX_BACKENDS)
			return -EINVAL;
		o->backends[o->nbackends++] = b;
	}
	return o->nbackends > 0 ? 0 : -EINVAL;
}

static int parse_cpus(const char *s, cpu_set_t *set)
{
	char *end;

	CPU_ZERO(set);
	while (*s != '\0') {
		unsigned long a = strtoul(s, &end, 10), b;

		if (end == s)
			return -EINVAL;
		b = a;
		s = end;
		if (*s == '-') {
			b = strtoul(s + 1, &end, 10);
			if (end == s + 1 || b < a)
				return -EINVAL;
			s = end;
		}
		for (unsigned long c = a; c <= b && c < CPU_SETSIZE; c++)
			CPU_SET(c, set);
		if (*s == ',')
			s++;
		else if (*s != '\0')
			return -EINVAL;
	}
	return CPU_COUNT(set) > 0 ? 0 : -EINVAL;
}

enum { O_BACKENDS = 256, O_WORKERS, O_TESTS, O_DURATION, O_RPS_CONNS, O_RPS_DEPTH, O_BULK_CHUNK,
       O_REFERENCE, O_OUT, O_NO_PLOTS, O_CPUS, O_PORT, O_STALL, O_CALLGRIND, O_REQUESTS, O_LIST,
       O_CG_RUN, O_CORRUPT, O_REPEAT, O_CG_IDLE_MS, O_CG_CPS };

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"backends", required_argument, NULL, O_BACKENDS},
		{"workers", required_argument, NULL, O_WORKERS},
		{"cores", required_argument, NULL, O_WORKERS},
		{"tests", required_argument, NULL, O_TESTS},
		{"duration", required_argument, NULL, O_DURATION},
		{"rps-conns", required_argument, NULL, O_RPS_CONNS},
		{"rps-depth", required_argument, NULL, O_RPS_DEPTH},
		{"bulk-chunk", required_argument, NULL, O_BULK_CHUNK},
		{"reference", required_argument, NULL, O_REFERENCE},
		{"out", required_argument, NULL, O_OUT},
		{"no-plots", no_argument, NULL, O_NO_PLOTS},
		{"cpus", required_argument, NULL, O_CPUS},
		{"port", required_argument, NULL, O_PORT},
		{"stall", required_argument, NULL, O_STALL},
		{"callgrind", no_argument, NULL, O_CALLGRIND},
		{"requests", required_argument, NULL, O_REQUESTS},
		{"list", no_argument, NULL, O_LIST},
		{"cg-run", required_argument, NULL, O_CG_RUN},
		{"cg-idle-ms", required_argument, NULL, O_CG_IDLE_MS},
		{"callgrind-cps", no_argument, NULL, O_CG_CPS},
		{"corrupt", no_argument, NULL, O_CORRUPT},
		{"repeat", required_argument, NULL, O_REPEAT},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case O_BACKENDS:
			if (parse_backends(optarg, o) < 0)
				return -EINVAL;
			break;
		case O_WORKERS:
			if (parse_uint_list(optarg, o->cores, MAX_CORES, &o->ncores) < 0)
				return -EINVAL;
			break;
		case O_TESTS:
			if (inc_bench_test_parse(optarg, &o->run.tests) < 0)
				return -EINVAL;
			break;
		case O_DURATION:
			o->run.duration_s = strtod(optarg, NULL);
			if (!(o->run.duration_s > 0 && o->run.duration_s <= 3600))
				return -EINVAL;
			break;
		case O_RPS_CONNS:
			o->run.rps_conns = (unsigned)strtoul(optarg, NULL, 10);
			if (o->run.rps_conns < 1 || o->run.rps_conns > 64)
				return -EINVAL;
			break;
		case O_RPS_DEPTH:
			o->run.rps_depth = (unsigned)strtoul(optarg, NULL, 10);
			if (o->run.rps_depth < 1 || o->run.rps_depth > INC_BENCH_MAX_DEPTH)
				return -EINVAL;
			break;
		case O_BULK_CHUNK:
			o->run.bulk_chunk = strtoul(optarg, NULL, 10);
			if (o->run.bulk_chunk < 1 || o->run.bulk_chunk > INC_BENCH_PATTERN_SPAN)
				return -EINVAL;
			break;
		case O_REFERENCE:
			o->reference = optarg;
			break;
		case O_OUT:
			o->out_dir = optarg;
			break;
		case O_NO_PLOTS:
			o->plots = 0;
			break;
		case O_CPUS:
			o->cpus = optarg;
			break;
		case O_PORT:
			o->run.port = (uint16_t)strtoul(optarg, NULL, 10);
			if (o->run.port == 0)
				return -EINVAL;
			break;
		case O_STALL:
			o->run.stall_s = strtod(optarg, NULL);
			if (!(o->run.stall_s >= 1))
				return -EINVAL;
			break;
		case O_CALLGRIND:
			o->callgrind = 1;
			break;
		case O_REQUESTS:
			o->requests = strtoull(optarg, NULL, 10);
			if (o->requests < 1)
				return -EINVAL;
			break;
		case O_LIST:
			for (const struct inc_bench_backend *const *b = inc_bench_backends; *b != NULL; b++)
				printf("%-12s %s\n", (*b)->name, (*b)->summary);
			exit(0);
		case O_CG_RUN:
			o->cg_run = optarg;
			break;
		case O_CG_CPS:
			o->cg_cps = 1;
			break;
		case O_CG_IDLE_MS:
			o->cg_idle_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case O_CORRUPT:
			o->run.corrupt = 1;
			break;
		case O_REPEAT:
			o->repeat = (unsigned)strtoul(optarg, NULL, 10);
			if (o->repeat < 1 || o->repeat > 64)
				return -EINVAL;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

static void read_loadavg(double l[3])
{
	FILE *f = fopen("/proc/loadavg", "r");

	l[0] = l[1] = l[2] = 0;
	if (f == NULL)
		return;
	if (fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) != 3)
		l[0] = l[1] = l[2] = 0;
	fclose(f);
}

static void fill_meta(struct inc_bench_meta *m, const struct options *o, int argc, char **argv)
{
	struct utsname u;
	cpu_set_t set;
	time_t now = time(NULL);
	struct tm tm;
	size_t len = 0;

	memset(m, 0, sizeof *m);
	gmtime_r(&now, &tm);
	strftime(m->started, sizeof m->started, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.machine);
	m->cpus_online = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof set, &set);
	m->cpus_used = (unsigned)CPU_COUNT(&set);
	for (unsigned c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &set) && len + 8 < sizeof m->cpu_list)
			len += (size_t)snprintf(m->cpu_list + len, sizeof m->cpu_list - len, "%s%u", len ? "," : "", c);
	}
	len = 0;
	for (int i = 0; i < argc && len + 2 < sizeof m->command; i++)
		len += (size_t)snprintf(m->command + len, sizeof m->command - len, "%s%s", i ? " " : "", argv[i]);
	if (len >= sizeof m->command)
		m->command[sizeof m->command - 1] = '\0';
	read_loadavg(m->load_start);
	m->pid = (int)getpid();
	m->cfg = &o->run;
	m->cores = o->cores;
	m->ncores = o->ncores;
	m->backends = o->backends;
	m->nbackends = o->nbackends;
	m->reference = o->backends[0]->name;
	m->reference_why = "first backend run; no Inception backend in this run";
	for (unsigned i = 0; i < o->nbackends; i++) {
		if (strcmp(o->backends[i]->name, "inception") == 0) {
			m->reference = "inception";
			m->reference_why = "Inception";
		}
	}
	if (o->reference != NULL) {
		/* checked by main: one of the backends run */
		m->reference = o->reference;
		m->reference_why = "chosen with --reference";
	}
}

static int write_outputs(const struct options *o, const struct inc_bench_meta *m, const struct inc_bench_result *r,
			 size_t n)
{
	char path[1200];
	int rc;

	inc_bench_report_table(stdout, m, r, n, 0);
	snprintf(path, sizeof path, "%s/bench.md", o->out_dir);
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -errno;
	inc_bench_report_table(f, m, r, n, 1);
	if (fclose(f) != 0)
		return -errno;
	snprintf(path, sizeof path, "%s/bench.json", o->out_dir);
	rc = inc_bench_report_json(path, m, r, n);
	if (rc < 0)
		return rc;
	if (o->plots)
		rc = inc_bench_report_plots(o->out_dir, m, r, n);
	if (rc == 0)
		printf("\nWrote %s/bench.json, %s/bench.md%s\n", o->out_dir, o->out_dir,
		       o->plots ? ", throughput.png, latency.png" : "");
	return rc;
}

/* One run of one backend at one worker count, with a progress line. */
static int run_one(const struct options *o, const struct inc_bench_backend *b, void *state, int setup_rc,
		   unsigned workers, struct inc_bench_result *r)
{
	struct inc_bench_run_cfg cfg = o->run;
	int rc;

	cfg.workers = workers;
	if (setup_rc < 0) {
		memset(r, 0, sizeof *r);
		snprintf(r->backend, sizeof r->backend, "%s", b->name);
		r->workers = workers;
		r->oversubscribed = workers > cfg.cpus;
		snprintf(r->error, sizeof r->error, "set-up: %s", strerror(-setup_rc));
		return -EIO;
	}
	rc = inc_bench_run(b, state, &cfg, r);
	fprintf(stderr, "inc_bench: %-10s K=%u%s: %.0f conn/s, %.0f req/s, %.2f/%.2f Gbit/s, "
			"p50 %.1f us, p99 %.1f us%s%s\n",
		b->name, workers, r->oversubscribed ? " (oversubscribed)" : "", r->t[INC_BENCH_T_CPS].rate,
		r->t[INC_BENCH_T_RPS].rate, r->t[INC_BENCH_T_BULK1].gbps, r->t[INC_BENCH_T_BULKK].gbps,
		(double)r->t[INC_BENCH_T_LAT].p50_ns / 1e3, (double)r->t[INC_BENCH_T_LAT].p99_ns / 1e3,
		r->ok ? "" : "  FAILED: ", r->error);
	return rc;
}

/* Run every (repeat, worker count, backend), runs[] in that order, and put
 * the per-(worker count, backend) medians in res[]. */
static int run_matrix(const struct options *o, const struct inc_bench_env *env, struct inc_bench_result *runs,
		      struct inc_bench_result *res)
{
	void *state[MAX_BACKENDS] = {0};
	int setup_rc[MAX_BACKENDS];
	size_t per_rep = (size_t)o->ncores * o->nbackends;
	int all_ok = 1;

	for (unsigned bi = 0; bi < o->nbackends; bi++) {
		setup_rc[bi] = o->backends[bi]->setup(env, &state[bi]);
		if (setup_rc[bi] < 0)
			fprintf(stderr, "inc_bench: set-up of %s failed: %s\n", o->backends[bi]->name,
				strerror(-setup_rc[bi]));
	}
	/* Interleave backends per worker count, and repeats around it all, so
	 * that a change in machine load hits every backend alike. */
	for (unsigned rep = 0; rep < o->repeat; rep++) {
		for (unsigned ci = 0; ci < o->ncores; ci++) {
			for (unsigned bi = 0; bi < o->nbackends; bi++) {
				struct inc_bench_result *r = &runs[rep * per_rep + ci * o->nbackends + bi];

				if (run_one(o, o->backends[bi], state[bi], setup_rc[bi], o->cores[ci], r) < 0)
					all_ok = 0;
			}
		}
	}
	for (unsigned bi = 0; bi < o->nbackends; bi++) {
		if (setup_rc[bi] == 0)
			o->backends[bi]->teardown(state[bi]);
	}
	for (size_t k = 0; k < per_rep; k++) {
		const struct inc_bench_result *set[64];

		for (unsigned rep = 0; rep < o->repeat; rep++)
			set[rep] = &runs[rep * per_rep + k];
		inc_bench_result_median(&res[k], set, o->repeat);
	}
	return all_ok ? 0 : -EIO;
}

static int child_dispatch(int argc, char **argv)
{
	const struct inc_bench_backend *b = inc_bench_backend_find(argv[2]);

	if (b == NULL || b->child_main == NULL) {
		fprintf(stderr, "inc_bench: no child mode for '%s'\n", argv[2]);
		return 2;
	}
	return b->child_main(argc - 3, argv + 3);
}

int main(int argc, char **argv)
{
	struct options o = {
		.run = {.duration_s = 2.0, .tests = INC_BENCH_T_ALL, .rps_conns = 4, .rps_depth = 1,
			.bulk_chunk = 65536, .port = 5201, .stall_s = 30.0},
		.out_dir = "bench-out",
		.plots = 1,
		.requests = 20000,
		.repeat = 1,
		.cores = {1, 2, 4},
		.ncores = 3,
	};
	struct inc_bench_guard guard;
	char self[4096];
	cpu_set_t set;
	int rc;

	if (argc >= 3 && strcmp(argv[1], "--child") == 0)
		return child_dispatch(argc, argv);
	for (const struct inc_bench_backend *const *b = inc_bench_backends; *b != NULL && o.nbackends < MAX_BACKENDS; b++)
		o.backends[o.nbackends++] = *b;
	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (o.reference != NULL) {
		unsigned i = 0;

		while (i < o.nbackends && strcmp(o.backends[i]->name, o.reference) != 0)
			i++;
		if (i == o.nbackends) {
			fprintf(stderr, "inc_bench: --reference %s is not one of --backends\n", o.reference);
			return 2;
		}
	}
	if (o.cpus != NULL) {
		if (parse_cpus(o.cpus, &set) < 0 || sched_setaffinity(0, sizeof set, &set) < 0) {
			fprintf(stderr, "inc_bench: cannot use CPUs '%s'\n", o.cpus);
			return 2;
		}
	}
	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof set, &set);
	o.run.cpus = (unsigned)CPU_COUNT(&set);
	if (inc_bench_self_exe(self, sizeof self) < 0) {
		fprintf(stderr, "inc_bench: cannot find this program's path\n");
		return 2;
	}
	if (mkdir(o.out_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "inc_bench: cannot create %s: %s\n", o.out_dir, strerror(errno));
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (o.callgrind) {
		struct inc_bench_cg_cfg cg = {.self_exe = self, .out_dir = o.out_dir, .backends = o.backends,
					      .nbackends = o.nbackends, .requests = o.requests, .port = o.run.port,
					      .verbose = o.verbose, .cps = o.cg_cps};

		return inc_bench_callgrind(&cg) == 0 ? 0 : 1;
	}
	/* Before any thread: the guardian is forked from a single thread. */
	rc = inc_bench_guard_start(&guard);
	if (rc < 0) {
		fprintf(stderr, "inc_bench: cannot start the cleanup guardian: %s\n", strerror(-rc));
		return 2;
	}
	struct inc_bench_pattern *pattern = malloc(sizeof *pattern);
	struct inc_bench_env env = {.guard = &guard, .self_exe = self, .pid = getpid(), .verbose = o.verbose};

	if (pattern == NULL) {
		inc_bench_guard_stop(&guard);
		return 2;
	}
	inc_bench_pattern_init(pattern);
	o.run.pattern = pattern;
	if (o.cg_run != NULL) {
		struct inc_bench_run_cfg cfg = o.run;

		cfg.workers = 1;
		cfg.tests = 1u << (o.cg_cps ? INC_BENCH_T_CPS : INC_BENCH_T_LAT);
		cfg.fixed_requests = o.requests;
		rc = inc_bench_callgrind_run(o.backends[0], &env, &cfg, o.cg_idle_ms, o.cg_run);
		inc_bench_guard_stop(&guard);
		free(pattern);
		return rc == 0 ? 0 : 1;
	}

	struct inc_bench_meta meta;
	size_t n = (size_t)o.ncores * o.nbackends;
	struct inc_bench_result *res = calloc(n, sizeof *res);
	struct inc_bench_result *runs = calloc(n * o.repeat, sizeof *runs);
	uint64_t t0 = inc_bench_now_ns();

	fill_meta(&meta, &o, argc, argv);
	if (res == NULL || runs == NULL) {
		inc_bench_guard_stop(&guard);
		return 2;
	}
	rc = run_matrix(&o, &env, runs, res);
	meta.runs = runs;
	meta.nruns = n * o.repeat;
	meta.repeat = o.repeat;
	inc_bench_guard_stop(&guard);
	meta.wall_s = (double)(inc_bench_now_ns() - t0) / 1e9;
	read_loadavg(meta.load_end);
	int orc = write_outputs(&o, &meta, res, n);

	if (orc < 0)
		fprintf(stderr, "inc_bench: writing the report failed: %s\n", strerror(-orc));
	free(res);
	free(runs);
	free(pattern);
	if (rc < 0) {
		fprintf(stderr, "inc_bench: FAILED (see the errors above)\n");
		return 1;
	}
	return orc < 0 ? 2 : 0;
}
