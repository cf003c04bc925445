/*
 * Server of the Linux backends: K worker threads, each with its own epoll
 * instance and its own SO_REUSEPORT listener, so the kernel spreads incoming
 * connections over the workers by flow hash and no lock is shared between
 * workers in user space (the usual way to run a multi-core epoll server).
 */
#define _GNU_SOURCE
#include "linux_priv.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_sys.h"

#define EVENTS_PER_WAIT 64

static int open_listener(struct inc_bench_linux_worker *w)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
	    bind(fd, (const struct sockaddr *)&w->srv->addr, sizeof w->srv->addr) < 0 ||
	    listen(fd, 4096) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	w->lfd = fd;
	return 0;
}

static int worker_init(struct inc_bench_linux_worker *w)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int rc = inc_bench_netns_enter(w->srv->nsfd);

	if (rc < 0)
		return rc;
	rc = open_listener(w);
	if (rc < 0)
		return rc;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -errno;
	ev.data.ptr = &w->lfd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->lfd, &ev) < 0)
		return -errno;
	ev.data.ptr = &w->stopfd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->stopfd, &ev) < 0)
		return -errno;
	return 0;
}

static void conn_close(struct inc_bench_linux_worker *w, struct inc_bench_linux_conn *c)
{
	close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->next_free = w->free_list;
	w->free_list = c;
	w->nconns--;
	w->stats.conns_closed++;
}

static void accept_all(struct inc_bench_linux_worker *w)
{
	int one = 1;

	for (;;) {
		int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				inc_bench_srv_error(&w->stats, "server: accept", -errno);
			return;
		}
		struct inc_bench_linux_conn *c = w->free_list;

		if (c == NULL) {
			inc_bench_srv_error(&w->stats, "server: too many connections", -EMFILE);
			close(fd);
			continue;
		}
		w->free_list = c->next_free;
		c->fd = fd;
		inc_bench_srv_conn_init(&c->proto, w->srv->pattern);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			inc_bench_srv_error(&w->stats, "server: epoll_ctl", -errno);
			close(fd);
			c->next_free = w->free_list;
			w->free_list = c;
			continue;
		}
		w->nconns++;
		w->stats.conns_accepted++;
	}
}

/* Send pending replies. Returns 1 if some remain (wait for EPOLLOUT), 0 if
 * none, a negative errno on error. */
static int flush(struct inc_bench_linux_conn *c)
{
	const void *data;
	size_t n;

	while ((n = inc_bench_srv_pending(&c->proto, &data)) > 0) {
		ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 1 : -errno;
		}
		inc_bench_srv_sent(&c->proto, (size_t)w);
	}
	return 0;
}

static void serve(struct inc_bench_linux_worker *w, struct inc_bench_linux_conn *c, uint32_t events)
{
	int rc = 0;

	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			ssize_t r = recv(c->fd, w->rbuf, sizeof w->rbuf, 0);

			if (r > 0) {
				rc = inc_bench_srv_input(&c->proto, w->rbuf, (size_t)r, &w->stats);
				if (rc < 0)
					break;
				if ((size_t)r < sizeof w->rbuf)
					break; /* drained for now; level-triggered epoll tells us more */
				continue;
			}
			if (r == 0) {
				rc = inc_bench_srv_eof(&c->proto, &w->stats);
				break;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
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
	if (rc < 0 || (rc == 0 && c->proto.done)) {
		conn_close(w, c);
		return;
	}
	struct epoll_event ev = {.events = EPOLLIN | (rc == 1 ? EPOLLOUT : 0), .data.ptr = c};

	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void *worker_main(void *arg)
{
	struct inc_bench_linux_worker *w = arg;
	struct epoll_event evs[EVENTS_PER_WAIT];
	uint64_t deadline = 0;
	int stopping = 0;

	w->start_rc = worker_init(w);
	sem_post(&w->srv->ready);
	if (w->start_rc < 0)
		return NULL;
	for (;;) {
		int n = epoll_wait(w->epfd, evs, EVENTS_PER_WAIT, stopping ? 100 : -1);

		if (n < 0 && errno != EINTR) {
			inc_bench_srv_error(&w->stats, "server: epoll_wait", -errno);
			break;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &w->lfd) {
				accept_all(w);
			} else if (p == &w->stopfd) {
				uint64_t v;

				if (read(w->stopfd, &v, sizeof v) < 0) {
					/* only EAGAIN (spurious): the flag below is what counts */
				}
				if (!stopping) {
					stopping = 1;
					deadline = inc_bench_now_ns() + INC_BENCH_LINUX_STOP_GRACE_NS;
					epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->stopfd, NULL);
				}
			} else {
				serve(w, p, evs[i].events);
			}
		}
		if (stopping && w->nconns == 0)
			break;
		if (stopping && inc_bench_now_ns() > deadline) {
			inc_bench_srv_error(&w->stats, "server: connections still open at stop", -ETIMEDOUT);
			break;
		}
	}
	for (unsigned i = 0; i < INC_BENCH_LINUX_CONNS_PER_WORKER; i++) {
		if (w->conns[i].fd >= 0)
			conn_close(w, &w->conns[i]);
	}
	return NULL;
}

static void worker_release(struct inc_bench_linux_worker *w)
{
	if (w->lfd >= 0)
		close(w->lfd);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->stopfd >= 0)
		close(w->stopfd);
	free(w->conns);
}

static int stop_and_join(struct inc_bench_linux_server *srv, unsigned started, struct inc_bench_server_stats *stats)
{
	uint64_t one = 1;
	int rc = 0;

	for (unsigned i = 0; i < started; i++) {
		if (write(srv->workers[i].stopfd, &one, sizeof one) != sizeof one)
			rc = -EIO;
	}
	for (unsigned i = 0; i < started; i++) {
		struct inc_bench_linux_worker *w = &srv->workers[i];

		pthread_join(w->tid, NULL);
		if (stats != NULL)
			inc_bench_server_stats_add(stats, &w->stats);
		if (w->nconns != 0 && rc == 0)
			rc = -ETIMEDOUT;
		worker_release(w);
	}
	for (unsigned i = started; i < srv->nworkers; i++)
		worker_release(&srv->workers[i]);
	free(srv->workers);
	srv->workers = NULL;
	sem_destroy(&srv->ready);
	return rc;
}

int inc_bench_linux_server_start(struct inc_bench_linux_server *srv, int nsfd, struct in_addr addr,
				 const struct inc_bench_server_cfg *cfg)
{
	unsigned started = 0;
	int rc = 0;

	memset(srv, 0, sizeof *srv);
	srv->nsfd = nsfd;
	srv->addr.sin_family = AF_INET;
	srv->addr.sin_addr = addr;
	srv->addr.sin_port = htons(cfg->port);
	srv->pattern = cfg->pattern;
	srv->nworkers = cfg->workers;
	srv->workers = calloc(cfg->workers, sizeof *srv->workers);
	if (srv->workers == NULL || sem_init(&srv->ready, 0, 0) < 0) {
		free(srv->workers);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < cfg->workers; i++) {
		struct inc_bench_linux_worker *w = &srv->workers[i];

		w->index = i;
		w->srv = srv;
		w->lfd = w->epfd = -1;
		w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		w->conns = calloc(INC_BENCH_LINUX_CONNS_PER_WORKER, sizeof *w->conns);
		if (w->stopfd < 0 || w->conns == NULL) {
			rc = -ENOMEM;
			break;
		}
		for (unsigned j = 0; j < INC_BENCH_LINUX_CONNS_PER_WORKER; j++) {
			w->conns[j].fd = -1;
			w->conns[j].next_free = j + 1 < INC_BENCH_LINUX_CONNS_PER_WORKER ? &w->conns[j + 1] : NULL;
		}
		w->free_list = &w->conns[0];
	}
	for (unsigned i = 0; rc == 0 && i < cfg->workers; i++) {
		rc = -pthread_create(&srv->workers[i].tid, NULL, worker_main, &srv->workers[i]);
		if (rc == 0)
			started++;
	}
	for (unsigned i = 0; i < started; i++) {
		while (sem_wait(&srv->ready) < 0 && errno == EINTR)
			;
	}
	for (unsigned i = 0; rc == 0 && i < started; i++)
		rc = srv->workers[i].start_rc;
	if (rc < 0)
		stop_and_join(srv, started, NULL);
	return rc;
}

int inc_bench_linux_server_stop(struct inc_bench_linux_server *srv, struct inc_bench_server_stats *stats)
{
	return stop_and_join(srv, srv->nworkers, stats);
}
