/*
 * The sequential API's context: the connection table and its lock-free free
 * list, each application thread's endpoint, waiting for readiness (futex)
 * and publishing it (owner side).
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "conn_priv.h"
#include "lwip/tcp.h"

#define ALIGN64(x) (((x) + 63u) & ~(size_t)63u)

static void resolve(const struct inc_api_config *cfg, unsigned *conns, unsigned *epolls, unsigned *dgrams)
{
  *conns = cfg != NULL && cfg->max_conns != 0 ? cfg->max_conns : 1024u;
  *epolls = cfg != NULL && cfg->max_epolls != 0 ? cfg->max_epolls : 64u;
  *dgrams = cfg != NULL && cfg->max_dgrams != 0 ? cfg->max_dgrams : 4096u;
}

size_t inc_api_footprint(const struct inc_api_config *cfg)
{
  unsigned nc, ne, nd;
  resolve(cfg, &nc, &ne, &nd);
  if (nc > (1u << 20) || ne > 4096u || nd > (1u << 22)) {
    return 0;
  }
  return ALIGN64(sizeof(struct inc_api)) + ALIGN64((size_t)nc * sizeof(struct inc_conn)) +
         ALIGN64((size_t)ne * sizeof(struct inc_epoll)) + ALIGN64((size_t)ne * nc * sizeof(struct inc_conn *)) +
         ALIGN64((size_t)nd * sizeof(struct inc__dgram));
}

struct tls_ep {
  struct inc_api *api;
  struct inc_chan_app *ep;
};

static void tls_ep_destroy(void *v)
{
  struct tls_ep *t = (struct tls_ep *)v;
  if (t != NULL) {
    (void)inc_stack_endpoint_detach(t->ep);
    free(t);
  }
}

int inc_api_init(struct inc_api **out, struct inc_stack *s, const struct inc_api_config *cfg, void *mem,
                 size_t len)
{
  struct inc_api *api;
  unsigned nc, ne, nd, i;
  size_t need = inc_api_footprint(cfg);
  char *p = (char *)mem;
  if (out == NULL || s == NULL || mem == NULL || ((uintptr_t)mem & 63u) != 0) {
    fprintf(stderr, "inception: inc_api_init: out, stack and 64-byte aligned memory are required\n");
    return -EINVAL;
  }
  if (need == 0) {
    fprintf(stderr, "inception: inc_api_init: max_conns must be <= 1048576, max_epolls <= 4096, "
                    "max_dgrams <= 4194304\n");
    return -EINVAL;
  }
  if (len < need) {
    return -ENOSPC;
  }
  resolve(cfg, &nc, &ne, &nd);
  memset(mem, 0, need);
  api = (struct inc_api *)p;
  p += ALIGN64(sizeof(*api));
  api->stack = s;
  api->workers = inc_stack_workers(s);
  api->max_conns = nc;
  api->max_epolls = ne;
  api->conns = (struct inc_conn *)p;
  p += ALIGN64((size_t)nc * sizeof(struct inc_conn));
  api->epolls = (struct inc_epoll *)p;
  p += ALIGN64((size_t)ne * sizeof(struct inc_epoll));
  api->level_mem = (struct inc_conn **)p;
  p += ALIGN64((size_t)ne * nc * sizeof(struct inc_conn *));
  api->dgrams = (struct inc__dgram *)p;
  api->max_dgrams = nd;
  for (i = 0; i < nd; i++) {
    atomic_store_explicit(&api->dgrams[i].free_next, i + 1 < nd ? i + 2 : 0, memory_order_relaxed);
  }
  atomic_store_explicit(&api->dg_free_head, 1, memory_order_release);
  if (pthread_key_create(&api->tls_key, tls_ep_destroy) != 0) {
    return -ENOMEM;
  }
  pthread_mutex_init(&api->epoll_lock, NULL);
  for (i = 0; i < nc; i++) {
    struct inc_conn *c = &api->conns[i];
    c->api = api;
    c->index = i;
    pthread_mutex_init(&c->app_lock, NULL);
    atomic_store_explicit(&c->free_next, i + 1 < nc ? i + 2 : 0, memory_order_relaxed);
  }
  for (i = 0; i < ne; i++) {
    api->epolls[i].api = api;
    api->epolls[i].index = i;
    api->epolls[i].efd = -1;
    api->epolls[i].level = api->level_mem + (size_t)i * nc;
    pthread_mutex_init(&api->epolls[i].lock, NULL);
  }
  /* pairs with the acquire loads in inc__conn_alloc() */
  atomic_store_explicit(&api->free_head, 1, memory_order_release);
  *out = api;
  return 0;
}

/* ---- the free list: a Treiber stack of indices with an ABA tag ---- */

struct inc_conn *inc__conn_alloc(struct inc_api *api, int family)
{
  uint64_t head = atomic_load_explicit(&api->free_head, memory_order_acquire);
  struct inc_conn *c;
  for (;;) {
    uint32_t idx1 = (uint32_t)head;
    uint64_t next;
    if (idx1 == 0) {
      return NULL;
    }
    c = &api->conns[idx1 - 1];
    next = ((head >> 32) + 1) << 32 | atomic_load_explicit(&c->free_next, memory_order_relaxed);
    /* acquire pairs with the release in inc__conn_free(): c's fields were
     * reset before it went back on the list */
    if (atomic_compare_exchange_weak_explicit(&api->free_head, &head, next, memory_order_acquire,
                                              memory_order_acquire)) {
      break;
    }
  }
  c->family = (uint8_t)family;
  atomic_store_explicit(&c->owner, -1, memory_order_relaxed);
  c->pcb = NULL;
  c->rxq = c->rxq_tail = NULL;
  c->rxq_len = 0;
  c->wnd_debt = 0;
  c->rx_fin = c->rd_shut = 0;
  c->zc_head = c->zc_count = 0;
  c->tx_queued = c->tx_acked = 0;
  c->connected = c->connecting = c->wr_shut = c->closing = 0;
  memset(c->lpcb, 0, sizeof(c->lpcb));
  atomic_store_explicit(&c->ready, 0, memory_order_relaxed);
  atomic_store_explicit(&c->err, 0, memory_order_relaxed);
  atomic_store_explicit(&c->ep, NULL, memory_order_relaxed);
  atomic_store_explicit(&c->ep_events, 0, memory_order_relaxed);
  atomic_store_explicit(&c->ep_queued, 0, memory_order_relaxed);
  atomic_store_explicit(&c->acc_stack, NULL, memory_order_relaxed);
  atomic_store_explicit(&c->acc_len, 0, memory_order_relaxed);
  atomic_store_explicit(&c->backlog, 0, memory_order_relaxed);
  c->acc_fifo = c->acc_next = NULL;
  memset(c->upcb, 0, sizeof(c->upcb));
  atomic_store_explicit(&c->dg_stack, NULL, memory_order_relaxed);
  c->dg_fifo = NULL;
  atomic_store_explicit(&c->dg_count, 0, memory_order_relaxed);
  atomic_store_explicit(&c->dg_bytes, 0, memory_order_relaxed);
  atomic_store_explicit(&c->dg_dropped, 0, memory_order_relaxed);
  atomic_store_explicit(&c->opt_nodelay, 0, memory_order_relaxed);
  atomic_store_explicit(&c->opt_keepalive, 0, memory_order_relaxed);
  atomic_store_explicit(&c->opt_reuseaddr, 0, memory_order_relaxed);
  atomic_store_explicit(&c->opt_linger, -1, memory_order_relaxed);
  atomic_store_explicit(&c->opt_rcvbuf, TCP_WND, memory_order_relaxed);
  atomic_store_explicit(&c->opt_sndbuf, TCP_SND_BUF, memory_order_relaxed);
  atomic_store_explicit(&c->nonblock, 0, memory_order_relaxed);
  atomic_store_explicit(&c->rcvtimeo_ms, -1, memory_order_relaxed);
  atomic_store_explicit(&c->sndtimeo_ms, -1, memory_order_relaxed);
  c->ep_inlevel = 0;
  c->bound = 0;
  ip_addr_set_zero(&c->local_ip);
  ip_addr_set_zero(&c->remote_ip);
  c->local_port = c->remote_port = 0;
  /* pairs with the acquire loads of readers that find c by index */
  atomic_store_explicit(&c->kind, INC__C_NEW, memory_order_release);
  atomic_fetch_add_explicit(&api->in_use, 1, memory_order_relaxed);
  return c;
}

void inc__conn_free(struct inc_conn *c)
{
  struct inc_api *api = c->api;
  uint64_t head = atomic_load_explicit(&api->free_head, memory_order_relaxed);
  atomic_store_explicit(&c->kind, INC__C_FREE, memory_order_relaxed);
  atomic_fetch_sub_explicit(&api->in_use, 1, memory_order_relaxed);
  for (;;) {
    atomic_store_explicit(&c->free_next, (uint32_t)head, memory_order_relaxed);
    /* release pairs with the acquire in inc__conn_alloc() */
    if (atomic_compare_exchange_weak_explicit(&api->free_head, &head,
                                              ((head >> 32) + 1) << 32 | (c->index + 1),
                                              memory_order_release, memory_order_relaxed)) {
      return;
    }
  }
}

unsigned inc_api_conns_in_use(const struct inc_api *api)
{
  return atomic_load_explicit(&((struct inc_api *)api)->in_use, memory_order_relaxed);
}

/* ---- the datagram record pool: the same free list ---- */

struct inc__dgram *inc__dgram_alloc(struct inc_api *api)
{
  uint64_t head = atomic_load_explicit(&api->dg_free_head, memory_order_acquire);
  for (;;) {
    uint32_t idx1 = (uint32_t)head;
    struct inc__dgram *d;
    uint64_t next;
    if (idx1 == 0) {
      return NULL;
    }
    d = &api->dgrams[idx1 - 1];
    next = ((head >> 32) + 1) << 32 | atomic_load_explicit(&d->free_next, memory_order_relaxed);
    /* acquire pairs with the release in inc__dgram_free() */
    if (atomic_compare_exchange_weak_explicit(&api->dg_free_head, &head, next, memory_order_acquire,
                                              memory_order_acquire)) {
      d->next = NULL;
      return d;
    }
  }
}

void inc__dgram_free(struct inc_api *api, struct inc__dgram *d)
{
  uint64_t head = atomic_load_explicit(&api->dg_free_head, memory_order_relaxed);
  uint32_t idx1 = (uint32_t)(d - api->dgrams) + 1;
  d->p = NULL;
  for (;;) {
    atomic_store_explicit(&d->free_next, (uint32_t)head, memory_order_relaxed);
    /* release pairs with the acquire in inc__dgram_alloc() */
    if (atomic_compare_exchange_weak_explicit(&api->dg_free_head, &head, ((head >> 32) + 1) << 32 | idx1,
                                              memory_order_release, memory_order_relaxed)) {
      return;
    }
  }
}

/* ---- endpoints ---- */

struct inc_chan_app *inc__api_ep(struct inc_api *api)
{
  struct tls_ep *t = (struct tls_ep *)pthread_getspecific(api->tls_key);
  if (t == NULL) {
    struct inc_chan_app *ep;
    if (inc_worker_self() != NULL) {
      return NULL; /* a worker never waits on a lane */
    }
    if (inc_stack_endpoint_attach(api->stack, &ep) != 0) {
      return NULL;
    }
    t = (struct tls_ep *)malloc(sizeof(*t)); /* once per thread, not on the data path */
    if (t == NULL) {
      (void)inc_stack_endpoint_detach(ep);
      return NULL;
    }
    t->api = api;
    t->ep = ep;
    pthread_setspecific(api->tls_key, t);
  }
  return t->ep;
}

int inc_api_thread_detach(struct inc_api *api)
{
  struct tls_ep *t = (struct tls_ep *)pthread_getspecific(api->tls_key);
  if (t != NULL) {
    pthread_setspecific(api->tls_key, NULL);
    tls_ep_destroy(t);
  }
  return 0;
}

int inc__api_call(struct inc_api *api, unsigned w, inc_stack_call_fn fn, void *arg)
{
  struct inc_chan_app *ep = inc__api_ep(api);
  struct inc_stack_call call;
  if (ep == NULL) {
    return inc_worker_self() != NULL ? -EDEADLK : -ENOSPC;
  }
  memset(&call, 0, sizeof(call));
  call.fn = fn;
  call.arg = arg;
  return inc_stack_call_run(ep, w, &call, -1);
}

/* ---- waiting and publishing ---- */

int64_t inc__now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t inc__deadline(int timeout_ms)
{
  if (timeout_ms < 0) {
    return -1;
  }
  return timeout_ms == 0 ? 0 : inc__now_ms() + timeout_ms;
}

int inc__conn_wait(struct inc_conn *c, uint32_t mask, int64_t deadline_ms)
{
  for (;;) {
    /* acquire pairs with the seq_cst increment in inc__conn_publish() */
    uint32_t seq = atomic_load_explicit(&c->evseq, memory_order_acquire);
    struct timespec ts, *tsp = NULL;
    uint32_t r = atomic_load_explicit(&c->kind, memory_order_acquire) == INC__C_STREAM
                     ? atomic_load_explicit(&c->ready, memory_order_acquire)
                     : inc_conn_poll(c);
    if ((r & mask) != 0 || atomic_load_explicit(&c->err, memory_order_acquire) != 0) {
      return 0;
    }
    if (deadline_ms == 0) {
      return -EAGAIN;
    }
    if (deadline_ms > 0) {
      int64_t left = deadline_ms - inc__now_ms();
      if (left <= 0) {
        return -EAGAIN;
      }
      ts.tv_sec = left / 1000;
      ts.tv_nsec = (long)(left % 1000) * 1000000L;
      tsp = &ts;
    }
    /* Dekker with inc__conn_publish(): we count ourselves, then the kernel
     * compares evseq; the publisher bumps evseq, then reads waiters. Either
     * it sees us and wakes us, or the kernel sees the new evseq. */
    atomic_fetch_add_explicit(&c->waiters, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&c->evseq, memory_order_seq_cst) == seq) {
      syscall(SYS_futex, (uint32_t *)&c->evseq, FUTEX_WAIT_PRIVATE, seq, tsp, NULL, 0);
    }
    atomic_fetch_sub_explicit(&c->waiters, 1, memory_order_relaxed);
  }
}

void inc__epoll_push(struct inc_epoll *e, struct inc_conn *c)
{
  if (atomic_exchange_explicit(&c->ep_queued, 1, memory_order_seq_cst) == 0) {
    struct inc_conn *head = atomic_load_explicit(&e->ready_stack, memory_order_relaxed);
    do {
      c->ep_next = head;
      /* release pairs with the acquire exchange in inc_epoll_wait() */
    } while (!atomic_compare_exchange_weak_explicit(&e->ready_stack, &head, c, memory_order_release,
                                                    memory_order_relaxed));
  }
  /* pairs with the seq_cst store of armed in inc_epoll_wait(): either the
   * waiter sees the pushed entry, or we see it armed and wake it */
  if (atomic_exchange_explicit(&e->armed, 0, memory_order_seq_cst) != 0) {
    uint64_t one = 1;
    ssize_t rc = write(e->efd, &one, sizeof(one));
    (void)rc; /* an eventfd write fails only on overflow: it is readable then */
  }
}

static void epoll_notify(struct inc_conn *c, uint32_t rising)
{
  /* acquire pairs with the release store in inc_epoll_ctl() */
  struct inc_epoll *e = atomic_load_explicit(&c->ep, memory_order_acquire);
  if (e == NULL || (rising & (atomic_load_explicit(&c->ep_events, memory_order_relaxed) |
                              INC_POLLERR | INC_POLLHUP)) == 0) {
    return;
  }
  inc__epoll_push(e, c);
}

static void wake(struct inc_conn *c, uint32_t rising)
{
  atomic_fetch_add_explicit(&c->evseq, 1, memory_order_seq_cst);
  if (atomic_load_explicit(&c->waiters, memory_order_seq_cst) != 0) {
    syscall(SYS_futex, (uint32_t *)&c->evseq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
  }
  epoll_notify(c, rising);
}

void inc__conn_publish(struct inc_conn *c, uint32_t ready)
{
  uint32_t old = atomic_load_explicit(&c->ready, memory_order_relaxed);
  if (old == ready) {
    return;
  }
  /* release: what the owner did before (queued data, set err) is visible to
   * whoever acquires the new readiness */
  atomic_store_explicit(&c->ready, ready, memory_order_release);
  wake(c, ready & ~old);
}

void inc__conn_notify(struct inc_conn *c)
{
  wake(c, INC_POLLIN);
}
