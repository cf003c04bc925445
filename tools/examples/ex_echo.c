/*
 * The echo service on the per-core raw API (see ex_echo.h): zero-copy both
 * ways. The received buffers (the mbufs the NIC wrote) are written back by
 * reference (INC_RAW_WRITE_NOCOPY): no byte is copied between the receive
 * and the transmit queue.
 *
 * Per worker: a listener and a fixed pool of connection states (no
 * allocation after start). A connection's state holds the received chains,
 * oldest first: the first `written` of them are queued whole for sending,
 * the next one partly (piece, piece_off). A chain stays the connection's
 * until the peer acknowledged all its bytes (sent callbacks, in order);
 * then it is freed and its bytes reported consumed (inc_raw_tcp_recved()),
 * which opens the receive window again: a sender can be ahead of its echo
 * by at most one window (flow control end to end). At the peer's end of
 * stream, once every chain is queued, what is left is reported and the
 * connection closed; the chains still unacknowledged are freed by the
 * release callback (the stack holds them until then).
 */
#include "ex_echo.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inception/raw.h"

#define EX_ECHO_CONNS 256  /* connections at once per worker */
#define EX_ECHO_CHAINS 512 /* received chains held per connection */

struct echo_worker;

struct echo_conn {
  struct echo_worker *ew;
  struct inc_raw_conn *c;
  struct inc_buf *q[EX_ECHO_CHAINS]; /* chains held, oldest first */
  unsigned head, n;
  unsigned written;      /* of the n: queued whole for sending */
  struct inc_buf *piece; /* the piece of chain q[head + written] being queued */
  size_t piece_off;      /* bytes of it queued */
  size_t acked;          /* bytes of q[head] the peer acknowledged */
  size_t unreported;     /* bytes received and not yet reported consumed */
  int eof;               /* the peer ended its stream */
  int closed;            /* closed or aborted by us, or gone: only release comes */
  struct echo_conn *next_free;
};

struct echo_worker {
  struct ex_echo *srv;
  struct inc_raw_conn *listener;
  struct echo_conn *free_list;
  /* written by the worker only (relaxed stores); read by ex_echo_totals() */
  _Atomic uint64_t accepted, finished, failed, bytes, refused;
  struct echo_conn conns[EX_ECHO_CONNS];
} __attribute__((aligned(64)));

struct ex_echo {
  unsigned workers;
  uint16_t port;
  _Atomic unsigned listen_errors;
  struct echo_worker *w;
};

static void bump(_Atomic uint64_t *a, uint64_t n)
{
  /* single writer: a relaxed load and store suffice (readers see some
   * recent value; no other memory is published through it) */
  atomic_store_explicit(a, atomic_load_explicit(a, memory_order_relaxed) + n, memory_order_relaxed);
}

static void conn_put(struct echo_conn *ec)
{
  struct echo_worker *ew = ec->ew;
  ec->c = NULL;
  ec->next_free = ew->free_list;
  ew->free_list = ec;
}

static struct inc_buf *chain_at(const struct echo_conn *ec, unsigned i)
{
  return ec->q[(ec->head + i) % EX_ECHO_CHAINS];
}

/* Frees every chain held (the stack references none of them any more). */
static void drop_chains(struct echo_conn *ec)
{
  while (ec->n > 0) {
    inc_buf_free(ec->q[ec->head]);
    ec->head = (ec->head + 1) % EX_ECHO_CHAINS;
    ec->n--;
  }
  ec->written = 0;
  ec->piece = NULL;
}

static void fail_abort(struct echo_conn *ec, const char *what, long err)
{
  fprintf(stderr, "inc-echo: %s: %s; aborting the connection\n", what, strerror((int)-err));
  bump(&ec->ew->failed, 1);
  ec->closed = 1;
  inc_raw_tcp_abort(ec->c); /* the release callback frees the chains, inside */
}

/* Queues what the send buffer takes, by reference; closes once the peer's
 * stream is queued whole. The handle may be released on return. */
static void pump(struct echo_conn *ec)
{
  long r;
  while (ec->written < ec->n) {
    if (ec->piece == NULL) {
      ec->piece = chain_at(ec, ec->written);
      ec->piece_off = 0;
    }
    while (ec->piece != NULL) {
      size_t len = inc_buf_len(ec->piece) - ec->piece_off;
      if (len > 0) {
        struct inc_buf *next = inc_buf_next(ec->piece);
        unsigned flags = INC_RAW_WRITE_NOCOPY;
        if (next != NULL || ec->written + 1 < ec->n) {
          flags |= INC_RAW_WRITE_MORE;
        }
        r = inc_raw_tcp_write(ec->c, (const uint8_t *)inc_buf_data(ec->piece) + ec->piece_off, len, flags);
        if (r == -EAGAIN) {
          return; /* a sent or poll callback comes back here */
        }
        if (r < 0) {
          fail_abort(ec, "write", r);
          return;
        }
        bump(&ec->ew->bytes, (uint64_t)r);
        ec->piece_off += (size_t)r;
        if ((size_t)r < len) {
          return;
        }
      }
      ec->piece = inc_buf_next(ec->piece);
      ec->piece_off = 0;
    }
    ec->written++;
  }
  if (ec->eof) {
    /* every byte is queued: report the rest consumed (a close with unread
     * data would reset), then FIN after the queued data; the stack keeps
     * the unacknowledged chains' memory until the release callback */
    if (ec->unreported > 0) {
      inc_raw_tcp_recved(ec->c, ec->unreported);
      ec->unreported = 0;
    }
    bump(&ec->ew->finished, 1);
    ec->closed = 1;
    inc_raw_tcp_close(ec->c);
  }
}

static void on_recv(void *arg, struct inc_raw_conn *c, struct inc_buf *b)
{
  struct echo_conn *ec = arg;
  (void)c;
  if (b == NULL) {
    ec->eof = 1;
  } else {
    if (ec->n == EX_ECHO_CHAINS) {
      /* only a peer sending very many tiny segments gets here: the example
       * keeps a fixed queue per connection */
      inc_buf_free(b);
      fail_abort(ec, "more received chains than the example holds", -ENOBUFS);
      return;
    }
    ec->q[(ec->head + ec->n) % EX_ECHO_CHAINS] = b;
    ec->n++;
    ec->unreported += inc_buf_total(b);
  }
  pump(ec);
}

/* The peer acknowledged len more of our bytes: they are the oldest chains'. */
static void on_sent(void *arg, struct inc_raw_conn *c, uint32_t len)
{
  struct echo_conn *ec = arg;
  size_t freed = 0;
  (void)c;
  ec->acked += len;
  while (ec->written > 0) {
    size_t total = inc_buf_total(ec->q[ec->head]);
    if (ec->acked < total) {
      break;
    }
    ec->acked -= total;
    freed += total;
    inc_buf_free(ec->q[ec->head]);
    ec->head = (ec->head + 1) % EX_ECHO_CHAINS;
    ec->n--;
    ec->written--;
  }
  if (freed > 0) {
    ec->unreported -= freed;
    inc_raw_tcp_recved(ec->c, freed);
  }
  pump(ec);
}

static void on_poll(void *arg, struct inc_raw_conn *c)
{
  (void)c;
  pump(arg);
}

static void on_error(void *arg, struct inc_raw_conn *c, int err)
{
  struct echo_conn *ec = arg;
  (void)c;
  /* the handle is released when this returns; the release callback
   * follows (and frees the chains: the stack may reference them until then) */
  if (err != 0) {
    bump(&ec->ew->failed, 1);
  }
  ec->closed = 1;
}

static void on_release(void *arg)
{
  struct echo_conn *ec = arg;
  drop_chains(ec);
  conn_put(ec);
}

static const struct inc_raw_tcp_ops conn_ops = {
    .recv = on_recv, .sent = on_sent, .error = on_error, .poll = on_poll, .release = on_release};

static int on_accept(void *arg, struct inc_raw_conn *listener, struct inc_raw_conn *c)
{
  struct echo_worker *ew = arg;
  struct echo_conn *ec = ew->free_list;
  int rc;
  (void)listener;
  if (ec == NULL) {
    bump(&ew->refused, 1);
    return -ENOMEM; /* the stack resets it */
  }
  ew->free_list = ec->next_free;
  ec->c = c;
  ec->head = ec->n = ec->written = 0;
  ec->piece = NULL;
  ec->piece_off = ec->acked = ec->unreported = 0;
  ec->eof = ec->closed = 0;
  rc = inc_raw_tcp_set(c, &conn_ops, ec);
  if (rc != 0) {
    conn_put(ec);
    return rc;
  }
  inc_raw_tcp_nodelay(c, 1);
  bump(&ew->accepted, 1);
  return 0;
}

static const struct inc_raw_tcp_ops listen_ops = {.accept = on_accept};

static void worker_start(struct inc_worker *w, void *arg)
{
  struct ex_echo *s = arg;
  struct echo_worker *ew = &s->w[inc_worker_index(w)];
  int rc = inc_raw_tcp_listen(w, NULL, s->port, 0, &listen_ops, ew, &ew->listener);
  if (rc != 0) {
    fprintf(stderr, "inc-echo: worker %u cannot listen on port %u: %s\n", inc_worker_index(w), s->port,
            strerror(-rc));
    atomic_fetch_add(&s->listen_errors, 1);
  }
}

static void worker_stop(struct inc_worker *w, void *arg)
{
  (void)arg;
  /* closes the listener, aborts the connections left (error callbacks) */
  inc_raw_worker_fini(w);
}

struct ex_echo *ex_echo_new(unsigned workers, uint16_t port, struct inc_stack_callbacks *cb)
{
  struct ex_echo *s = calloc(1, sizeof(*s));
  unsigned i, j;
  if (s == NULL) {
    return NULL;
  }
  s->workers = workers;
  s->port = port;
  if (posix_memalign((void **)&s->w, 64, workers * sizeof(*s->w)) != 0) {
    free(s);
    return NULL;
  }
  memset(s->w, 0, workers * sizeof(*s->w));
  for (i = 0; i < workers; i++) {
    struct echo_worker *ew = &s->w[i];
    ew->srv = s;
    for (j = EX_ECHO_CONNS; j-- > 0;) {
      ew->conns[j].ew = ew;
      conn_put(&ew->conns[j]);
    }
  }
  memset(cb, 0, sizeof(*cb));
  cb->worker_start = worker_start;
  cb->worker_stop = worker_stop;
  cb->arg = s;
  return s;
}

unsigned ex_echo_listen_errors(const struct ex_echo *s)
{
  return atomic_load(&((struct ex_echo *)(uintptr_t)s)->listen_errors);
}

void ex_echo_totals(const struct ex_echo *s, struct ex_echo_totals *t)
{
  unsigned i;
  memset(t, 0, sizeof(*t));
  for (i = 0; i < s->workers; i++) {
    struct echo_worker *ew = &s->w[i];
    t->accepted += atomic_load_explicit(&ew->accepted, memory_order_relaxed);
    t->finished += atomic_load_explicit(&ew->finished, memory_order_relaxed);
    t->failed += atomic_load_explicit(&ew->failed, memory_order_relaxed);
    t->bytes += atomic_load_explicit(&ew->bytes, memory_order_relaxed);
    t->refused += atomic_load_explicit(&ew->refused, memory_order_relaxed);
  }
}

void ex_echo_free(struct ex_echo *s)
{
  if (s != NULL) {
    free(s->w);
    free(s);
  }
}
