/* The stress harness's --tap mode: Linux's TCP serves the session protocol
 * (mix.h) in the namespace (see tap.h). Each thread has its own listening
 * socket (SO_REUSEPORT: Linux spreads the connections) and an epoll loop;
 * every byte is checked against mix_pat() and each request answered with
 * the expected response, like the server side of mix.c. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mix.h"
#include "tap.h"

#define CONNS_PER_THREAD 4096u
#define IO_BUF 65536u

struct lconn {
  int fd; /* -1 while free */
  int want_out;  /* EPOLLOUT is asked for */
  struct lconn *next_free;
  struct mix_srv_in in;
  uint64_t resp_off, resp_len; /* the response being sent */
  uint32_t resp_seq;
};

struct lthread {
  struct tap_peer_shared *sh;
  const _Atomic int *stop;
  int lfd, ep;
  pthread_t t;
  struct lconn *conns, *free_conns;
  uint8_t in[IO_BUF], out[IO_BUF];
} __attribute__((aligned(64)));

static void add(_Atomic uint64_t *c, uint64_t n)
{
  /* several writers (the threads): an atomic add; read relaxed by the
   * harness's sum() (counters, nothing published behind them) */
  atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void conn_close(struct lthread *t, struct lconn *c)
{
  close(c->fd); /* also leaves the epoll set */
  c->fd = -1;
  c->next_free = t->free_conns;
  t->free_conns = c;
}

/* One received byte; -1: not what the protocol says. */
static int conn_byte(struct lconn *c, uint8_t b)
{
  uint32_t seq;
  int r = mix_srv_in_byte(&c->in, b, &seq);
  if (r == 1) { /* answer the request */
    if (c->resp_off < c->resp_len) {
      return -1; /* a client never has two requests out */
    }
    c->resp_seq = seq;
    c->resp_off = 0;
    c->resp_len = c->in.size;
  }
  return r < 0 ? -1 : 0;
}

/* Sends what it can of the response; asks for EPOLLOUT while some is left.
 * Returns 0, or -1 when the connection is gone. */
static int conn_send(struct lthread *t, struct lconn *c)
{
  struct epoll_event ev;
  int want;
  while (c->resp_off < c->resp_len) {
    uint64_t left = c->resp_len - c->resp_off;
    uint32_t n = left < IO_BUF ? (uint32_t)left : IO_BUF, k;
    ssize_t w;
    for (k = 0; k < n; k++) {
      t->out[k] = mix_pat(c->in.id | MIX_RESP_TAG, c->resp_seq, c->resp_off + k);
    }
    w = send(c->fd, t->out, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        break;
      }
      return -1;
    }
    c->resp_off += (uint64_t)w;
  }
  want = c->resp_off < c->resp_len;
  if (want != c->want_out) {
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
    ev.data.ptr = c;
    if (epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
      return -1;
    }
    c->want_out = want;
  }
  return 0;
}

static void conn_input(struct lthread *t, struct lconn *c)
{
  for (;;) {
    ssize_t r = recv(c->fd, t->in, IO_BUF, 0), i;
    if (r == 0) { /* the client's FIN: the session must be whole */
      if (mix_srv_in_whole(&c->in) && c->resp_off == c->resp_len) {
        add(&t->sh->done, 1);
      } else if (!atomic_load_explicit(&t->sh->stopping, memory_order_relaxed)) { /* pairs with run() in main.c */
        add(&t->sh->corrupt, 1);
      }
      conn_close(t, c);
      return;
    }
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        return;
      }
      conn_close(t, c); /* a reset: the client counts its failed session */
      return;
    }
    for (i = 0; i < r; i++) {
      if (conn_byte(c, t->in[i]) != 0) {
        add(&t->sh->corrupt, 1);
        conn_close(t, c);
        return;
      }
    }
    add(&t->sh->bytes, (uint64_t)r);
    if (conn_send(t, c) != 0) {
      conn_close(t, c);
      return;
    }
  }
}

static void accept_all(struct lthread *t)
{
  for (;;) {
    int fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
    struct lconn *c = t->free_conns;
    struct epoll_event ev;
    if (fd < 0) {
      return; /* EAGAIN, or a connection reset before it was accepted */
    }
    if (c == NULL) {
      close(fd); /* the client sees a reset: counted as its failure */
      continue;
    }
    t->free_conns = c->next_free;
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
      conn_close(t, c);
      continue;
    }
    add(&t->sh->accepted, 1);
  }
}

static void *thread_main(void *arg)
{
  struct lthread *t = (struct lthread *)arg;
  struct epoll_event evs[64];
  unsigned i;
  /* the stop flag is set by the child's watcher thread (tap.c) */
  while (!atomic_load_explicit(t->stop, memory_order_relaxed)) { /* pairs with the store in tap.c's watch_main */
    int n = epoll_wait(t->ep, evs, 64, 100), j;
    for (j = 0; j < n; j++) {
      struct lconn *c = (struct lconn *)evs[j].data.ptr;
      if (c == NULL) {
        accept_all(t);
      } else if (c->fd >= 0) {
        if ((evs[j].events & EPOLLOUT) && conn_send(t, c) != 0) {
          conn_close(t, c);
          continue;
        }
        if (evs[j].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
          conn_input(t, c);
        }
      }
    }
  }
  for (i = 0; i < CONNS_PER_THREAD; i++) {
    if (t->conns[i].fd >= 0) {
      close(t->conns[i].fd);
    }
  }
  return NULL;
}

static int thread_init(struct lthread *t, uint16_t port)
{
  struct sockaddr_in sa;
  struct epoll_event ev;
  int one = 1;
  unsigned i;
  t->conns = calloc(CONNS_PER_THREAD, sizeof(*t->conns));
  if (t->conns == NULL) {
    return -ENOMEM;
  }
  for (i = CONNS_PER_THREAD; i-- > 0;) {
    t->conns[i].fd = -1;
    t->conns[i].next_free = t->free_conns;
    t->free_conns = &t->conns[i];
  }
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(TAP_LINUX_IP4);
  t->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  t->ep = epoll_create1(EPOLL_CLOEXEC);
  if (t->lfd < 0 || t->ep < 0 || setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      setsockopt(t->lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
      bind(t->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(t->lfd, 4096) != 0) {
    return -errno;
  }
  ev.events = EPOLLIN;
  ev.data.ptr = NULL; /* the listener */
  return epoll_ctl(t->ep, EPOLL_CTL_ADD, t->lfd, &ev) != 0 ? -errno : 0;
}

int tap_linux_serve(struct tap_peer_shared *sh, unsigned threads, uint16_t port, const _Atomic int *stop)
{
  struct lthread *t;
  unsigned i, started = 0;
  int rc = 0;
  if (threads < 1) {
    threads = 1;
  }
  if (threads > TAP_MAX_THREADS) {
    threads = TAP_MAX_THREADS;
  }
  if (posix_memalign((void **)&t, 64, threads * sizeof(*t)) != 0) {
    return -ENOMEM;
  }
  memset(t, 0, threads * sizeof(*t));
  for (i = 0; i < threads; i++) {
    t[i].sh = sh;
    t[i].stop = stop;
    t[i].lfd = t[i].ep = -1;
  }
  for (i = 0; i < threads && rc == 0; i++) {
    rc = thread_init(&t[i], port);
  }
  for (i = 0; i < threads && rc == 0; i++, started++) {
    rc = -pthread_create(&t[i].t, NULL, thread_main, &t[i]);
  }
  if (rc == 0) {
    /* every thread listens: the harness may start; pairs with the acquire
     * in tap_peer_start */
    atomic_store_explicit(&sh->ready, 1, memory_order_release);
  }
  for (i = 0; i < started; i++) {
    pthread_join(t[i].t, NULL); /* they end when *stop is set */
  }
  for (i = 0; i < threads; i++) {
    if (t[i].lfd >= 0) {
      close(t[i].lfd);
    }
    if (t[i].ep >= 0) {
      close(t[i].ep);
    }
    free(t[i].conns);
  }
  free(t);
  return rc;
}
