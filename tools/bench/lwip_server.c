/*
 * Server side of the "lwip" backend, run in the child process: K worker
 * threads on lwIP's sockets API. lwIP cannot give each worker its own
 * listener (no SO_REUSEPORT), so the workers share one non-blocking
 * listener and each polls it together with its own connections
 * (lwip_poll), accepting what it can: the usual multi-threaded server on
 * stock lwIP. (No <sys/socket.h>, <poll.h> or <fcntl.h> here: lwip_priv.h.)
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_sys.h"
#include "lwip/sockets.h"
#include "lwip_priv.h"

#define POLL_TIMEOUT_MS 20

struct lconn {
	int s;
	unsigned idx;                     /* position in lworker.active */
	struct lconn *next_free;
	struct inc_bench_srv_conn proto;
};

struct lserver;

struct lworker {
	pthread_t tid;
	struct lserver *srv;
	unsigned nconns;
	struct lconn *free_list;
	struct lconn conns[INC_BENCH_LWIP_CONNS_PER_WORKER];
	struct lconn *active[INC_BENCH_LWIP_CONNS_PER_WORKER];  /* open: [0, nconns) */
	struct lconn *polled[INC_BENCH_LWIP_CONNS_PER_WORKER];  /* matches fds[first..] */
	struct pollfd fds[INC_BENCH_LWIP_CONNS_PER_WORKER + 1];
	struct inc_bench_server_stats stats;
	uint8_t rbuf[65536];
};

struct lserver {
	int lsock;
	const struct inc_bench_pattern *pattern;
	atomic_int stop;   /* release store by the main thread, acquire loads by workers */
};

static int set_nonblocking(int s)
{
	return lwip_fcntl(s, F_SETFL, O_NONBLOCK);
}

static void conn_close(struct lworker *w, struct lconn *c)
{
	lwip_close(c->s);
	c->s = -1;
	c->next_free = w->free_list;
	w->free_list = c;
	w->nconns--;
	w->active[c->idx] = w->active[w->nconns];
	w->active[c->idx]->idx = c->idx;
	w->stats.conns_closed++;
}

static void accept_all(struct lworker *w)
{
	int one = 1;

	for (;;) {
		int s = lwip_accept(w->srv->lsock, NULL, NULL);

		if (s < 0) {
			if (errno != EWOULDBLOCK && errno != EAGAIN)
				inc_bench_srv_error(&w->stats, "server: accept", -errno);
			return;
		}
		struct lconn *c = w->free_list;

		if (c == NULL) {
			inc_bench_srv_error(&w->stats, "server: too many connections", -EMFILE);
			lwip_close(s);
			continue;
		}
		w->free_list = c->next_free;
		c->s = s;
		c->idx = w->nconns;
		w->active[w->nconns] = c;
		inc_bench_srv_conn_init(&c->proto, w->srv->pattern);
		lwip_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		set_nonblocking(s);
		w->nconns++;
		w->stats.conns_accepted++;
	}
}

/* Returns 1 if replies remain to be sent, 0 if none, a negative errno. */
static int flush(struct lconn *c)
{
	const void *data;
	size_t n;

	while ((n = inc_bench_srv_pending(&c->proto, &data)) > 0) {
		ssize_t w = lwip_send(c->s, data, n, 0);

		if (w < 0)
			return errno == EWOULDBLOCK || errno == EAGAIN ? 1 : -errno;
		inc_bench_srv_sent(&c->proto, (size_t)w);
	}
	return 0;
}

static void serve(struct lworker *w, struct lconn *c, short revents)
{
	int rc = 0;

	if (revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
		for (;;) {
			ssize_t r = lwip_recv(c->s, w->rbuf, sizeof w->rbuf, 0);

			if (r > 0) {
				rc = inc_bench_srv_input(&c->proto, w->rbuf, (size_t)r, &w->stats);
				if (rc < 0)
					break;
				continue;
			}
			if (r == 0) {
				rc = inc_bench_srv_eof(&c->proto, &w->stats);
				break;
			}
			if (errno != EWOULDBLOCK && errno != EAGAIN) {
				rc = -errno;
				inc_bench_srv_error(&w->stats, "server: recv", rc);
			}
			break;
		}
	}
	if (rc == 0) {
		rc = flush(c);
		if (rc < 0)
			inc_bench_srv_error(&w->stats, "server: send", rc);
	}
	if (rc < 0 || (rc == 0 && c->proto.done))
		conn_close(w, c);
}

static void *worker_main(void *arg)
{
	struct lworker *w = arg;
	uint64_t deadline = 0;

	for (;;) {
		int stopping = atomic_load_explicit(&w->srv->stop, memory_order_acquire);
		nfds_t n = 0;
		unsigned nact = 0;

		if (stopping) {
			if (deadline == 0)
				deadline = inc_bench_now_ns() + INC_BENCH_LWIP_STOP_GRACE_NS;
			if (w->nconns == 0)
				break;
			if (inc_bench_now_ns() > deadline) {
				inc_bench_srv_error(&w->stats, "server: connections still open at stop", -ETIMEDOUT);
				break;
			}
		} else {
			w->fds[n].fd = w->srv->lsock;
			w->fds[n].events = POLLIN;
			w->fds[n].revents = 0;
			n++;
		}
		for (unsigned i = 0; i < w->nconns; i++) {
			struct lconn *c = w->active[i];
			const void *d;

			w->polled[nact++] = c;
			w->fds[n].fd = c->s;
			w->fds[n].events = (short)(POLLIN | (inc_bench_srv_pending(&c->proto, &d) ? POLLOUT : 0));
			w->fds[n].revents = 0;
			n++;
		}
		int ready = lwip_poll(w->fds, n, POLL_TIMEOUT_MS);

		if (ready < 0) {
			inc_bench_srv_error(&w->stats, "server: poll", -errno);
			break;
		}
		if (ready == 0)
			continue;
		unsigned first = stopping ? 0 : 1;

		if (!stopping && w->fds[0].revents)
			accept_all(w);
		for (unsigned i = 0; i < nact; i++) {
			if (w->fds[first + i].revents)
				serve(w, w->polled[i], w->fds[first + i].revents);
		}
	}
	while (w->nconns > 0)
		conn_close(w, w->active[w->nconns - 1]);
	return NULL;
}

static int open_listener(uint16_t port)
{
	struct sockaddr_in sa;
	int s = lwip_socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		return -errno;
	memset(&sa, 0, sizeof sa);
	sa.sin_len = sizeof sa;
	sa.sin_family = AF_INET;
	sa.sin_port = lwip_htons(port);
	sa.sin_addr.s_addr = PP_HTONL(INADDR_ANY);
	if (lwip_bind(s, (const struct sockaddr *)&sa, sizeof sa) < 0 || lwip_listen(s, 255) < 0 ||
	    set_nonblocking(s) < 0) {
		int rc = -errno;

		lwip_close(s);
		return rc;
	}
	return s;
}

static void fail_ctl(struct inc_bench_lwip_ctl *ctl, const char *what, int rc)
{
	inc_bench_srv_error(&ctl->stats, what, rc);
	/* release pairs with the parent's acquire load of state */
	atomic_store_explicit(&ctl->state, INC_BENCH_LWIP_CTL_FAILED, memory_order_release);
}

int inc_bench_lwip_server_run(struct inc_bench_lwip_ctl *ctl, const struct inc_bench_pattern *pattern)
{
	struct lserver srv = {.pattern = pattern};
	unsigned k = ctl->workers, started = 0;
	struct lworker *w = calloc(k, sizeof *w);
	struct timespec nap = {.tv_nsec = 2 * 1000 * 1000};
	int rc;

	atomic_init(&srv.stop, 0);
	if (w == NULL) {
		fail_ctl(ctl, "server: out of memory", -ENOMEM);
		return -ENOMEM;
	}
	srv.lsock = open_listener(ctl->port);
	if (srv.lsock < 0) {
		rc = srv.lsock;
		fail_ctl(ctl, "server: listen", rc);
		free(w);
		return rc;
	}
	for (unsigned i = 0; i < k; i++) {
		w[i].srv = &srv;
		for (unsigned j = 0; j < INC_BENCH_LWIP_CONNS_PER_WORKER; j++) {
			w[i].conns[j].s = -1;
			w[i].conns[j].next_free = j + 1 < INC_BENCH_LWIP_CONNS_PER_WORKER ? &w[i].conns[j + 1] : NULL;
		}
		w[i].free_list = &w[i].conns[0];
	}
	for (rc = 0; started < k; started++) {
		rc = -pthread_create(&w[started].tid, NULL, worker_main, &w[started]);
		if (rc < 0)
			break;
	}
	if (rc == 0) {
		/* release pairs with the parent's acquire load of state */
		atomic_store_explicit(&ctl->state, INC_BENCH_LWIP_CTL_READY, memory_order_release);
		/* acquire pairs with the parent's release store of STOP */
		while (atomic_load_explicit(&ctl->state, memory_order_acquire) != INC_BENCH_LWIP_CTL_STOP)
			nanosleep(&nap, NULL);
	}
	/* release pairs with the acquire loads of stop in worker_main */
	atomic_store_explicit(&srv.stop, 1, memory_order_release);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		inc_bench_server_stats_add(&ctl->stats, &w[i].stats);
	}
	lwip_close(srv.lsock);
	free(w);
	if (rc < 0) {
		fail_ctl(ctl, "server: start workers", rc);
		return rc;
	}
	atomic_store_explicit(&ctl->state, INC_BENCH_LWIP_CTL_STOPPED, memory_order_release);
	return 0;
}
