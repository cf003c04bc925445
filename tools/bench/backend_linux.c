/*
 * Backends "linux-lo" and "linux-veth": the Linux kernel's TCP.
 *
 * linux-lo   client and server in one network namespace of our own, over
 *            its loopback (MTU 65536), with addresses 198.18.1.1 (server)
 *            and 198.18.1.2-9 (clients) assigned to lo: like 127.0.0.1,
 *            a local address is reached through the loopback device.
 * linux-veth server in one namespace, clients in another, joined by a veth
 *            pair (198.18.0.1/24 and 198.18.0.2/24, MTU 1500), so every
 *            segment crosses a real Ethernet device model with its qdisc,
 *            ARP and softirq hand-off.
 *
 * The namespaces are ours (names carry our PID; the guardian deletes them if
 * we die), so their sysctls can be set without touching the machine:
 * net.ipv4.tcp_tw_reuse=1 and ip_local_port_range "10000 65535", which lets
 * a connections-per-second run reuse client ports in TIME_WAIT instead of
 * running out of them (the usual setting of a load generator).
 *
 * Clients spread their connections over SRC_ADDRS source addresses
 * (198.18.1.2-9 on lo, or 198.18.0.2-9 on the client's veth): the kernel reuses a
 * port in TIME_WAIT only after about a second, so with one source address
 * the 55,536 ports cap a connection-rate run near 27,700 connections/s
 * whatever the stack could do; eight addresses lift that cap far above
 * what two cores reach.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "bench_sys.h"
#include "linux_priv.h"

#define VETH_SERVER_ADDR "198.18.0.1"
#define VETH_CLIENT_NET "198.18.0."   /* .2 to .(1 + SRC_ADDRS) */
#define LO_SERVER_ADDR "198.18.1.1"
#define LO_CLIENT_NET "198.18.1."     /* .2 to .(1 + SRC_ADDRS) */
#define VETH_PREFIX "/24"
#define SRC_ADDRS 8

struct linux_state {
	int veth;
	struct inc_bench_guard *guard;
	char ns_srv[32], ns_cli[32];
	int fd_srv, fd_cli;       /* fd_cli == fd_srv for loopback */
	char if_cli[16];          /* interface counted for "packets" */
	struct in_addr srv_addr;
	struct in_addr src[SRC_ADDRS];  /* client source addresses */
	int running;
	struct inc_bench_linux_server server;
};

static const char *const ns_sysctls[][2] = {
	{"/proc/sys/net/ipv4/tcp_tw_reuse", "1"},
	{"/proc/sys/net/ipv4/ip_local_port_range", "10000 65535"},
};

static int tune_ns(int fd, const char *name)
{
	for (size_t i = 0; i < sizeof ns_sysctls / sizeof ns_sysctls[0]; i++) {
		int rc = inc_bench_netns_write(fd, ns_sysctls[i][0], ns_sysctls[i][1]);

		if (rc < 0) {
			fprintf(stderr, "inc_bench: cannot set %s in %s: %s\n", ns_sysctls[i][0], name,
				strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static void linux_teardown(void *state)
{
	struct linux_state *st = state;

	if (st == NULL)
		return;
	if (st->running)
		inc_bench_linux_server_stop(&st->server, NULL);
	if (st->veth && st->fd_cli >= 0)
		inc_bench_netns_delete(st->guard, st->ns_cli, st->fd_cli);
	if (st->fd_srv >= 0)
		inc_bench_netns_delete(st->guard, st->ns_srv, st->fd_srv);
	free(st);
}

static int run_ip(const char *const *argv)
{
	int rc = inc_bench_run_cmd(argv, 0);

	if (rc < 0)
		fprintf(stderr, "inc_bench: '%s %s %s %s ...' failed\n", argv[0], argv[1], argv[2], argv[3]);
	return rc;
}

/* Client source addresses: net + "2" ... net + "(1 + SRC_ADDRS)". */
static void set_sources(struct linux_state *st, const char *net)
{
	char a[32];

	for (unsigned i = 0; i < SRC_ADDRS; i++) {
		snprintf(a, sizeof a, "%s%u", net, 2 + i);
		inet_pton(AF_INET, a, &st->src[i]);
	}
}

static int setup_lo(struct linux_state *st)
{
	char a[32];
	const char *add[] = {"ip", "-n", st->ns_srv, "addr", "add", a, "dev", "lo", NULL};
	int rc = 0;

	for (unsigned i = 0; rc == 0 && i <= SRC_ADDRS; i++) {
		snprintf(a, sizeof a, "%s%u/32", LO_CLIENT_NET, 1 + i); /* .1 is the server's */
		rc = run_ip(add);
	}
	inet_pton(AF_INET, LO_SERVER_ADDR, &st->srv_addr);
	set_sources(st, LO_CLIENT_NET);
	return rc;
}

static int setup_veth(struct linux_state *st, pid_t pid)
{
	char if_srv[16], a_srv[32], a_cli[32];
	int rc;

	snprintf(if_srv, sizeof if_srv, "ib%ds", (int)pid);
	snprintf(st->if_cli, sizeof st->if_cli, "ib%dc", (int)pid);
	snprintf(a_srv, sizeof a_srv, "%s%s", VETH_SERVER_ADDR, VETH_PREFIX);
	const char *link[] = {"ip", "link", "add", if_srv, "netns", st->ns_srv, "type", "veth",
			      "peer", "name", st->if_cli, "netns", st->ns_cli, NULL};
	const char *addr_s[] = {"ip", "-n", st->ns_srv, "addr", "add", a_srv, "dev", if_srv, NULL};
	const char *addr_c[] = {"ip", "-n", st->ns_cli, "addr", "add", a_cli, "dev", st->if_cli, NULL};
	const char *up_s[] = {"ip", "-n", st->ns_srv, "link", "set", if_srv, "up", NULL};
	const char *up_c[] = {"ip", "-n", st->ns_cli, "link", "set", st->if_cli, "up", NULL};

	rc = run_ip(link);
	if (rc == 0)
		rc = run_ip(addr_s);
	for (unsigned i = 0; rc == 0 && i < SRC_ADDRS; i++) {
		snprintf(a_cli, sizeof a_cli, "%s%u%s", VETH_CLIENT_NET, 2 + i, VETH_PREFIX);
		rc = run_ip(addr_c);
	}
	if (rc == 0)
		rc = run_ip(up_s);
	if (rc == 0)
		rc = run_ip(up_c);
	inet_pton(AF_INET, VETH_SERVER_ADDR, &st->srv_addr);
	set_sources(st, VETH_CLIENT_NET);
	return rc;
}

static int linux_setup(const struct inc_bench_env *env, void **state, int veth)
{
	struct linux_state *st = calloc(1, sizeof *st);
	int rc;

	*state = NULL;
	if (st == NULL)
		return -ENOMEM;
	st->veth = veth;
	st->guard = env->guard;
	st->fd_srv = st->fd_cli = -1;
	snprintf(st->ns_srv, sizeof st->ns_srv, "incb%d%s", (int)env->pid, veth ? "s" : "lo");
	snprintf(st->ns_cli, sizeof st->ns_cli, "incb%dc", (int)env->pid);
	rc = inc_bench_netns_create(st->guard, st->ns_srv, &st->fd_srv);
	if (rc == 0)
		rc = tune_ns(st->fd_srv, st->ns_srv);
	if (rc == 0 && veth) {
		rc = inc_bench_netns_create(st->guard, st->ns_cli, &st->fd_cli);
		if (rc == 0)
			rc = tune_ns(st->fd_cli, st->ns_cli);
		if (rc == 0)
			rc = setup_veth(st, env->pid);
	} else if (rc == 0) {
		st->fd_cli = st->fd_srv;
		snprintf(st->if_cli, sizeof st->if_cli, "lo");
		rc = setup_lo(st);
	}
	if (rc < 0) {
		linux_teardown(st);
		return rc;
	}
	*state = st;
	return 0;
}

static int lo_setup(const struct inc_bench_env *env, void **state)
{
	return linux_setup(env, state, 0);
}

static int veth_setup(const struct inc_bench_env *env, void **state)
{
	return linux_setup(env, state, 1);
}

static int linux_server_start(void *state, const struct inc_bench_server_cfg *cfg)
{
	struct linux_state *st = state;
	int rc = inc_bench_linux_server_start(&st->server, st->fd_srv, st->srv_addr, cfg);

	st->running = rc == 0;
	return rc;
}

static int linux_server_stop(void *state, struct inc_bench_server_stats *stats)
{
	struct linux_state *st = state;

	st->running = 0;
	return inc_bench_linux_server_stop(&st->server, stats);
}

/* A client thread's state: which source address its next connection uses. */
struct linux_tctx {
	unsigned next_src;
};

static int linux_client_thread_init(void *state, unsigned index, void **tctx)
{
	struct linux_state *st = state;
	struct linux_tctx *t = malloc(sizeof *t);
	int rc;

	*tctx = NULL;
	if (t == NULL)
		return -ENOMEM;
	rc = inc_bench_netns_enter(st->fd_cli);
	if (rc < 0) {
		free(t);
		return rc;
	}
	t->next_src = index;
	*tctx = t;
	return 0;
}

static void linux_client_thread_fini(void *state, void *tctx)
{
	(void)state;
	free(tctx);
}

static int linux_connect(void *state, void *tctx, struct inc_bench_conn *conn)
{
	struct linux_state *st = state;
	struct linux_tctx *t = tctx;
	struct timeval tv = {.tv_sec = INC_BENCH_LINUX_IO_TIMEOUT_S};
	/* The server's address, port included (set by server_start). */
	struct sockaddr_in sa = st->server.addr;
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr = st->src[t->next_src++ % SRC_ADDRS]};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* Bind the address only; the port is chosen at connect() for the whole
	 * 4-tuple, as for an unbound socket. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0 ||
	    bind(fd, (const struct sockaddr *)&src, sizeof src) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	while (connect(fd, (const struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;

		if (e == EINTR)
			continue;
		close(fd);
		return e == EINPROGRESS || e == EAGAIN ? -ETIMEDOUT : -e;
	}
	conn->u.fd = fd;
	return 0;
}

static int linux_send_all(void *tctx, struct inc_bench_conn *conn, const void *buf, size_t len)
{
	const char *p = buf;

	(void)tctx;
	while (len > 0) {
		ssize_t n = send(conn->u.fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t linux_recv(void *tctx, struct inc_bench_conn *conn, void *buf, size_t len)
{
	(void)tctx;
	for (;;) {
		ssize_t n = recv(conn->u.fd, buf, len, 0);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
	}
}

static int linux_shutdown_wr(void *tctx, struct inc_bench_conn *conn)
{
	(void)tctx;
	return shutdown(conn->u.fd, SHUT_WR) == 0 ? 0 : -errno;
}

static int linux_close(void *tctx, struct inc_bench_conn *conn)
{
	(void)tctx;
	int rc = close(conn->u.fd) == 0 ? 0 : -errno;

	conn->u.fd = -1;
	return rc;
}

static void linux_counters(void *state, struct inc_bench_counters *out)
{
	struct linux_state *st = state;
	uint64_t rx = 0, tx = 0;

	if (inc_bench_netns_dev_packets(st->fd_cli, st->if_cli, &rx, &tx) < 0)
		return;
	/* Loopback counts each packet once as sent and once as received. */
	inc_bench_counters_add(out, "packets", st->veth ? rx + tx : rx);
	inc_bench_counters_add(out, st->veth ? "client_if_rx" : "lo_rx", rx);
	inc_bench_counters_add(out, st->veth ? "client_if_tx" : "lo_tx", tx);
}

const struct inc_bench_backend inc_bench_backend_linux_lo = {
	.name = "linux-lo",
	.summary = "Linux kernel TCP over loopback (epoll, SO_REUSEPORT), own namespace",
	.setup = lo_setup,
	.teardown = linux_teardown,
	.server_start = linux_server_start,
	.server_stop = linux_server_stop,
	.client_thread_init = linux_client_thread_init,
	.client_thread_fini = linux_client_thread_fini,
	.connect = linux_connect,
	.send_all = linux_send_all,
	.recv = linux_recv,
	.shutdown_wr = linux_shutdown_wr,
	.close = linux_close,
	.counters = linux_counters,
};

const struct inc_bench_backend inc_bench_backend_linux_veth = {
	.name = "linux-veth",
	.summary = "Linux kernel TCP over a veth pair between two namespaces (epoll, SO_REUSEPORT)",
	.setup = veth_setup,
	.teardown = linux_teardown,
	.server_start = linux_server_start,
	.server_stop = linux_server_stop,
	.client_thread_init = linux_client_thread_init,
	.client_thread_fini = linux_client_thread_fini,
	.connect = linux_connect,
	.send_all = linux_send_all,
	.recv = linux_recv,
	.shutdown_wr = linux_shutdown_wr,
	.close = linux_close,
	.counters = linux_counters,
};
