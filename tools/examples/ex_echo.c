/*
 * The echo service on the per-core raw API (see ex_echo.h).
 *
 * Per worker: a listener and a fixed pool of connection states (no
 * allocation after start). A connection's state holds the received buffer
 * chains not yet echoed, in order; pump() writes as much of them as the
 * send buffer takes, frees each chain once it is all written and reports its
 * bytes consumed (inc_raw_tcp_recved()), which opens the receive window
 * again. It runs when data arrives, when the peer acknowledges (sent), and
 * from the poll callback (a write that found no memory).
 */
#include "ex_echo.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inception/raw.h"

#define EX_ECHO_CONNS 256  /* connections at once per worker */
#define EX_ECHO_CHAINS 512 /* received chains waiting per connection */

struct echo_worker;

struct echo_conn {
  struct echo_worker *ew;
  struct inc_raw_conn *c;
  struct inc_buf *q[EX_ECHO_CHAINS]; /* chains not yet (all) written, oldest first */
  unsigned head, n;
  struct inc_buf *piece; /* the piece of q[head] being written */
  size_t piece_off;      /* bytes of it written */
  size_t chain_written;  /* bytes of q[head] written */
  int eof;               /* the peer ended its stream */
  int gone;              /* the handle is released (error callback) */
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

static void drop_chains(struct echo_conn *ec)
{
  while (ec->n > 0) {
    inc_buf_free(ec->q[ec->head]);
    ec->head = (ec->head + 1) % EX_ECHO_CHAINS;
    ec->n--;
  }
}

/* Writes what the send buffer takes; closes once the peer's stream is
 * echoed whole. The handle may be released on return (closed or aborted):
 * callers must not touch ec afterwards. */
static void pump(struct echo_conn *ec)
{
  size_t consumed = 0;
  int full = 0;
  long r;
  while (ec->n > 0 && !full) {
    struct inc_buf *head = ec->q[ec->head];
    if (ec->piece == NULL) {
      ec->piece = head;
      ec->piece_off = 0;
      ec->chain_written = 0;
    }
    while (ec->piece != NULL) {
      size_t len = inc_buf_len(ec->piece) - ec->piece_off;
      if (len > 0) {
        struct inc_buf *next = inc_buf_next(ec->piece);
        unsigned more = (next != NULL || ec->n > 1) ? INC_RAW_WRITE_MORE : 0;
        r = inc_raw_tcp_write(ec->c, (const uint8_t *)inc_buf_data(ec->piece) + ec->piece_off, len, more);
        if (r == -EAGAIN) {
          full = 1;
          break;
        }
        if (r < 0) {
          fprintf(stderr, "inc-echo: write: %s; aborting the connection\n", strerror((int)-r));
          bump(&ec->ew->failed, 1);
          drop_chains(ec);
          ec->piece = NULL;
          if (consumed > 0) {
            inc_raw_tcp_recved(ec->c, consumed);
          }
          inc_raw_tcp_abort(ec->c); /* release follows inside */
          return;
        }
        ec->piece_off += (size_t)r;
        ec->chain_written += (size_t)r;
        consumed += (size_t)r;
        if ((size_t)r < len) {
          full = 1;
          break;
        }
      }
      ec->piece = inc_buf_next(ec->piece);
      ec->piece_off = 0;
    }
    if (ec->piece == NULL) { /* the whole chain is written: its memory is free */
      inc_buf_free(head);
      ec->head = (ec->head + 1) % EX_ECHO_CHAINS;
      ec->n--;
    }
  }
  if (consumed > 0) {
    bump(&ec->ew->bytes, consumed);
    inc_raw_tcp_recved(ec->c, consumed);
  }
  if (ec->n == 0 && ec->eof) {
    /* everything echoed: FIN after the queued data (the peer's FIN is in) */
    bump(&ec->ew->finished, 1);
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
      /* only a peer sending very many tiny segments into a full send buffer
       * gets here: the example keeps a fixed queue per connection */
      fprintf(stderr, "inc-echo: more than %u received chains waiting; aborting the connection\n",
              EX_ECHO_CHAINS);
      inc_buf_free(b);
      bump(&ec->ew->failed, 1);
      drop_chains(ec);
      ec->piece = NULL;
      inc_raw_tcp_abort(ec->c);
      return;
    }
    ec->q[(ec->head + ec->n) % EX_ECHO_CHAINS] = b;
    ec->n++;
  }
  pump(ec);
}

static void on_sent(void *arg, struct inc_raw_conn *c, uint32_t len)
{
  (void)c;
  (void)len;
  pump(arg);
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
  /* the handle is released when this returns; release() follows */
  if (err != 0) {
    bump(&ec->ew->failed, 1);
  }
  drop_chains(ec);
  ec->piece = NULL;
  ec->gone = 1;
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
  ec->head = ec->n = 0;
  ec->piece = NULL;
  ec->eof = ec->gone = 0;
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
