/* The stress harness's workload: see mix.h. */
#include "mix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inception/addr.h"
#include "inception/raw.h"

#define SCRATCH 16384u
#define SERVER_CONNS 4096u

struct sess { /* a client session */
  struct inc_raw_conn *conn; /* NULL once closed or released */
  struct mix_worker *mw;
  int active;
  uint32_t kind, id, count, size, seq;
  uint64_t out_off, out_len; /* the unit being sent: header + request, a request, or header + bulk */
  int out_hdr;               /* the unit starts with the header */
  uint64_t in_off;           /* bytes of the current response received */
  uint64_t t0;
};

struct sconn { /* a server connection */
  struct inc_raw_conn *conn; /* NULL while free */
  struct mix_worker *mw;
  struct sconn *next_free;
  struct mix_srv_in in;
  uint64_t resp_off, resp_len; /* response being sent */
  uint32_t resp_seq;
};

struct mix_worker {
  struct mix *m;
  unsigned index;
  uint64_t rng;
  uint32_t next_id;
  struct mix_counters c;
  struct sess *sess;       /* client: cfg.sessions_per_worker */
  struct sconn *conns;     /* server: SERVER_CONNS */
  struct sconn *free_conns;
  struct inc_raw_conn *listener; /* server */
  struct inc_addr server;        /* client: where sessions connect */
  struct inc_netif_counters link; /* the netif's counters at worker_stop */
  uint8_t scratch[SCRATCH];
} __attribute__((aligned(64)));

/* ---- helpers -------------------------------------------------------------- */

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void add(_Atomic uint64_t *c, uint64_t n)
{
  /* single writer (the worker): relaxed load + store, read by the main thread */
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* Payload byte i of unit seq of stream id (splitmix64 of the 8-byte block). */
uint8_t mix_pat(uint32_t id, uint32_t seq, uint64_t i)
{
  uint64_t x = (((uint64_t)id << 32) | seq) + (i >> 3) * 0x9e3779b97f4a7c15ULL;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return (uint8_t)(x >> ((i & 7) * 8));
}

int mix_srv_in_byte(struct mix_srv_in *in, uint8_t b, uint32_t *answer)
{
  int r = 0;
  if (in->hoff < MIX_HDR_LEN) {
    in->h[in->hoff++] = b;
    if (in->hoff == MIX_HDR_LEN) {
      uint32_t h[5];
      memcpy(h, in->h, MIX_HDR_LEN);
      if (h[0] != MIX_MAGIC || h[1] < MIX_KIND_SHORT || h[1] > MIX_KIND_BULK || h[3] == 0 || h[4] == 0) {
        return -1;
      }
      in->kind = h[1];
      in->id = h[2];
      in->count = h[3];
      in->size = h[4];
    }
    return 0;
  }
  if (in->seq >= in->count || b != mix_pat(in->id, in->seq, in->in_off)) {
    return -1;
  }
  if (++in->in_off == in->size) {
    if (in->kind != MIX_KIND_BULK) {
      *answer = in->seq;
      r = 1;
    }
    in->seq++;
    in->in_off = 0;
  }
  return r;
}

int mix_srv_in_whole(const struct mix_srv_in *in)
{
  return in->hoff == MIX_HDR_LEN && in->seq == in->count && in->in_off == 0;
}

static unsigned lat_bucket(uint64_t ns)
{
  unsigned k = 0, b;
  uint64_t v = ns ? ns : 1;
  while ((v >> k) > 1) {
    k++;
  }
  /* 8 buckets per power of two: the 3 bits below the top one */
  b = k * 8 + (k >= 3 ? (unsigned)((v >> (k - 3)) & 7) : 0);
  return b < MIX_LAT_BUCKETS ? b : MIX_LAT_BUCKETS - 1;
}

uint64_t mix_lat_bucket_ns(unsigned b)
{
  unsigned k = b / 8, sub = b % 8;
  if (k < 3) {
    return (uint64_t)1 << (k + 1);
  }
  return ((uint64_t)8 + sub + 1) << (k - 3);
}

/* ---- client ---------------------------------------------------------------- */

static void sess_end(struct sess *s, int ok)
{
  struct mix_worker *mw = s->mw;
  if (s->conn != NULL) {
    /* FIN after the queued data (every received byte was reported
     * consumed, so no RST); no callback of it runs again */
    inc_raw_tcp_close(s->conn);
    s->conn = NULL;
  }
  s->active = 0;
  add(ok ? &mw->c.done : &mw->c.failed, 1);
}

static void fill_out(struct sess *s, uint8_t *dst, uint64_t off, uint32_t n)
{
  uint32_t k;
  for (k = 0; k < n; k++, off++) {
    if (s->out_hdr && off < MIX_HDR_LEN) {
      uint32_t h[5] = {MIX_MAGIC, s->kind, s->id, s->count, s->size};
      dst[k] = ((const uint8_t *)h)[off];
    } else {
      dst[k] = mix_pat(s->id, s->seq, off - (s->out_hdr ? MIX_HDR_LEN : 0));
    }
  }
}

static void client_send(struct sess *s)
{
  struct mix_worker *mw = s->mw;
  while (s->out_off < s->out_len) {
    uint64_t left = s->out_len - s->out_off;
    long room = inc_raw_tcp_sndbuf(s->conn), put;
    uint32_t n;
    if (room <= 0) {
      break; /* the sent or poll callback retries */
    }
    n = room < (long)SCRATCH ? (uint32_t)room : SCRATCH;
    if (n > left) {
      n = (uint32_t)left;
    }
    fill_out(s, mw->scratch, s->out_off, n);
    put = inc_raw_tcp_write(s->conn, mw->scratch, n, n < left ? INC_RAW_WRITE_MORE : 0);
    if (put == -EAGAIN) {
      break; /* no segment or memory now: the sent or poll callback retries */
    }
    if (put < 0) {
      sess_end(s, 0);
      return;
    }
    s->out_off += (uint64_t)put;
    if ((uint32_t)put < n) {
      break;
    }
  }
  inc_raw_tcp_output(s->conn);
  if (s->kind == MIX_KIND_BULK && s->out_off == s->out_len) {
    add(&mw->c.bytes, s->size);
    sess_end(s, 1); /* the server verifies the whole stream at our FIN */
  }
}

static void c_sent(void *arg, struct inc_raw_conn *c, uint32_t len)
{
  (void)c;
  (void)len;
  client_send((struct sess *)arg);
}

static void c_poll(void *arg, struct inc_raw_conn *c)
{
  (void)c;
  client_send((struct sess *)arg);
}

static void c_err(void *arg, struct inc_raw_conn *c, int err)
{
  struct sess *s = (struct sess *)arg;
  (void)c;
  s->conn = NULL; /* the stack released it */
  if (atomic_load_explicit(&s->mw->m->stopping, memory_order_relaxed)) {
    s->active = 0;
    return;
  }
  /* a RST answering the SYN is a refused connect; any other end is a reset */
  add(err == -ECONNREFUSED ? &s->mw->c.fail_connect : &s->mw->c.fail_reset, 1);
  atomic_store_explicit(&s->mw->c.last_fail_err, err, memory_order_relaxed);
  sess_end(s, 0);
}

static void c_recv(void *arg, struct inc_raw_conn *c, struct inc_buf *b)
{
  struct sess *s = (struct sess *)arg;
  struct mix_worker *mw = s->mw;
  const struct inc_buf *q;
  if (b == NULL) { /* the server closed before we were done */
    if (atomic_load_explicit(&mw->m->stopping, memory_order_relaxed)) {
      s->active = 0; /* cut short by the end of the run: not a failure */
      inc_raw_tcp_close(c);
      s->conn = NULL;
      return;
    }
    add(&mw->c.fail_closed, 1);
    sess_end(s, 0);
    return;
  }
  /* consumed now (the bytes are verified below, from b): a close in the
   * middle of the chain then sends a FIN, not a RST */
  inc_raw_tcp_recved(c, inc_buf_total(b));
  for (q = b; q != NULL; q = inc_buf_next(q)) {
    const uint8_t *d = (const uint8_t *)inc_buf_data(q);
    size_t i, len = inc_buf_len(q);
    for (i = 0; i < len; i++) {
      if (s->kind == MIX_KIND_BULK || s->seq >= s->count ||
          d[i] != mix_pat(s->id | MIX_RESP_TAG, s->seq, s->in_off)) {
        add(&mw->c.corrupt, 1);
        inc_buf_free(b);
        inc_raw_tcp_abort(c);
        s->conn = NULL;
        sess_end(s, 0);
        return;
      }
      if (++s->in_off == s->size) { /* a whole response */
        add(&mw->c.lat[lat_bucket(now_ns() - s->t0)], 1);
        add(&mw->c.requests, 1);
        add(&mw->c.bytes, s->size);
        s->seq++;
        s->in_off = 0;
        if (s->seq < s->count) {
          s->out_hdr = 0;
          s->out_off = 0;
          s->out_len = s->size;
          s->t0 = now_ns();
          client_send(s);
          if (!s->active) {
            inc_buf_free(b);
            return;
          }
        }
      }
    }
  }
  inc_buf_free(b);
  if (s->seq == s->count && s->active) {
    sess_end(s, 1);
  }
}

static void c_connected(void *arg, struct inc_raw_conn *c)
{
  struct sess *s = (struct sess *)arg;
  (void)c;
  s->t0 = now_ns();
  client_send(s);
}

static const struct inc_raw_tcp_ops client_ops = {
    .connected = c_connected,
    .recv = c_recv,
    .sent = c_sent,
    .error = c_err,
    .poll = c_poll,
};

static uint64_t rnd(struct mix_worker *mw)
{
  mw->rng ^= mw->rng << 13; /* xorshift64 */
  mw->rng ^= mw->rng >> 7;
  mw->rng ^= mw->rng << 17;
  return mw->rng;
}

static int session_start(struct inc_worker *w, struct mix_worker *mw, struct sess *s)
{
  const struct mix_config *cfg = &mw->m->cfg;
  unsigned total = cfg->weight_short + cfg->weight_rr + cfg->weight_bulk;
  unsigned r = (unsigned)(rnd(mw) % (total ? total : 1));
  int rc;

  memset(s, 0, sizeof(*s));
  s->mw = mw;
  s->id = ((uint32_t)mw->index << 24) | (mw->next_id++ & 0xffffffu);
  if (r < cfg->weight_short) {
    s->kind = MIX_KIND_SHORT;
    s->count = 1;
    s->size = cfg->req_size;
  } else if (r < cfg->weight_short + cfg->weight_rr) {
    s->kind = MIX_KIND_RR;
    s->count = cfg->rr_count;
    s->size = cfg->req_size;
  } else {
    s->kind = MIX_KIND_BULK;
    s->count = 1;
    s->size = cfg->bulk_size;
  }
  s->out_hdr = 1;
  s->out_len = MIX_HDR_LEN + (uint64_t)s->size;
  /* an ephemeral port whose replies hash to this worker; the SYN leaves at
   * the end of this loop iteration */
  rc = inc_raw_tcp_connect(w, NULL, 0, &mw->server, cfg->port, &client_ops, s, &s->conn);
  if (rc == -ENOMEM) {
    /* the stack's pools are short (data in flight on a loaded machine): a
     * clean refusal, not a failed session; the slot starts again later */
    s->conn = NULL;
    add(&mw->c.connect_deferred, 1);
    return rc;
  }
  s->active = 1;
  add(&mw->c.started, 1);
  if (rc != 0) {
    s->conn = NULL;
    add(&mw->c.fail_connect, 1);
    atomic_store_explicit(&mw->c.last_fail_err, rc, memory_order_relaxed);
    sess_end(s, 0);
    return rc;
  }
  inc_raw_tcp_nodelay(s->conn, 1);
  return 0;
}

/* ---- server ---------------------------------------------------------------- */

static const struct inc_raw_tcp_ops server_ops;

static void sconn_free(struct sconn *c)
{
  struct mix_worker *mw = c->mw;
  c->conn = NULL;
  c->next_free = mw->free_conns;
  mw->free_conns = c;
}

static void server_close(struct sconn *c)
{
  inc_raw_tcp_close(c->conn); /* FIN after the queued responses */
  sconn_free(c);
}

static void server_send(struct sconn *c)
{
  struct mix_worker *mw = c->mw;
  while (c->resp_off < c->resp_len) {
    long room = inc_raw_tcp_sndbuf(c->conn), put;
    uint64_t left = c->resp_len - c->resp_off;
    uint32_t n, k;
    if (room <= 0) {
      break;
    }
    n = room < (long)SCRATCH ? (uint32_t)room : SCRATCH;
    if (n > left) {
      n = (uint32_t)left;
    }
    for (k = 0; k < n; k++) {
      mw->scratch[k] = mix_pat(c->in.id | MIX_RESP_TAG, c->resp_seq, c->resp_off + k);
    }
    put = inc_raw_tcp_write(c->conn, mw->scratch, n, 0);
    if (put <= 0) {
      break; /* -EAGAIN: sent/poll retries */
    }
    c->resp_off += (uint64_t)put;
    if ((uint32_t)put < n) {
      break;
    }
  }
  inc_raw_tcp_output(c->conn);
}

static void s_sent(void *arg, struct inc_raw_conn *c, uint32_t len)
{
  (void)c;
  (void)len;
  server_send((struct sconn *)arg);
}

static void s_poll(void *arg, struct inc_raw_conn *c)
{
  (void)c;
  server_send((struct sconn *)arg);
}

static void s_err(void *arg, struct inc_raw_conn *c, int err)
{
  (void)c;
  (void)err;
  sconn_free((struct sconn *)arg); /* the stack released it (a client that failed counts it) */
}

static int server_byte(struct sconn *c, uint8_t b)
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
    server_send(c);
  }
  return r < 0 ? -1 : 0;
}

static void s_recv(void *arg, struct inc_raw_conn *conn, struct inc_buf *b)
{
  struct sconn *c = (struct sconn *)arg;
  struct mix_worker *mw = c->mw;
  const struct inc_buf *q;
  size_t total;
  if (b == NULL) { /* the client's FIN: the session must be whole */
    if (mix_srv_in_whole(&c->in)) {
      add(&mw->c.srv_done, 1);
    } else if (!atomic_load_explicit(&mw->m->stopping, memory_order_relaxed)) {
      add(&mw->c.corrupt, 1);
    }
    server_close(c);
    return;
  }
  total = inc_buf_total(b);
  inc_raw_tcp_recved(conn, total);
  for (q = b; q != NULL; q = inc_buf_next(q)) {
    const uint8_t *d = (const uint8_t *)inc_buf_data(q);
    size_t i, len = inc_buf_len(q);
    for (i = 0; i < len; i++) {
      if (server_byte(c, d[i]) != 0) {
        add(&mw->c.corrupt, 1);
        inc_buf_free(b);
        inc_raw_tcp_abort(conn);
        sconn_free(c);
        return;
      }
    }
  }
  add(&mw->c.srv_bytes, total);
  inc_buf_free(b);
}

static int s_accept(void *arg, struct inc_raw_conn *listener, struct inc_raw_conn *conn)
{
  struct mix_worker *mw = (struct mix_worker *)arg;
  struct sconn *c = mw->free_conns;
  (void)listener;
  if (c == NULL) {
    return -ENOMEM; /* the stack resets it */
  }
  mw->free_conns = c->next_free;
  memset(c, 0, sizeof(*c));
  c->mw = mw;
  c->conn = conn;
  inc_raw_tcp_set(conn, &server_ops, c);
  inc_raw_tcp_nodelay(conn, 1);
  add(&mw->c.srv_accepted, 1);
  return 0;
}

static const struct inc_raw_tcp_ops server_ops = {
    .accept = s_accept,
    .recv = s_recv,
    .sent = s_sent,
    .error = s_err,
    .poll = s_poll,
};

/* ---- worker callbacks ------------------------------------------------------- */

static void on_start(struct inc_worker *w, void *arg)
{
  struct mix *m = (struct mix *)arg;
  struct mix_worker *mw = &m->w[inc_worker_index(w)];
  if (m->server) {
    /* every worker listens: the one that receives a SYN owns the connection */
    struct inc_addr any4 = inc_addr_ip4(0, 0, 0, 0);
    if (inc_raw_tcp_listen(w, &any4, m->cfg.port, 255, &server_ops, mw, &mw->listener) != 0) {
      mw->listener = NULL;
      add(&mw->c.corrupt, 1); /* reported: the server could not listen */
    }
  }
}

static int on_poll(struct inc_worker *w, void *arg)
{
  struct mix *m = (struct mix *)arg;
  struct mix_worker *mw = &m->w[inc_worker_index(w)];
  unsigned i, started = 0;
  if (m->server || atomic_load_explicit(&m->draining, memory_order_relaxed) ||
      atomic_load_explicit(&m->stopping, memory_order_relaxed)) {
    return 0;
  }
  for (i = 0; i < m->cfg.sessions_per_worker && started < 8; i++) {
    if (!mw->sess[i].active) {
      if (session_start(w, mw, &mw->sess[i]) == -ENOMEM) {
        break; /* no memory now: try again next iteration */
      }
      started++;
    }
  }
  return started != 0;
}

static void on_stop(struct inc_worker *w, void *arg)
{
  struct mix *m = (struct mix *)arg;
  struct mix_worker *mw = &m->w[inc_worker_index(w)];
  unsigned i;
  atomic_store(&m->stopping, 1);
  inc_worker_netif_counters(w, 0, &mw->link);
  if (mw->sess != NULL) {
    for (i = 0; i < m->cfg.sessions_per_worker; i++) {
      struct sess *s = &mw->sess[i];
      if (s->active && s->conn != NULL) {
        inc_raw_tcp_abort(s->conn);
        s->conn = NULL;
      }
      s->active = 0;
    }
  }
  if (mw->conns != NULL) {
    for (i = 0; i < SERVER_CONNS; i++) {
      if (mw->conns[i].conn != NULL) {
        inc_raw_tcp_abort(mw->conns[i].conn);
        mw->conns[i].conn = NULL;
      }
    }
  }
  /* the listener, and the raw API's state of this worker */
  inc_raw_worker_fini(w);
  mw->listener = NULL;
}

int mix_init(struct mix *m, const struct mix_config *cfg, unsigned workers, int server,
             struct inc_stack_callbacks *cb)
{
  unsigned i, j;
  memset(m, 0, sizeof(*m));
  m->cfg = *cfg;
  m->workers = workers;
  m->server = server;
  atomic_init(&m->draining, 0);
  atomic_init(&m->stopping, 0);
  if (posix_memalign((void **)&m->w, 64, workers * sizeof(*m->w)) != 0) {
    return -ENOMEM;
  }
  memset(m->w, 0, workers * sizeof(*m->w));
  for (i = 0; i < workers; i++) {
    struct mix_worker *mw = &m->w[i];
    mw->m = m;
    mw->index = i;
    mw->rng = (cfg->seed + 1) * 0x9e3779b97f4a7c15ULL + i;
    memset(&mw->server, 0, sizeof(mw->server));
    mw->server.family = INC_AF_INET;
    mw->server.u.v4 = cfg->server_ip4;
    if (server) {
      mw->conns = calloc(SERVER_CONNS, sizeof(*mw->conns));
      if (mw->conns == NULL) {
        mix_fini(m);
        return -ENOMEM;
      }
      for (j = SERVER_CONNS; j-- > 0;) {
        mw->conns[j].mw = mw;
        mw->conns[j].next_free = mw->free_conns;
        mw->free_conns = &mw->conns[j];
      }
    } else {
      mw->sess = calloc(cfg->sessions_per_worker ? cfg->sessions_per_worker : 1, sizeof(*mw->sess));
      if (mw->sess == NULL) {
        mix_fini(m);
        return -ENOMEM;
      }
    }
  }
  cb->worker_start = on_start;
  cb->worker_poll = on_poll;
  cb->worker_stop = on_stop;
  cb->arg = m;
  return 0;
}

void mix_fini(struct mix *m)
{
  unsigned i;
  if (m->w == NULL) {
    return;
  }
  for (i = 0; i < m->workers; i++) {
    free(m->w[i].sess);
    free(m->w[i].conns);
  }
  free(m->w);
  m->w = NULL;
}

const struct mix_counters *mix_counters_of(const struct mix *m, unsigned i)
{
  return &m->w[i].c;
}

const struct inc_netif_counters *mix_link_of(const struct mix *m, unsigned i)
{
  return &m->w[i].link;
}
