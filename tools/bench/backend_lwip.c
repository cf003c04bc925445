/*
 * Backend "lwip": plain lwIP 2.1.3 as released (unpatched), NO_SYS=0 with
 * its single tcpip thread and its BSD sockets API, configured as a stock
 * user would (lwip-port/include/lwipopts.h). Client in this process, server
 * in a child process; see lwip_priv.h for the picture and lwip_link.h for
 * the link and its cost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_sys.h"
#include "lwip/ip4_addr.h"
#include "lwip/tcpip.h"
#include "lwip_priv.h"

#define START_TIMEOUT_NS (20ull * 1000000000ull)
#define STOP_TIMEOUT_NS (30ull * 1000000000ull)

static const uint8_t client_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t server_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

struct lwip_state {
	struct inc_bench_lwip_shm *shm;
	int memfd;
	int efd_c2s;          /* wakes the server's receive thread */
	int efd_s2c;          /* wakes our receive thread */
	char self_exe[4096];
	pid_t child;
	uint16_t port;
	struct inc_bench_link link;
};

static int map_shm(int fd, struct inc_bench_lwip_shm **shm)
{
	void *p = mmap(NULL, sizeof **shm, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	*shm = p;
	return 0;
}

static int start_lwip(struct inc_bench_link *link, struct inc_bench_link_ring *tx, struct inc_bench_link_ring *rx,
		      int tx_efd, int rx_efd, const uint8_t mac[6], const char *ip)
{
	ip4_addr_t addr, mask;

	/* lwIP's core lock is created by tcpip_init: valid means this process
	 * already runs its one lwIP instance. */
	if (sys_mutex_valid(&lock_tcpip_core))
		return -EALREADY;
	tcpip_init(NULL, NULL);
	ip4addr_aton(ip, &addr);
	ip4addr_aton(INC_BENCH_LWIP_NETMASK, &mask);
	return inc_bench_link_start(link, tx, rx, tx_efd, rx_efd, mac, &addr, &mask);
}

static void lwip_teardown(void *state)
{
	struct lwip_state *st = state;

	if (st == NULL)
		return;
	if (st->child > 0) {
		kill(st->child, SIGKILL);
		waitpid(st->child, NULL, 0);
	}
	/* lwIP itself cannot be shut down; its tcpip thread stays idle. */
	inc_bench_link_stop(&st->link);
	if (st->shm != NULL)
		munmap(st->shm, sizeof *st->shm);
	if (st->memfd >= 0)
		close(st->memfd);
	if (st->efd_c2s >= 0)
		close(st->efd_c2s);
	if (st->efd_s2c >= 0)
		close(st->efd_s2c);
	free(st);
}

static int lwip_setup(const struct inc_bench_env *env, void **state)
{
	struct lwip_state *st = calloc(1, sizeof *st);
	int rc = 0;

	*state = NULL;
	if (st == NULL)
		return -ENOMEM;
	snprintf(st->self_exe, sizeof st->self_exe, "%s", env->self_exe);
	/* Inherited by the child across exec: no CLOEXEC on these three. */
	st->memfd = memfd_create("inc_bench_lwip_link", 0);
	st->efd_c2s = eventfd(0, 0);
	st->efd_s2c = eventfd(0, 0);
	if (st->memfd < 0 || st->efd_c2s < 0 || st->efd_s2c < 0)
		rc = -errno;
	if (rc == 0 && ftruncate(st->memfd, (off_t)sizeof *st->shm) < 0)
		rc = -errno;
	if (rc == 0)
		rc = map_shm(st->memfd, &st->shm);
	if (rc == 0) {
		inc_bench_link_ring_init(&st->shm->c2s);
		inc_bench_link_ring_init(&st->shm->s2c);
		rc = start_lwip(&st->link, &st->shm->c2s, &st->shm->s2c, st->efd_c2s, st->efd_s2c, client_mac,
				INC_BENCH_LWIP_CLIENT_IP);
	}
	if (rc < 0) {
		fprintf(stderr, "inc_bench: lwip backend set-up: %s\n", strerror(-rc));
		lwip_teardown(st);
		return rc;
	}
	*state = st;
	return 0;
}

/* Wait for the server process. Returns 0 if it exited with status 0; else
 * -ECHILD, with what happened in *why (may be NULL). */
static int reap_child(struct lwip_state *st, int kill_it, struct inc_bench_server_stats *why)
{
	int status = 0;

	if (kill_it)
		kill(st->child, SIGKILL);
	while (waitpid(st->child, &status, 0) < 0 && errno == EINTR)
		;
	st->child = -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (why != NULL && why->error[0] == '\0') {
		if (WIFEXITED(status))
			snprintf(why->error, sizeof why->error, "server process exited with status %d",
				 WEXITSTATUS(status));
		else
			snprintf(why->error, sizeof why->error, "server process killed by signal %d",
				 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
	return -ECHILD;
}

static int lwip_server_start(void *state, const struct inc_bench_server_cfg *cfg)
{
	struct lwip_state *st = state;
	struct inc_bench_lwip_ctl *ctl = &st->shm->ctl;
	char a_mem[16], a_c2s[16], a_s2c[16];
	char *argv[] = {st->self_exe, "--child", "lwip", a_mem, a_c2s, a_s2c, NULL};
	pid_t parent = getpid();

	snprintf(a_mem, sizeof a_mem, "%d", st->memfd);
	snprintf(a_c2s, sizeof a_c2s, "%d", st->efd_c2s);
	snprintf(a_s2c, sizeof a_s2c, "%d", st->efd_s2c);
	memset(&ctl->stats, 0, sizeof ctl->stats);
	ctl->workers = cfg->workers;
	ctl->port = cfg->port;
	st->port = cfg->port;
	/* release pairs with the child's acquire load (it reads workers/port) */
	atomic_store_explicit(&ctl->state, INC_BENCH_LWIP_CTL_STARTING, memory_order_release);
	st->child = fork();
	if (st->child < 0)
		return -errno;
	if (st->child == 0) {
		/* Only async-signal-safe calls between fork and exec. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		execv(st->self_exe, argv);
		_exit(127);
	}
	uint64_t until = inc_bench_now_ns() + START_TIMEOUT_NS;
	struct timespec nap = {.tv_nsec = 1000 * 1000};

	for (;;) {
		/* acquire pairs with the child's release store of READY/FAILED */
		uint32_t s = atomic_load_explicit(&ctl->state, memory_order_acquire);

		if (s == INC_BENCH_LWIP_CTL_READY)
			return 0;
		if (s == INC_BENCH_LWIP_CTL_FAILED) {
			fprintf(stderr, "inc_bench: lwip server: %s\n", ctl->stats.error);
			reap_child(st, 1, NULL);
			return -EIO;
		}
		if (waitpid(st->child, NULL, WNOHANG) == st->child) {
			st->child = -1;
			fprintf(stderr, "inc_bench: lwip server process died while starting\n");
			return -ECHILD;
		}
		if (inc_bench_now_ns() > until) {
			reap_child(st, 1, NULL);
			return -ETIMEDOUT;
		}
		nanosleep(&nap, NULL);
	}
}

static int lwip_server_stop(void *state, struct inc_bench_server_stats *stats)
{
	struct lwip_state *st = state;
	struct inc_bench_lwip_ctl *ctl = &st->shm->ctl;
	uint64_t until = inc_bench_now_ns() + STOP_TIMEOUT_NS;
	struct timespec nap = {.tv_nsec = 1000 * 1000};
	int rc = 0;

	if (st->child <= 0)
		return -ECHILD;
	/* release pairs with the child's acquire load of state */
	atomic_store_explicit(&ctl->state, INC_BENCH_LWIP_CTL_STOP, memory_order_release);
	for (;;) {
		/* acquire pairs with the child's release store of STOPPED */
		uint32_t s = atomic_load_explicit(&ctl->state, memory_order_acquire);

		if (s == INC_BENCH_LWIP_CTL_STOPPED || s == INC_BENCH_LWIP_CTL_FAILED)
			break;
		if (inc_bench_now_ns() > until) {
			rc = -ETIMEDOUT;
			break;
		}
		nanosleep(&nap, NULL);
	}
	if (stats != NULL)
		*stats = ctl->stats;
	int crc = reap_child(st, rc < 0, stats);

	return rc < 0 ? rc : crc;
}

static int lwip_child_main(int argc, char **argv)
{
	struct inc_bench_lwip_shm *shm = NULL;
	struct inc_bench_link link;
	struct inc_bench_pattern *pattern = malloc(sizeof *pattern);
	int rc;

	if (argc != 3 || pattern == NULL) {
		fprintf(stderr, "inc_bench --child lwip: usage: <memfd> <efd_c2s> <efd_s2c>\n");
		free(pattern);
		return 2;
	}
	int memfd = atoi(argv[0]), efd_c2s = atoi(argv[1]), efd_s2c = atoi(argv[2]);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	rc = map_shm(memfd, &shm);
	if (rc < 0) {
		fprintf(stderr, "inc_bench --child lwip: mmap: %s\n", strerror(-rc));
		free(pattern);
		return 1;
	}
	/* acquire pairs with the parent's release store of STARTING */
	if (atomic_load_explicit(&shm->ctl.state, memory_order_acquire) != INC_BENCH_LWIP_CTL_STARTING) {
		free(pattern);
		return 1;
	}
	inc_bench_pattern_init(pattern);
	rc = start_lwip(&link, &shm->s2c, &shm->c2s, efd_s2c, efd_c2s, server_mac, INC_BENCH_LWIP_SERVER_IP);
	if (rc < 0) {
		free(pattern);
		inc_bench_srv_error(&shm->ctl.stats, "server: lwIP start", rc);
		atomic_store_explicit(&shm->ctl.state, INC_BENCH_LWIP_CTL_FAILED, memory_order_release);
		return 1;
	}
	rc = inc_bench_lwip_server_run(&shm->ctl, pattern);
	free(pattern);
	/* Exit without tearing lwIP down: the process ends here. */
	return rc < 0 ? 1 : 0;
}

static int lwip_connect(void *state, void *tctx, struct inc_bench_conn *conn)
{
	struct lwip_state *st = state;

	(void)tctx;
	return inc_bench_lwip_client_connect(st->port, conn);
}

static int lwip_send_all(void *tctx, struct inc_bench_conn *conn, const void *buf, size_t len)
{
	(void)tctx;
	return inc_bench_lwip_client_send_all(conn, buf, len);
}

static ssize_t lwip_recv_some(void *tctx, struct inc_bench_conn *conn, void *buf, size_t len)
{
	(void)tctx;
	return inc_bench_lwip_client_recv(conn, buf, len);
}

static int lwip_shutdown_wr(void *tctx, struct inc_bench_conn *conn)
{
	(void)tctx;
	return inc_bench_lwip_client_shutdown_wr(conn);
}

static int lwip_close_conn(void *tctx, struct inc_bench_conn *conn)
{
	(void)tctx;
	return inc_bench_lwip_client_close(conn);
}

static void ring_counters(struct inc_bench_counters *out, const struct inc_bench_link_ring *r, const char *dir)
{
	char name[32];

#define RC(field)                                                                         \
	do {                                                                              \
		snprintf(name, sizeof name, "%s_%s", dir, #field);                        \
		inc_bench_counters_add(out, name,                                         \
				       atomic_load_explicit(&r->field, memory_order_relaxed)); \
	} while (0)
	RC(frames);
	RC(wakeups);
	RC(sleeps);
	RC(full_waits);
	RC(drops);
	RC(input_drops);
#undef RC
}

static void lwip_counters(void *state, struct inc_bench_counters *out)
{
	struct lwip_state *st = state;
	uint64_t f = atomic_load_explicit(&st->shm->c2s.frames, memory_order_relaxed) +
		     atomic_load_explicit(&st->shm->s2c.frames, memory_order_relaxed);

	inc_bench_counters_add(out, "packets", f);
	ring_counters(out, &st->shm->c2s, "c2s");
	ring_counters(out, &st->shm->s2c, "s2c");
}

const struct inc_bench_backend inc_bench_backend_lwip = {
	.name = "lwip",
	.summary = "plain lwIP 2.1.3 (unpatched): one tcpip thread, sockets API; two processes over a "
		   "shared-memory Ethernet link",
	.setup = lwip_setup,
	.teardown = lwip_teardown,
	.server_start = lwip_server_start,
	.server_stop = lwip_server_stop,
	.connect = lwip_connect,
	.send_all = lwip_send_all,
	.recv = lwip_recv_some,
	.shutdown_wr = lwip_shutdown_wr,
	.close = lwip_close_conn,
	.counters = lwip_counters,
	.child_main = lwip_child_main,
};
