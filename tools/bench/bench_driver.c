/* The measurement driver (see bench_driver.h). */
#define _GNU_SOURCE
#include "bench_driver.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_hist.h"
#include "bench_proto.h"
#include "bench_sys.h"

static const char *const test_names[INC_BENCH_T_COUNT] = {"cps", "rps", "lat", "bulk1", "bulkK"};

/* State shared by the client threads of one test. */
struct run {
	const struct inc_bench_backend *b;
	void *state;
	const struct inc_bench_run_cfg *cfg;
	enum inc_bench_test test;
	unsigned conns;              /* per thread */
	unsigned depth;
	pthread_barrier_t barrier;
	atomic_int aborted;          /* a thread failed: the others stop early */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned finished;
};

/* One client thread; written by its thread, read by the main thread after
 * the join. */
struct client {
	pthread_t tid;
	unsigned index;
	struct run *run;
	void *tctx;
	uint64_t deadline;
	uint64_t t_start, t_end;
	uint64_t ops, bytes, conns, requests, streams;
	int rc;
	char error[192];
	struct inc_bench_hist hist;
};

const char *inc_bench_test_name(enum inc_bench_test t)
{
	return (unsigned)t < INC_BENCH_T_COUNT ? test_names[t] : "?";
}

int inc_bench_test_parse(const char *list, unsigned *mask)
{
	char buf[256];
	char *save = NULL;

	if (strlen(list) >= sizeof buf)
		return -EINVAL;
	strcpy(buf, list);
	*mask = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		unsigned t;

		if (strcmp(tok, "all") == 0) {
			*mask |= INC_BENCH_T_ALL;
			continue;
		}
		for (t = 0; t < INC_BENCH_T_COUNT; t++) {
			if (strcmp(tok, test_names[t]) == 0)
				break;
		}
		if (t == INC_BENCH_T_COUNT)
			return -EINVAL;
		*mask |= 1u << t;
	}
	return *mask != 0 ? 0 : -EINVAL;
}

static int fail(struct client *c, const char *what, int rc)
{
	if (c->error[0] == '\0')
		snprintf(c->error, sizeof c->error, "client %u: %s: %s", c->index, what,
			 rc == -ECONNRESET ? "connection reset or closed early" : strerror(-rc));
	return rc;
}

static int should_stop(const struct client *c)
{
	/* relaxed: only a hint to stop early; results travel by the join */
	if (atomic_load_explicit(&c->run->aborted, memory_order_relaxed))
		return 1;
	if (c->run->cfg->fixed_requests != 0)
		return c->requests >= c->run->cfg->fixed_requests;
	return inc_bench_now_ns() >= c->deadline;
}

static int recv_exact(struct client *c, struct inc_bench_conn *conn, uint8_t *buf, size_t len)
{
	const struct inc_bench_backend *b = c->run->b;

	while (len > 0) {
		ssize_t n = b->recv(c->tctx, conn, buf, len);

		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return (int)n;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int check_reply(struct client *c, const uint8_t *msg, enum inc_bench_msg_type want, uint64_t seq,
		       uint64_t arg)
{
	enum inc_bench_msg_type type;
	uint64_t s, a;
	int rc = inc_bench_msg_parse(c->run->cfg->pattern, msg, &type, &s, &a);

	if (rc < 0)
		return fail(c, "reply does not verify", rc);
	if (type != want || s != seq || a != arg)
		return fail(c, "reply does not match its request", -EPROTO);
	return 0;
}

static int run_cps(struct client *c)
{
	const struct inc_bench_backend *b = c->run->b;
	const struct inc_bench_pattern *pat = c->run->cfg->pattern;
	uint64_t seq = (uint64_t)c->index << 40;
	uint8_t msg[INC_BENCH_MSG_SIZE];
	struct inc_bench_conn conn;
	int rc;

	while (!should_stop(c)) {
		uint64_t t0 = inc_bench_now_ns();

		rc = b->connect(c->run->state, c->tctx, &conn);
		if (rc < 0)
			return fail(c, "connect", rc);
		c->conns++;
		seq++;
		inc_bench_msg_make(pat, msg, INC_BENCH_MSG_REQ, seq, c->index);
		if (c->run->cfg->corrupt && c->index == 0 && c->conns == 1)
			msg[40] ^= 1;
		rc = b->send_all(c->tctx, &conn, msg, sizeof msg);
		if (rc < 0) {
			fail(c, "send request", rc);
		} else {
			rc = recv_exact(c, &conn, msg, sizeof msg);
			if (rc < 0)
				fail(c, "receive response", rc);
			else
				rc = check_reply(c, msg, INC_BENCH_MSG_RESP, seq, c->index);
		}
		int crc = b->close(c->tctx, &conn);

		if (rc < 0)
			return rc;
		if (crc < 0)
			return fail(c, "close", crc);
		c->requests++;
		c->ops++;
		inc_bench_hist_add(&c->hist, inc_bench_now_ns() - t0);
	}
	return 0;
}

/* Keep-alive request/response on run->conns connections with run->depth
 * requests in flight on each. */
static int run_rr(struct client *c)
{
	const struct inc_bench_backend *b = c->run->b;
	const struct inc_bench_pattern *pat = c->run->cfg->pattern;
	unsigned nconn = c->run->conns, depth = c->run->depth;
	size_t batch = (size_t)depth * INC_BENCH_MSG_SIZE;
	struct inc_bench_conn *conns = calloc(nconn, sizeof *conns);
	uint64_t *sent_at = calloc(nconn, sizeof *sent_at);
	uint8_t *buf = malloc(batch);
	uint64_t seq = (uint64_t)c->index << 40;
	unsigned open = 0;
	int rc = 0;

	if (conns == NULL || sent_at == NULL || buf == NULL) {
		rc = fail(c, "allocate", -ENOMEM);
		goto out;
	}
	for (; open < nconn; open++) {
		rc = b->connect(c->run->state, c->tctx, &conns[open]);
		if (rc < 0) {
			fail(c, "connect", rc);
			goto out;
		}
		c->conns++;
	}
	while (rc == 0 && !should_stop(c)) {
		uint64_t first = seq + 1;

		for (unsigned i = 0; i < nconn; i++) {
			for (unsigned k = 0; k < depth; k++)
				inc_bench_msg_make(pat, buf + (size_t)k * INC_BENCH_MSG_SIZE, INC_BENCH_MSG_REQ,
						   ++seq, i);
			if (c->run->cfg->corrupt && c->index == 0 && first == ((uint64_t)c->index << 40) + 1)
				buf[40] ^= 1;
			sent_at[i] = inc_bench_now_ns();
			rc = b->send_all(c->tctx, &conns[i], buf, batch);
			if (rc < 0) {
				fail(c, "send request", rc);
				goto out;
			}
		}
		for (unsigned i = 0; i < nconn; i++) {
			for (unsigned k = 0; k < depth; k++) {
				rc = recv_exact(c, &conns[i], buf, INC_BENCH_MSG_SIZE);
				if (rc < 0) {
					fail(c, "receive response", rc);
					goto out;
				}
				rc = check_reply(c, buf, INC_BENCH_MSG_RESP, first + (uint64_t)i * depth + k, i);
				if (rc < 0)
					goto out;
				inc_bench_hist_add(&c->hist, inc_bench_now_ns() - sent_at[i]);
				c->requests++;
				c->ops++;
			}
		}
	}
out:
	for (unsigned i = 0; i < open; i++) {
		int crc = b->close(c->tctx, &conns[i]);

		if (crc < 0 && rc == 0)
			rc = fail(c, "close", crc);
	}
	free(conns);
	free(sent_at);
	free(buf);
	return rc;
}

static int run_bulk(struct client *c)
{
	const struct inc_bench_backend *b = c->run->b;
	const struct inc_bench_pattern *pat = c->run->cfg->pattern;
	size_t chunk = c->run->cfg->bulk_chunk;
	uint64_t seed = 0x5eed0000ull + c->index * 7919ull;
	uint64_t off = 0;
	uint8_t msg[INC_BENCH_MSG_SIZE];
	struct inc_bench_conn conn;
	int rc = b->connect(c->run->state, c->tctx, &conn);

	if (rc < 0)
		return fail(c, "connect", rc);
	c->conns++;
	inc_bench_msg_make(pat, msg, INC_BENCH_MSG_BULK, 0, seed);
	rc = b->send_all(c->tctx, &conn, msg, sizeof msg);
	if (rc < 0)
		fail(c, "send bulk header", rc);
	while (rc == 0 && !should_stop(c)) {
		/* Stream bytes straight from the pattern: no copy on the client. */
		size_t start = (size_t)((seed + off) & (INC_BENCH_PATTERN_SPAN - 1u));
		const uint8_t *data = &pat->bytes[start];

		if (c->run->cfg->corrupt && c->index == 0 && off == 0) {
			uint8_t *bad = malloc(chunk);

			if (bad == NULL) {
				rc = fail(c, "allocate", -ENOMEM);
				break;
			}
			memcpy(bad, data, chunk);
			bad[chunk / 2] ^= 1;
			rc = b->send_all(c->tctx, &conn, bad, chunk);
			free(bad);
		} else {
			rc = b->send_all(c->tctx, &conn, data, chunk);
		}
		if (rc < 0)
			fail(c, "send bulk data", rc);
		else
			off += chunk;
	}
	if (rc == 0) {
		rc = b->shutdown_wr(c->tctx, &conn);
		if (rc < 0)
			fail(c, "shutdown", rc);
	}
	if (rc == 0) {
		rc = recv_exact(c, &conn, msg, sizeof msg);
		if (rc < 0)
			fail(c, "receive bulk acknowledgement", rc);
		else
			rc = check_reply(c, msg, INC_BENCH_MSG_BULK_ACK, 0, off);
	}
	int crc = b->close(c->tctx, &conn);

	if (rc == 0 && crc < 0)
		rc = fail(c, "close", crc);
	if (rc == 0) {
		c->bytes = off;
		c->streams = 1;
		c->ops = 1;
	}
	return rc;
}

/* The same loop, run by the backend on its own threads (bench.h). */
static int run_job(struct client *c)
{
	struct run *r = c->run;
	struct inc_bench_client_job job = {
		.test = (unsigned)r->test,
		.index = c->index,
		.conns = r->conns,
		.depth = r->depth,
		.bulk_chunk = r->cfg->bulk_chunk,
		.deadline_ns = c->deadline,
		.fixed_requests = r->cfg->fixed_requests,
		.corrupt = r->cfg->corrupt,
		.pattern = r->cfg->pattern,
		.hist = &c->hist,
	};
	int rc = r->b->client_run(r->state, c->tctx, &job);

	c->ops = job.ops;
	c->bytes = job.bytes;
	c->conns = job.conns_opened;
	c->requests = job.requests;
	c->streams = job.streams;
	if (rc < 0 && c->error[0] == '\0')
		snprintf(c->error, sizeof c->error, "client %u: %.160s", c->index,
			 job.error[0] != '\0' ? job.error : strerror(-rc));
	return rc;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct run *r = c->run;
	int rc = 0, inited = 0;

	inc_bench_hist_reset(&c->hist);
	if (r->b->client_thread_init != NULL) {
		rc = r->b->client_thread_init(r->state, c->index, &c->tctx);
		if (rc < 0)
			fail(c, "client thread set-up", rc);
		inited = rc == 0;
	}
	pthread_barrier_wait(&r->barrier);
	c->t_start = inc_bench_now_ns();
	c->deadline = c->t_start + (uint64_t)(r->cfg->duration_s * 1e9);
	if (rc == 0 && r->b->client_run != NULL) {
		rc = run_job(c);
	} else if (rc == 0) {
		switch (r->test) {
		case INC_BENCH_T_CPS:
			rc = run_cps(c);
			break;
		case INC_BENCH_T_RPS:
		case INC_BENCH_T_LAT:
			rc = run_rr(c);
			break;
		case INC_BENCH_T_BULK1:
		case INC_BENCH_T_BULKK:
			rc = run_bulk(c);
			break;
		case INC_BENCH_T_COUNT:
			rc = -EINVAL;
			break;
		}
	}
	c->t_end = inc_bench_now_ns();
	if (inited && r->b->client_thread_fini != NULL)
		r->b->client_thread_fini(r->state, c->tctx);
	c->rc = rc;
	if (rc < 0)
		atomic_store_explicit(&r->aborted, 1, memory_order_relaxed);
	pthread_mutex_lock(&r->mu);
	r->finished++;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Wait for every client thread, or exit the program if they overrun. */
static void wait_finished(struct run *r, unsigned n, double limit_s)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)limit_s + 1;
	pthread_mutex_lock(&r->mu);
	while (r->finished < n) {
		if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT && r->finished < n) {
			fprintf(stderr,
				"inc_bench: STALL: %s test of %s: %u of %u client threads still running %.0f s "
				"after the test should have ended; exiting\n",
				inc_bench_test_name(r->test), r->b->name, n - r->finished, n, limit_s);
			_exit(3);
		}
	}
	pthread_mutex_unlock(&r->mu);
}

static void summarise(struct inc_bench_test_result *tr, struct client *cl, unsigned n)
{
	struct inc_bench_hist *h = calloc(1, sizeof *h);
	uint64_t t0 = UINT64_MAX, t1 = 0;

	tr->ok = 1;
	for (unsigned i = 0; i < n; i++) {
		struct client *c = &cl[i];

		if (c->rc < 0) {
			tr->ok = 0;
			if (tr->error[0] == '\0')
				snprintf(tr->error, sizeof tr->error, "%s", c->error);
		}
		tr->ops += c->ops;
		tr->bytes += c->bytes;
		if (c->t_start < t0)
			t0 = c->t_start;
		if (c->t_end > t1)
			t1 = c->t_end;
		if (h != NULL)
			inc_bench_hist_merge(h, &c->hist);
	}
	tr->seconds = t1 > t0 ? (double)(t1 - t0) / 1e9 : 0.0;
	if (tr->seconds > 0) {
		tr->rate = (double)tr->ops / tr->seconds;
		tr->gbps = (double)tr->bytes * 8.0 / tr->seconds / 1e9;
	}
	if (h != NULL && h->count > 0) {
		tr->p50_ns = inc_bench_hist_quantile(h, 0.50);
		tr->p99_ns = inc_bench_hist_quantile(h, 0.99);
		tr->p999_ns = inc_bench_hist_quantile(h, 0.999);
		tr->max_ns = h->max;
		tr->mean_ns = h->sum / h->count;
	}
	free(h);
}

static int run_test(const struct inc_bench_backend *b, void *state, const struct inc_bench_run_cfg *cfg,
		    enum inc_bench_test test, struct inc_bench_result *res)
{
	struct inc_bench_test_result *tr = &res->t[test];
	unsigned n = test == INC_BENCH_T_BULK1 ? 1 : cfg->workers;
	struct run r = {.b = b, .state = state, .cfg = cfg, .test = test, .conns = 1, .depth = 1};
	struct client *cl = calloc(n, sizeof *cl);
	unsigned started = 0;

	memset(tr, 0, sizeof *tr);
	tr->ran = 1;
	if (test == INC_BENCH_T_RPS) {
		r.conns = cfg->rps_conns;
		r.depth = cfg->rps_depth;
	}
	tr->threads = n;
	tr->conns = test == INC_BENCH_T_CPS ? 0 : r.conns;
	tr->depth = test == INC_BENCH_T_CPS || test >= INC_BENCH_T_BULK1 ? 0 : r.depth;
	if (cl == NULL) {
		snprintf(tr->error, sizeof tr->error, "out of memory");
		return -ENOMEM;
	}
	atomic_init(&r.aborted, 0);
	pthread_mutex_init(&r.mu, NULL);
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wait_finished's deadline */
	pthread_cond_init(&r.cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_barrier_init(&r.barrier, NULL, n + 1);
	for (; started < n; started++) {
		cl[started].index = started;
		cl[started].run = &r;
		if (pthread_create(&cl[started].tid, NULL, client_main, &cl[started]) != 0)
			break;
	}
	if (started < n) {
		/* Cannot happen with the thread counts we allow; not recoverable
		 * either, as the started threads wait at the barrier. */
		fprintf(stderr, "inc_bench: cannot start client threads\n");
		_exit(2);
	}
	pthread_barrier_wait(&r.barrier);
	wait_finished(&r, n, cfg->fixed_requests != 0 ? 600.0 : cfg->duration_s + cfg->stall_s);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(cl[i].tid, NULL);
		res->client_conns += cl[i].conns;
		res->client_requests += cl[i].requests;
		res->client_bulk_streams += cl[i].streams;
		res->client_bulk_bytes += cl[i].bytes;
	}
	summarise(tr, cl, n);
	pthread_barrier_destroy(&r.barrier);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	free(cl);
	return tr->ok ? 0 : -EIO;
}

static void counters_delta(struct inc_bench_counters *out, const struct inc_bench_counters *before,
			   const struct inc_bench_counters *after)
{
	memset(out, 0, sizeof *out);
	for (unsigned i = 0; i < after->n; i++)
		inc_bench_counters_add(out, after->c[i].name,
				       after->c[i].value - inc_bench_counters_get(before, after->c[i].name));
}

#define CHECK_EQ(what, client, server)                                                                   \
	do {                                                                                             \
		if ((client) != (server) && res->error[0] == '\0')                                       \
			snprintf(res->error, sizeof res->error,                                          \
				 "accounting: clients %s %llu, server %llu", what,                       \
				 (unsigned long long)(client), (unsigned long long)(server));            \
	} while (0)

static void cross_check(struct inc_bench_result *res)
{
	const struct inc_bench_server_stats *s = &res->server;

	if (s->errors != 0 && res->error[0] == '\0')
		snprintf(res->error, sizeof res->error, "server: %llu errors, first: %s",
			 (unsigned long long)s->errors, s->error);
	CHECK_EQ("opened connections", res->client_conns, s->conns_accepted);
	CHECK_EQ("closed connections", res->client_conns, s->conns_closed);
	CHECK_EQ("completed requests", res->client_requests, s->requests);
	CHECK_EQ("finished bulk streams", res->client_bulk_streams, s->bulk_streams);
	CHECK_EQ("bulk bytes", res->client_bulk_bytes, s->bulk_bytes);
}

int inc_bench_run(const struct inc_bench_backend *b, void *state, const struct inc_bench_run_cfg *cfg,
		  struct inc_bench_result *out)
{
	struct inc_bench_server_cfg scfg = {.workers = cfg->workers, .port = cfg->port, .pattern = cfg->pattern};
	struct inc_bench_counters before = {0}, after = {0};
	int rc, tests_ok = 1;

	memset(out, 0, sizeof *out);
	snprintf(out->backend, sizeof out->backend, "%s", b->name);
	out->workers = cfg->workers;
	out->oversubscribed = cfg->workers > cfg->cpus;
	if (b->counters != NULL)
		b->counters(state, &before);
	rc = b->server_start(state, &scfg);
	if (rc < 0) {
		snprintf(out->error, sizeof out->error, "server start: %s", strerror(-rc));
		return -EIO;
	}
	for (unsigned t = 0; t < INC_BENCH_T_COUNT; t++) {
		if (!(cfg->tests & (1u << t)))
			continue;
		if (run_test(b, state, cfg, (enum inc_bench_test)t, out) < 0) {
			tests_ok = 0;
			if (out->error[0] == '\0')
				snprintf(out->error, sizeof out->error, "%s: %s",
					 inc_bench_test_name((enum inc_bench_test)t), out->t[t].error);
			break;
		}
	}
	rc = b->server_stop(state, &out->server);
	if (rc < 0 && out->error[0] == '\0')
		snprintf(out->error, sizeof out->error, "server stop: %s (server: %s)", strerror(-rc),
			 out->server.error);
	if (tests_ok) {
		cross_check(out);
	} else if (out->server.error[0] != '\0') {
		size_t len = strlen(out->error);

		snprintf(out->error + len, sizeof out->error - len, " (server: %s)", out->server.error);
	}
	if (b->counters != NULL) {
		b->counters(state, &after);
		counters_delta(&out->counters, &before, &after);
	}
	out->ok = out->error[0] == '\0';
	return out->ok ? 0 : -EIO;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

#define MEDIAN_MAX 64

static double median_d(double *v, unsigned n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return v[n / 2];
}

static uint64_t median_u(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof *v, cmp_u64);
	return v[n / 2];
}

void inc_bench_result_median(struct inc_bench_result *out, const struct inc_bench_result *const *runs, unsigned n)
{
	double d[MEDIAN_MAX];
	uint64_t u[MEDIAN_MAX];

	if (n > MEDIAN_MAX)
		n = MEDIAN_MAX;
	*out = *runs[0];
	for (unsigned i = 1; i < n; i++) {
		const struct inc_bench_result *r = runs[i];

		if (!r->ok && out->ok) {
			out->ok = 0;
			memcpy(out->error, r->error, sizeof out->error);
		}
		out->client_conns += r->client_conns;
		out->client_requests += r->client_requests;
		out->client_bulk_streams += r->client_bulk_streams;
		out->client_bulk_bytes += r->client_bulk_bytes;
		inc_bench_server_stats_add(&out->server, &r->server);
		for (unsigned c = 0; c < out->counters.n; c++)
			out->counters.c[c].value += inc_bench_counters_get(&r->counters, out->counters.c[c].name);
	}
	for (unsigned t = 0; t < INC_BENCH_T_COUNT; t++) {
		struct inc_bench_test_result *o = &out->t[t];

		if (!o->ran)
			continue;
		for (unsigned i = 1; i < n; i++) {
			const struct inc_bench_test_result *x = &runs[i]->t[t];

			if (!x->ok && o->ok) {
				o->ok = 0;
				memcpy(o->error, x->error, sizeof o->error);
			}
			o->ops += x->ops;
			o->bytes += x->bytes;
			o->seconds += x->seconds;
			if (x->max_ns > o->max_ns)
				o->max_ns = x->max_ns;
		}
#define MEDIAN_OF(field, arr, fn)                             \
	do {                                                  \
		for (unsigned i = 0; i < n; i++)              \
			arr[i] = runs[i]->t[t].field;         \
		o->field = fn(arr, n);                        \
	} while (0)
		MEDIAN_OF(rate, d, median_d);
		MEDIAN_OF(gbps, d, median_d);
		MEDIAN_OF(p50_ns, u, median_u);
		MEDIAN_OF(p99_ns, u, median_u);
		MEDIAN_OF(p999_ns, u, median_u);
		MEDIAN_OF(mean_ns, u, median_u);
#undef MEDIAN_OF
	}
}
