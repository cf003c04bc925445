/*
 * Private to the "lwip" backend: plain lwIP 2.1.3 (unpatched), its tcpip
 * thread and its sockets API, in two processes joined by lwip_link.
 *
 *   this process (client)                  child process (server)
 *   client threads: lwip_connect/send/...  K workers: lwip_poll/accept/recv
 *   lwIP instance, tcpip thread            lwIP instance, tcpip thread
 *   link rx thread  <-- ring S2C --        link rx thread
 *                   -- ring C2S -->
 *
 * lwIP keeps one instance per process in globals, hence two processes. The
 * child is this program re-executed (`--child lwip <memfd> <efd> <efd>`) so
 * that it starts single-threaded with a fresh lwIP; it dies with us
 * (PR_SET_PDEATHSIG). Start/stop and the server's accounting go through the
 * control block at the start of the shared memory.
 *
 * Translation units that include lwip/sockets.h (lwip_client.c,
 * lwip_server.c) must not include <sys/socket.h>, <fcntl.h>, <poll.h> or
 * <sys/uio.h>: lwIP defines the same names with its own values.
 */
#ifndef INC_BENCH_LWIP_PRIV_H
#define INC_BENCH_LWIP_PRIV_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench.h"
#include "bench_proto.h"
#include "lwip_link.h"

#define INC_BENCH_LWIP_SERVER_IP "198.18.0.1"
#define INC_BENCH_LWIP_CLIENT_IP "198.18.0.2"
#define INC_BENCH_LWIP_NETMASK "255.255.255.0"
/** Send/receive timeout of client sockets: a stall becomes an error. */
#define INC_BENCH_LWIP_IO_TIMEOUT_S 10
/** Connections one server worker can hold at once. */
#define INC_BENCH_LWIP_CONNS_PER_WORKER 256u
/** How long stopping workers wait for their clients' closes. */
#define INC_BENCH_LWIP_STOP_GRACE_NS (10ull * 1000000000ull)

enum inc_bench_lwip_ctl_state {
	INC_BENCH_LWIP_CTL_STARTING = 1, /* parent: child being started */
	INC_BENCH_LWIP_CTL_READY,        /* child: listening */
	INC_BENCH_LWIP_CTL_STOP,         /* parent: stop when clients are gone */
	INC_BENCH_LWIP_CTL_STOPPED,      /* child: stats are final */
	INC_BENCH_LWIP_CTL_FAILED,       /* child: could not start (stats.error) */
};

struct inc_bench_lwip_ctl {
	/* Each side stores the states it owns with release and loads the
	 * other's with acquire: stats written before READY/STOPPED/FAILED are
	 * visible to the parent after it sees the state, and workers/port
	 * written before STARTING are visible to the child. */
	_Atomic uint32_t state;
	uint32_t workers;
	uint16_t port;
	struct inc_bench_server_stats stats;
};

/** Layout of the shared memory. */
struct inc_bench_lwip_shm {
	struct inc_bench_lwip_ctl ctl;
	struct inc_bench_link_ring c2s;  /* client -> server frames */
	struct inc_bench_link_ring s2c;  /* server -> client frames */
};

/** Run the server in the child: K workers until the parent asks to stop;
 *  fills ctl->stats and sets STOPPED (or FAILED). Thread: the child's main
 *  thread, after tcpip_init and the link are up.
 *  Returns: 0 or a negative errno. */
int inc_bench_lwip_server_run(struct inc_bench_lwip_ctl *ctl, const struct inc_bench_pattern *pattern);

/** Client operations on this process's lwIP (struct inc_bench_backend
 *  semantics; any client thread). */
int inc_bench_lwip_client_connect(uint16_t port, struct inc_bench_conn *conn);
int inc_bench_lwip_client_send_all(struct inc_bench_conn *conn, const void *buf, size_t len);
ssize_t inc_bench_lwip_client_recv(struct inc_bench_conn *conn, void *buf, size_t len);
int inc_bench_lwip_client_shutdown_wr(struct inc_bench_conn *conn);
int inc_bench_lwip_client_close(struct inc_bench_conn *conn);

#endif
