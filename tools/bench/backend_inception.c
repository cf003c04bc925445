/*
 * Backend "inception": Inception's per-core stacks, as an application uses
 * them at the per-core raw level (tools/stress/mix.c is the model).
 *
 * Two stacks in this process, a server and a client, with K workers each,
 * joined by the software RSS wire (drivers/wire.h: two net_ring ports whose
 * sender puts each frame on the queue a symmetric-Toeplitz RSS NIC would
 * choose). Server workers listen on every core (listener replicated, flows
 * tracked) and answer through bench_proto.h's server parser, like the other
 * backends' servers. The clients are not the driver's blocking threads but
 * per-core raw API callbacks (inception/raw.h) on the client stack's
 * workers, as Inception's own
 * applications run: driver client thread i hands its share of a test
 * (struct inc_bench_client_job) to client worker i and sleeps until it is
 * done; the worker runs the driver's loop message for message (bench.h).
 * So each side has K threads doing TCP, as with the kernel (K client threads
 * whose system calls run the client's TCP, K server threads).
 *
 * Workers idle with sched_yield() (INC_STACK_IDLE_YIELD): 2K workers share
 * the machine's CPUs, and at K = 1 a worker must not starve the other side.
 * The backend uses Inception's public headers only (include/inception/).
 *
 * EAL lcores 0..2*INC_BENCH_IB_MAX_WORKERS all float over the CPUs this
 * process may use (the same CPUs as every other backend). Client workers are
 * lcores 1..K, server workers K+1..2K.
 *
 * The stack's libraries carry a patched lwIP whose symbols collide with the
 * plain lwIP of backend "lwip": this file and Inception's static libraries
 * are linked into one relocatable object whose only global definition is
 * inc_bench_backend_inception (tools/bench/CMakeLists.txt).
 *
 * Counters: "packets" (frames both stacks sent), "steered" (packets handed
 * to another core: 0 when every packet lands on its owner), "ring_full",
 * "drops", "leaked_mbufs" (mbufs not back in their pools after a run),
 * "loops" (run-loop iterations of all workers: the callgrind mode subtracts
 * the cost of idle polling with it), "link_drops" and "tx_nomem" (the
 * workers' netif counters: frames lost or refused at the link).
 *
 * Debugging aid: IB_CAPTURE=<prefix> in the environment captures every
 * frame of the client's port (both directions) into <prefix>-p<port>-q<queue>.pcapng.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench_sys.h"
#include "inception/eal.h"
#include "inception/netif_counters.h"
#include "inception_priv.h"

/* ---- worker callbacks ----------------------------------------------------------- */

static void srv_start(struct inc_worker *w, void *arg)
{
	struct ib_state *st = arg;

	ib_server_listen(&st->sw[inc_worker_index(w)], w);
}

/* Link-level losses of worker w's netif, into the run's counters. */
static void count_netif(struct ib_state *st, const struct inc_worker *w)
{
	struct inc_netif_counters c;

	if (inc_worker_netif_counters(w, 0, &c) != 0)
		return;
	atomic_fetch_add_explicit(&st->link_drops, c.tx_dropped + c.rx_nomem + c.rx_too_long + c.rx_bad_l4_cksum,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&st->tx_nomem, c.tx_nomem, memory_order_relaxed);
}

static void srv_stop(struct inc_worker *w, void *arg)
{
	struct ib_state *st = arg;

	count_netif(st, w);

	ib_server_abort(&st->sw[inc_worker_index(w)]);
	inc_raw_worker_fini(w); /* the listener, and the raw API's state */
	st->sw[inc_worker_index(w)].listener = NULL;
}

static int cli_poll(struct inc_worker *w, void *arg)
{
	struct ib_state *st = arg;
	struct ib_cw *cw = &st->cw[inc_worker_index(w)];

	cw->w = w;
	return ib_client_poll(cw);
}

static void cli_stop(struct inc_worker *w, void *arg)
{
	struct ib_state *st = arg;

	count_netif(st, w);

	ib_client_abort(&st->cw[inc_worker_index(w)]);
	inc_raw_worker_fini(w);
}

/* ---- backend operations (main and client threads) -------------------------------- */

static int ib_setup(const struct inc_bench_env *env, void **state)
{
	struct ib_state *st = calloc(1, sizeof *st);
	struct inc_eal_config ec;
	struct inc_drv_err err;
	cpu_set_t set;
	char lcores[256], cpus[200], prefix[64];
	size_t len = 0;
	const char *args[8];

	if (st == NULL)
		return -ENOMEM;
	st->env = env;
	if (sched_getaffinity(0, sizeof set, &set) != 0) {
		free(st);
		return -errno;
	}
	cpus[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && len + 8 < sizeof cpus; c++) {
		if (CPU_ISSET(c, &set))
			len += (size_t)snprintf(cpus + len, sizeof cpus - len, "%s%d", len ? "," : "", c);
	}
	snprintf(lcores, sizeof lcores, "(0-%u)@(%s)", 2 * IB_MAX_WORKERS, cpus);
	snprintf(st->prefix, sizeof st->prefix, "incbench%d", (int)env->pid);
	snprintf(prefix, sizeof prefix, "--file-prefix=%s", st->prefix);
	args[0] = "--no-huge";
	args[1] = "-m";
	args[2] = "1024";
	args[3] = "--no-pci";
	args[4] = "--no-shconf";
	args[5] = "--no-telemetry";
	args[6] = prefix;
	args[7] = env->verbose ? "--log-level=user1,info" : "--log-level=*:warning";
	memset(&ec, 0, sizeof ec);
	ec.args = args;
	ec.n_args = 8;
	ec.lcores = lcores;
	ec.prog_name = "inc_bench";
	if (inc_eal_init(&ec, &err) != 0) {
		fprintf(stderr, "inc_bench: inception: %s\n", err.msg);
		free(st);
		return -EIO;
	}
	*state = st;
	return 0;
}

static void ib_teardown(void *state)
{
	struct ib_state *st = state;
	char dir[128];

	inc_eal_cleanup();
	snprintf(dir, sizeof dir, "/var/run/dpdk/%s", st->prefix);
	const char *rm[] = {"rm", "-rf", dir, NULL};

	inc_bench_run_cmd(rm, 1);
	free(st);
}

static int start_stack(struct inc_stack **s, void **mem, struct inc_port *port, unsigned k, const unsigned *lcores,
		       uint32_t ip, const struct inc_stack_callbacks *cb)
{
	struct inc_stack_config cfg;
	size_t len;

	memset(&cfg, 0, sizeof cfg);
	cfg.workers = k;
	cfg.lcores = lcores;
	cfg.n_ports = 1;
	cfg.ports[0].port = port;
	cfg.ports[0].ip4_addr = htonl(ip);
	cfg.ports[0].ip4_netmask = htonl(0xffffff00u);
	cfg.idle = INC_STACK_IDLE_YIELD;
	cfg.flows_per_core = 8192;
	cfg.cb = *cb;
	len = inc_stack_footprint(&cfg);
	if (len == 0 || posix_memalign(mem, 64, len) != 0)
		return -ENOMEM;
	return inc_stack_start(s, *mem, len, &cfg);
}

static void run_free(struct ib_state *st)
{
	if (st->pa_up)
		inc_port_close(&st->pa);
	if (st->pb_up)
		inc_port_close(&st->pb);
	if (st->wire_up)
		inc_wire_destroy(&st->wire);
	st->pa_up = st->pb_up = st->wire_up = 0;
	if (st->cw != NULL) {
		for (unsigned i = 0; i < st->k; i++) {
			if (st->cw[i].efd >= 0)
				close(st->cw[i].efd);
		}
	}
	if (st->sw != NULL) {
		for (unsigned i = 0; i < st->k; i++)
			free(st->sw[i].conns);
	}
	free(st->cw);
	free(st->sw);
	free(st->cmem);
	free(st->smem);
	st->cw = NULL;
	st->sw = NULL;
	st->cmem = st->smem = NULL;
	st->cs = st->ss = NULL;
}

static int ib_server_start(void *state, const struct inc_bench_server_cfg *cfg)
{
	struct ib_state *st = state;
	struct inc_wire_config wc;
	struct inc_port_config pc;
	struct inc_drv_err err;
	struct inc_stack_callbacks scb = {.worker_start = srv_start, .worker_stop = srv_stop, .arg = st};
	struct inc_stack_callbacks ccb = {.worker_poll = cli_poll, .worker_stop = cli_stop, .arg = st};
	unsigned lc[2 * IB_MAX_WORKERS];
	char name[16];
	unsigned k = cfg->workers;
	int rc;

	if (k < 1 || k > IB_MAX_WORKERS) {
		fprintf(stderr, "inc_bench: inception: 1 to %u workers\n", IB_MAX_WORKERS);
		return -EINVAL;
	}
	st->k = k;
	st->port = cfg->port;
	st->pattern = cfg->pattern;
	st->server = inc_addr_ip4(IB_SERVER_IP >> 24, (IB_SERVER_IP >> 16) & 0xff, (IB_SERVER_IP >> 8) & 0xff,
				  IB_SERVER_IP & 0xff);
	atomic_store(&st->stopping, 0);
	if (posix_memalign((void **)&st->cw, 64, k * sizeof *st->cw) != 0 ||
	    posix_memalign((void **)&st->sw, 64, k * sizeof *st->sw) != 0) {
		rc = -ENOMEM;
		goto fail;
	}
	memset(st->cw, 0, k * sizeof *st->cw);
	memset(st->sw, 0, k * sizeof *st->sw);
	for (unsigned i = 0; i < k; i++) {
		struct ib_cw *cw = &st->cw[i];
		struct ib_sw *sw = &st->sw[i];

		cw->st = st;
		cw->index = i;
		atomic_init(&cw->post, NULL);
		cw->efd = eventfd(0, EFD_CLOEXEC);
		sw->st = st;
		atomic_init(&sw->accepted, 0);
		atomic_init(&sw->closed, 0);
		sw->conns = calloc(IB_SRV_CONNS, sizeof *sw->conns);
		if (cw->efd < 0 || sw->conns == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		for (unsigned j = IB_SRV_CONNS; j-- > 0;) {
			sw->conns[j].sw = sw;
			sw->conns[j].next_free = sw->free_conns;
			sw->free_conns = &sw->conns[j];
		}
	}

	snprintf(name, sizeof name, "ib%u", st->runs++);
	memset(&wc, 0, sizeof wc);
	wc.name = name;
	wc.kind = INC_WIRE_RING;
	wc.queues_a = wc.queues_b = (uint16_t)k;
	memset(&st->wire, 0, sizeof st->wire);
	memset(&st->pa, 0, sizeof st->pa);
	memset(&st->pb, 0, sizeof st->pb);
	memset(&pc, 0, sizeof pc);
	pc.n_queues = pc.n_tx_queues = (uint16_t)k;
	pc.socket_id = -1;
	if (inc_wire_create(&st->wire, &wc, &err) != 0)
		goto drv_fail;
	st->wire_up = 1;
	pc.port_id = st->wire.port_a;
	if (inc_port_init(&st->pa, &pc, &err) != 0)
		goto drv_fail;
	st->pa_up = 1;
	pc.port_id = st->wire.port_b;
	if (inc_port_init(&st->pb, &pc, &err) != 0)
		goto drv_fail;
	st->pb_up = 1;
	if (inc_wire_attach(&st->wire, &st->pa, &st->pb, NULL, &err) != 0 || inc_port_start(&st->pa, &err) != 0 ||
	    inc_port_start(&st->pb, &err) != 0)
		goto drv_fail;

	for (unsigned i = 0; i < 2 * k; i++)
		lc[i] = i + 1;
	rc = start_stack(&st->ss, &st->smem, &st->pb, k, lc + k, IB_SERVER_IP, &scb);
	if (rc != 0)
		goto fail;
	for (unsigned i = 0; i < k; i++) {
		if (st->sw[i].listener == NULL) {
			rc = -EADDRINUSE;
			goto fail;
		}
	}
	rc = start_stack(&st->cs, &st->cmem, &st->pa, k, lc, IB_CLIENT_IP, &ccb);
	if (rc != 0)
		goto fail;
	if (getenv("IB_CAPTURE") != NULL)
		inc_port_capture_start(&st->pa, INC_PORT_ALL_QUEUES, getenv("IB_CAPTURE"), NULL);
	return 0;

drv_fail:
	fprintf(stderr, "inc_bench: inception: %s\n", err.msg);
	rc = -EIO;
fail:
	if (st->cs != NULL)
		inc_stack_stop(st->cs);
	if (st->ss != NULL)
		inc_stack_stop(st->ss);
	if (st->wire_up)
		inc_wire_drain(&st->wire);
	run_free(st);
	return rc < 0 ? rc : -EIO;
}

static int ib_server_stop(void *state, struct inc_bench_server_stats *stats)
{
	struct ib_state *st = state;
	uint64_t deadline = inc_bench_now_ns() + 10ull * 1000000000ull;
	uint64_t acc = 0, clo = 0;
	struct inc_stack_counters c1, c2;
	unsigned leaked;

	memset(stats, 0, sizeof *stats);
	/* every connection a client closed must be seen closed by the server */
	for (;;) {
		acc = clo = 0;
		for (unsigned i = 0; i < st->k; i++) {
			acc += atomic_load_explicit(&st->sw[i].accepted, memory_order_relaxed);
			clo += atomic_load_explicit(&st->sw[i].closed, memory_order_relaxed);
		}
		if (acc == clo || inc_bench_now_ns() > deadline)
			break;
		usleep(1000);
	}
	atomic_store(&st->stopping, 1);
	inc_stack_counters_total(st->cs, &c1);
	inc_stack_counters_total(st->ss, &c2);
	inc_stack_stop(st->cs);
	inc_stack_stop(st->ss);
	/* the workers are joined: their writes are visible */
	for (unsigned i = 0; i < st->k; i++) {
		struct ib_sw *sw = &st->sw[i];

		sw->stats.conns_accepted = atomic_load(&sw->accepted);
		sw->stats.conns_closed = atomic_load(&sw->closed);
		inc_bench_server_stats_add(stats, &sw->stats);
	}
	st->packets += c1.pkts_out + c2.pkts_out;
	st->loops += c1.loops + c2.loops;
	st->steered += c1.steered_out + c2.steered_out;
	st->ring_full += c1.ring_full + c2.ring_full;
	for (unsigned d = 0; d < INC_DROP_COUNT; d++)
		st->drops += c1.drops[d] + c2.drops[d];
	inc_wire_drain(&st->wire); /* frames in flight when the stacks stopped */
	leaked = inc_port_mbufs_in_use(&st->pa) + inc_port_mbufs_in_use(&st->pb);
	st->leaked += leaked;
	if (leaked != 0) {
		stats->errors++;
		if (stats->error[0] == '\0')
			snprintf(stats->error, sizeof stats->error, "%u mbufs not back in their pools", leaked);
	}
	run_free(st);
	return 0;
}

static int ib_client_run(void *state, void *tctx, struct inc_bench_client_job *job)
{
	struct ib_state *st = state;
	struct ib_cw *cw;
	uint64_t v;

	(void)tctx;
	if (job->index >= st->k) {
		snprintf(job->error, sizeof job->error, "client %u without a worker", job->index);
		return -EINVAL;
	}
	cw = &st->cw[job->index];
	/* pairs with the acquire exchange in ib_client_poll */
	atomic_store_explicit(&cw->post, job, memory_order_release);
	while (read(cw->efd, &v, sizeof v) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return cw->rc;
}

static void ib_counters(void *state, struct inc_bench_counters *out)
{
	struct ib_state *st = state;

	inc_bench_counters_add(out, "packets", st->packets);
	inc_bench_counters_add(out, "steered", st->steered);
	inc_bench_counters_add(out, "ring_full", st->ring_full);
	inc_bench_counters_add(out, "drops", st->drops);
	inc_bench_counters_add(out, "leaked_mbufs", st->leaked);
	inc_bench_counters_add(out, "loops", st->loops);
	inc_bench_counters_add(out, "link_drops", atomic_load(&st->link_drops));
	inc_bench_counters_add(out, "tx_nomem", atomic_load(&st->tx_nomem));
}

const struct inc_bench_backend inc_bench_backend_inception = {
	.name = "inception",
	.summary = "Inception: K per-core lwIP workers per side over the software RSS wire, raw-API clients on the client stack's workers",
	.setup = ib_setup,
	.teardown = ib_teardown,
	.server_start = ib_server_start,
	.server_stop = ib_server_stop,
	.client_run = ib_client_run,
	.counters = ib_counters,
};
