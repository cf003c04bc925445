/*
 * The epoll-like readiness API.
 *
 * Owners push a connection on its set's ready stack (a Treiber stack: CAS
 * push by any worker, take-all by the waiter) when one of its readiness bits
 * rises (conn_ctx.c: inc__epoll_push()), and write the set's eventfd if a
 * waiter armed it. inc_epoll_wait() takes the stack, looks at each
 * connection's current readiness and at those it reported last time (the
 * level list: level-triggered sets report a ready socket again until it is
 * not), and sleeps on the eventfd when none is ready.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "conn_priv.h"
#include "sock_priv.h"

static int fail(int err)
{
  errno = err;
  return -1;
}

static struct inc_epoll *epoll_of(struct inc_api *api, int epfd)
{
  struct inc_epoll *e;
  if (api == NULL || epfd < (int)api->max_conns || epfd >= (int)(api->max_conns + api->max_epolls)) {
    return NULL;
  }
  e = &api->epolls[epfd - (int)api->max_conns];
  return atomic_load_explicit(&e->in_use, memory_order_acquire) ? e : NULL;
}

int inc_epoll_create(struct inc_api *api, int flags)
{
  unsigned i;
  (void)flags;
  if (api == NULL) {
    return fail(EINVAL);
  }
  pthread_mutex_lock(&api->epoll_lock);
  for (i = 0; i < api->max_epolls; i++) {
    struct inc_epoll *e = &api->epolls[i];
    if (!atomic_load_explicit(&e->in_use, memory_order_relaxed)) {
      e->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (e->efd < 0) {
        pthread_mutex_unlock(&api->epoll_lock);
        return fail(ENFILE);
      }
      atomic_store_explicit(&e->armed, 0, memory_order_relaxed);
      atomic_store_explicit(&e->ready_stack, NULL, memory_order_relaxed);
      e->pending = NULL;
      e->n_level = 0;
      e->n_interest = 0;
      atomic_store_explicit(&e->in_use, 1, memory_order_release);
      pthread_mutex_unlock(&api->epoll_lock);
      return (int)(api->max_conns + i);
    }
  }
  pthread_mutex_unlock(&api->epoll_lock);
  return fail(EMFILE);
}

/* Moves the ready stack onto the pending list. Under e->lock. */
static void take_stack(struct inc_epoll *e)
{
  /* acquire pairs with the release CAS in inc__epoll_push() */
  struct inc_conn *s = atomic_exchange_explicit(&e->ready_stack, NULL, memory_order_acquire);
  while (s != NULL) {
    struct inc_conn *n = s->ep_next;
    s->ep_next = e->pending;
    e->pending = s;
    s = n;
  }
}

static void level_remove(struct inc_epoll *e, struct inc_conn *c)
{
  unsigned i;
  for (i = 0; i < e->n_level; i++) {
    if (e->level[i] == c) {
      e->level[i] = e->level[--e->n_level];
      break;
    }
  }
  c->ep_inlevel = 0;
}

/* Workers that may push c: its owner, or all for a listener. */
static void barrier(struct inc_conn *c)
{
  int k = (int)atomic_load_explicit(&c->kind, memory_order_acquire);
  int w = atomic_load_explicit(&c->owner, memory_order_acquire);
  unsigned i;
  if (k == INC__C_LISTEN || k == INC__C_DGRAM) {
    for (i = 0; i < c->api->workers; i++) {
      (void)inc__api_call(c->api, i, inc__w_nop, NULL);
    }
  } else if (k == INC__C_STREAM && w >= 0) {
    (void)inc__api_call(c->api, (unsigned)w, inc__w_nop, NULL);
  }
}

/* Takes c off e entirely. Under e->lock, after c->ep was cleared and the
 * workers that might have been pushing c have passed a barrier. */
static void forget(struct inc_epoll *e, struct inc_conn *c)
{
  struct inc_conn **pp;
  take_stack(e);
  for (pp = &e->pending; *pp != NULL; pp = &(*pp)->ep_next) {
    if (*pp == c) {
      *pp = c->ep_next;
      break;
    }
  }
  if (c->ep_inlevel) {
    level_remove(e, c);
  }
  atomic_store_explicit(&c->ep_queued, 0, memory_order_relaxed);
  e->n_interest--;
}

void inc__epoll_detach(struct inc_conn *c)
{
  struct inc_epoll *e = atomic_load_explicit(&c->ep, memory_order_acquire);
  if (e == NULL) {
    return;
  }
  pthread_mutex_lock(&e->lock);
  atomic_store_explicit(&c->ep, NULL, memory_order_release);
  pthread_mutex_unlock(&e->lock);
  barrier(c);
  pthread_mutex_lock(&e->lock);
  forget(e, c);
  pthread_mutex_unlock(&e->lock);
}

int inc__epoll_destroy(struct inc_epoll *e)
{
  unsigned i;
  struct inc_api *api = e->api;
  for (i = 0; i < api->max_conns; i++) {
    struct inc_conn *c = &api->conns[i];
    if (atomic_load_explicit(&c->ep, memory_order_acquire) == e) {
      inc__epoll_detach(c);
    }
  }
  pthread_mutex_lock(&api->epoll_lock);
  close(e->efd);
  e->efd = -1;
  atomic_store_explicit(&e->in_use, 0, memory_order_release);
  pthread_mutex_unlock(&api->epoll_lock);
  return 0;
}

int inc__sock_epoll_close(struct inc_api *api, int epfd)
{
  struct inc_epoll *e = epoll_of(api, epfd);
  if (e == NULL) {
    return fail(EBADF);
  }
  return inc__epoll_destroy(e);
}

int inc_epoll_fd(struct inc_api *api, int epfd)
{
  struct inc_epoll *e = epoll_of(api, epfd);
  return e == NULL ? fail(EBADF) : e->efd;
}

static uint32_t interest_of(const struct epoll_event *ev)
{
  return ev->events & (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET | EPOLLONESHOT);
}

int inc_epoll_ctl(struct inc_api *api, int epfd, int op, int fd, struct epoll_event *ev)
{
  struct inc_epoll *e = epoll_of(api, epfd);
  struct inc_conn *c = inc__sock_conn(api, fd);
  struct inc_epoll *cur;
  if (e == NULL || c == NULL) {
    return fail(EBADF);
  }
  if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && ev == NULL) {
    return fail(EFAULT);
  }
  cur = atomic_load_explicit(&c->ep, memory_order_acquire);
  switch (op) {
  case EPOLL_CTL_ADD:
    if (cur != NULL) {
      return fail(cur == e ? EEXIST : EBUSY);
    }
    pthread_mutex_lock(&e->lock);
    c->ep_data = ev->data.u64;
    atomic_store_explicit(&c->ep_events, interest_of(ev), memory_order_relaxed);
    atomic_store_explicit(&c->ep_queued, 0, memory_order_relaxed);
    c->ep_inlevel = 0;
    e->n_interest++;
    /* release pairs with the acquire load in epoll_notify(): a worker that
     * sees the set also sees the interest */
    atomic_store_explicit(&c->ep, e, memory_order_release);
    pthread_mutex_unlock(&e->lock);
    inc__epoll_push(e, c); /* look at its current state in the next wait */
    return 0;
  case EPOLL_CTL_MOD:
    if (cur != e) {
      return fail(ENOENT);
    }
    pthread_mutex_lock(&e->lock);
    c->ep_data = ev->data.u64;
    atomic_store_explicit(&c->ep_events, interest_of(ev), memory_order_relaxed);
    pthread_mutex_unlock(&e->lock);
    inc__epoll_push(e, c);
    return 0;
  case EPOLL_CTL_DEL:
    if (cur != e) {
      return fail(ENOENT);
    }
    inc__epoll_detach(c);
    return 0;
  default:
    return fail(EINVAL);
  }
}

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One pass over the pending and level lists. Under e->lock. */
static int collect(struct inc_epoll *e, struct epoll_event *out, int max)
{
  int n = 0;
  unsigned i;
  take_stack(e);
  /* pending connections join the level list, which is then scanned once */
  while (e->pending != NULL) {
    struct inc_conn *c = e->pending;
    e->pending = c->ep_next;
    /* clear before reading the readiness: a rise after this read queues it
     * again (pairs with the seq_cst exchange in inc__epoll_push()) */
    atomic_store_explicit(&c->ep_queued, 0, memory_order_seq_cst);
    if (atomic_load_explicit(&c->ep, memory_order_relaxed) == e && !c->ep_inlevel) {
      c->ep_inlevel = 1;
      e->level[e->n_level++] = c;
    }
  }
  for (i = 0; i < e->n_level;) {
    struct inc_conn *c = e->level[i];
    uint32_t interest = atomic_load_explicit(&c->ep_events, memory_order_relaxed);
    uint32_t r = inc_conn_poll(c) & ((interest & (EPOLLIN | EPOLLOUT | EPOLLRDHUP)) | EPOLLERR | EPOLLHUP);
    if ((interest & (EPOLLIN | EPOLLOUT | EPOLLRDHUP)) == 0 && (interest & EPOLLONESHOT)) {
      r = 0; /* a one-shot that fired: disabled until EPOLL_CTL_MOD */
    }
    if (r != 0 && n < max) {
      out[n].events = r;
      out[n].data.u64 = c->ep_data;
      n++;
      if (interest & EPOLLONESHOT) {
        atomic_store_explicit(&c->ep_events, interest & (EPOLLET | EPOLLONESHOT), memory_order_relaxed);
      }
      if (interest & (EPOLLET | EPOLLONESHOT)) {
        /* edge-triggered: reported once per rise */
        c->ep_inlevel = 0;
        e->level[i] = e->level[--e->n_level];
        continue;
      }
      i++;
    } else if (r != 0) {
      i++; /* no room this time: stays for the next wait */
    } else {
      c->ep_inlevel = 0;
      e->level[i] = e->level[--e->n_level];
    }
  }
  return n;
}

int inc_epoll_wait(struct inc_api *api, int epfd, struct epoll_event *events, int max, int timeout_ms)
{
  struct inc_epoll *e = epoll_of(api, epfd);
  int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : timeout_ms;
  if (e == NULL) {
    return fail(EBADF);
  }
  if (events == NULL || max <= 0) {
    return fail(EINVAL);
  }
  for (;;) {
    int n;
    uint64_t drain;
    struct pollfd pfd;
    int left;
    ssize_t rc;
    pthread_mutex_lock(&e->lock);
    rc = read(e->efd, &drain, sizeof(drain)); /* a wake-up is being handled */
    (void)rc;
    n = collect(e, events, max);
    /* arm before the final check: a push after this store sees armed and
     * writes the eventfd (pairs with the exchange in inc__epoll_push()) */
    atomic_store_explicit(&e->armed, 1, memory_order_seq_cst);
    if (n == 0 && atomic_load_explicit(&e->ready_stack, memory_order_seq_cst) != NULL) {
      pthread_mutex_unlock(&e->lock);
      continue;
    }
    pthread_mutex_unlock(&e->lock);
    if (n > 0 || timeout_ms == 0) {
      return n;
    }
    left = -1;
    if (deadline > 0) {
      int64_t l = deadline - now_ms();
      if (l <= 0) {
        return 0;
      }
      left = (int)l;
    }
    pfd.fd = e->efd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, left) < 0 && errno != EINTR) {
      return -1;
    }
  }
}
