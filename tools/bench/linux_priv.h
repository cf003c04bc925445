/*
 * Private to the "linux-lo" and "linux-veth" backends: the kernel's TCP with
 * epoll and SO_REUSEPORT, in network namespaces the benchmark creates.
 */
#ifndef INC_BENCH_LINUX_PRIV_H
#define INC_BENCH_LINUX_PRIV_H

#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>

#include "bench.h"
#include "bench_proto.h"

/** Connections one server worker can hold at once. */
#define INC_BENCH_LINUX_CONNS_PER_WORKER 1024u
/** Send/receive timeout of client sockets: a stall becomes an error. */
#define INC_BENCH_LINUX_IO_TIMEOUT_S 10
/** How long a stopping worker waits for its clients' closes. */
#define INC_BENCH_LINUX_STOP_GRACE_NS (10ull * 1000000000ull)

struct inc_bench_linux_conn {
	int fd;
	struct inc_bench_linux_conn *next_free;
	struct inc_bench_srv_conn proto;
};

/** One server worker: its own thread, epoll instance and SO_REUSEPORT
 *  listener. Owned by its thread between start and join. */
struct inc_bench_linux_worker {
	pthread_t tid;
	unsigned index;
	struct inc_bench_linux_server *srv;
	int epfd;
	int lfd;
	int stopfd;                /* eventfd: the main thread asks to stop */
	int start_rc;              /* set before posting srv->ready */
	unsigned nconns;
	struct inc_bench_linux_conn *free_list;
	struct inc_bench_linux_conn *conns;  /* INC_BENCH_LINUX_CONNS_PER_WORKER */
	struct inc_bench_server_stats stats;
	uint8_t rbuf[65536];
};

/** A running server. */
struct inc_bench_linux_server {
	int nsfd;                  /* namespace the workers enter */
	struct sockaddr_in addr;   /* listen address */
	const struct inc_bench_pattern *pattern;
	unsigned nworkers;
	sem_t ready;
	struct inc_bench_linux_worker *workers;
};

/** Start cfg->workers workers listening on addr (port from cfg) inside the
 *  namespace nsfd. Thread: main. Returns: 0 or a negative errno. */
int inc_bench_linux_server_start(struct inc_bench_linux_server *srv, int nsfd, struct in_addr addr,
				 const struct inc_bench_server_cfg *cfg);

/** Stop the workers (after a bounded wait for open connections), join
 *  them, add up their stats and free them. Thread: main.
 *  Returns: 0, or -ETIMEDOUT if connections were still open. */
int inc_bench_linux_server_stop(struct inc_bench_linux_server *srv, struct inc_bench_server_stats *stats);

#endif
