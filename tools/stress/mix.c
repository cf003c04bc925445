/* The stress harness's workload: see mix.h. */
#include "mix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/tcp.h"
#include "stack_priv.h" /* inc__tcp_connect, inc__flow_track_listener: the raw level until the public API */

#define MIX_MAGIC 0x58434e49u /* "INCX" */
#define HDR_LEN 20u
#define SCRATCH 16384u
#define SERVER_CONNS 4096u
#define RESP_TAG 0x80000000u

enum { KIND_SHORT = 1, KIND_RR = 2, KIND_BULK = 3 };

struct sess { /* a client session */
  struct tcp_pcb *pcb;
  struct mix_worker *mw;
  int active;
  uint32_t kind, id, count, size, seq;
  uint64_t out_off, out_len; /* the unit being sent: header + request, a request, or header + bulk */
  int out_hdr;               /* the unit starts with the header */
  uint64_t in_off;           /* bytes of the current response received */
  uint64_t t0;
};

struct sconn { /* a server connection */
  struct tcp_pcb *pcb;
  struct mix_worker *mw;
  struct sconn *next_free;
  uint8_t h[HDR_LEN];
  uint32_t hoff, kind, id, count, size, seq;
  uint64_t in_off;
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
  struct tcp_pcb *listener;
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
static uint8_t pat(uint32_t id, uint32_t seq, uint64_t i)
{
  uint64_t x = (((uint64_t)id << 32) | seq) + (i >> 3) * 0x9e3779b97f4a7c15ULL;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return (uint8_t)(x >> ((i & 7) * 8));
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
  if (s->pcb != NULL) {
    tcp_arg(s->pcb, NULL);
    tcp_recv(s->pcb, NULL);
    tcp_sent(s->pcb, NULL);
    tcp_err(s->pcb, NULL);
    tcp_poll(s->pcb, NULL, 0);
    if (tcp_close(s->pcb) != ERR_OK) {
      tcp_abort(s->pcb);
    }
    s->pcb = NULL;
  }
  s->active = 0;
  add(ok ? &mw->c.done : &mw->c.failed, 1);
}

static void fill_out(struct sess *s, uint8_t *dst, uint64_t off, uint32_t n)
{
  uint32_t k;
  for (k = 0; k < n; k++, off++) {
    if (s->out_hdr && off < HDR_LEN) {
      uint32_t h[5] = {MIX_MAGIC, s->kind, s->id, s->count, s->size};
      dst[k] = ((const uint8_t *)h)[off];
    } else {
      dst[k] = pat(s->id, s->seq, off - (s->out_hdr ? HDR_LEN : 0));
    }
  }
}

static void client_send(struct sess *s)
{
  struct mix_worker *mw = s->mw;
  while (s->out_off < s->out_len) {
    uint64_t left = s->out_len - s->out_off;
    uint32_t n = tcp_sndbuf(s->pcb);
    err_t err;
    if (n > left) {
      n = (uint32_t)left;
    }
    if (n > SCRATCH) {
      n = SCRATCH;
    }
    if (n == 0 || tcp_sndqueuelen(s->pcb) + 4 >= TCP_SND_QUEUELEN) {
      break;
    }
    fill_out(s, mw->scratch, s->out_off, n);
    err = tcp_write(s->pcb, mw->scratch, (u16_t)n, TCP_WRITE_FLAG_COPY | (n < left ? TCP_WRITE_FLAG_MORE : 0));
    if (err == ERR_MEM) {
      break; /* the sent or poll callback retries */
    }
    if (err != ERR_OK) {
      sess_end(s, 0);
      return;
    }
    s->out_off += n;
  }
  tcp_output(s->pcb);
  if (s->kind == KIND_BULK && s->out_off == s->out_len) {
    add(&mw->c.bytes, s->size);
    sess_end(s, 1); /* the server verifies the whole stream at our FIN */
  }
}

static err_t c_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
  (void)pcb;
  (void)len;
  if (arg != NULL) {
    client_send((struct sess *)arg);
  }
  return ERR_OK;
}

static err_t c_poll(void *arg, struct tcp_pcb *pcb)
{
  return c_sent(arg, pcb, 0);
}

static void c_err(void *arg, err_t err)
{
  struct sess *s = (struct sess *)arg;
  (void)err;
  if (s == NULL) {
    return;
  }
  s->pcb = NULL; /* lwIP freed it */
  if (atomic_load_explicit(&s->mw->m->stopping, memory_order_relaxed)) {
    s->active = 0;
    return;
  }
  add(&s->mw->c.fail_reset, 1);
  sess_end(s, 0);
}

static err_t c_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct sess *s = (struct sess *)arg;
  struct mix_worker *mw;
  const struct pbuf *q;
  (void)err;
  if (s == NULL) {
    if (p != NULL) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  mw = s->mw;
  if (p == NULL) { /* the server closed before we were done */
    if (atomic_load_explicit(&mw->m->stopping, memory_order_relaxed)) {
      s->active = 0; /* cut short by the end of the run: not a failure */
      return ERR_OK;
    }
    add(&mw->c.fail_closed, 1);
    sess_end(s, 0);
    return ERR_OK;
  }
  for (q = p; q != NULL; q = q->next) {
    const uint8_t *b = (const uint8_t *)q->payload;
    u16_t i;
    for (i = 0; i < q->len; i++) {
      if (s->kind == KIND_BULK || s->seq >= s->count || b[i] != pat(s->id | RESP_TAG, s->seq, s->in_off)) {
        add(&mw->c.corrupt, 1);
        tcp_recved(pcb, p->tot_len);
        pbuf_free(p);
        tcp_arg(pcb, NULL);
        tcp_abort(pcb);
        s->pcb = NULL;
        sess_end(s, 0);
        return ERR_ABRT;
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
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
            return ERR_OK;
          }
        }
      }
    }
  }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  if (s->seq == s->count && s->active) {
    sess_end(s, 1);
  }
  return ERR_OK;
}

static err_t c_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct sess *s = (struct sess *)arg;
  (void)pcb;
  if (err != ERR_OK) {
    add(&s->mw->c.fail_connect, 1);
    sess_end(s, 0);
    return err;
  }
  s->t0 = now_ns();
  client_send(s);
  return ERR_OK;
}

static uint64_t rnd(struct mix_worker *mw)
{
  mw->rng ^= mw->rng << 13; /* xorshift64 */
  mw->rng ^= mw->rng >> 7;
  mw->rng ^= mw->rng << 17;
  return mw->rng;
}

static int session_start(struct mix_worker *mw, struct sess *s)
{
  const struct mix_config *cfg = &mw->m->cfg;
  unsigned total = cfg->weight_short + cfg->weight_rr + cfg->weight_bulk;
  unsigned r = (unsigned)(rnd(mw) % (total ? total : 1));
  ip_addr_t server;
  int rc;

  memset(s, 0, sizeof(*s));
  s->mw = mw;
  s->id = ((uint32_t)mw->index << 24) | (mw->next_id++ & 0xffffffu);
  if (r < cfg->weight_short) {
    s->kind = KIND_SHORT;
    s->count = 1;
    s->size = cfg->req_size;
  } else if (r < cfg->weight_short + cfg->weight_rr) {
    s->kind = KIND_RR;
    s->count = cfg->rr_count;
    s->size = cfg->req_size;
  } else {
    s->kind = KIND_BULK;
    s->count = 1;
    s->size = cfg->bulk_size;
  }
  s->out_hdr = 1;
  s->out_len = HDR_LEN + (uint64_t)s->size;
  s->pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (s->pcb == NULL) {
    return -ENOMEM;
  }
  s->active = 1;
  add(&mw->c.started, 1);
  tcp_arg(s->pcb, s);
  tcp_recv(s->pcb, c_recv);
  tcp_sent(s->pcb, c_sent);
  tcp_err(s->pcb, c_err);
  tcp_poll(s->pcb, c_poll, 1);
  tcp_nagle_disable(s->pcb);
  ip_addr_set_ip4_u32_val(server, cfg->server_ip4);
  rc = inc__tcp_connect(inc_worker_self(), s->pcb, &server, cfg->port, c_connected);
  if (rc != 0) {
    add(&mw->c.fail_connect, 1);
    sess_end(s, 0);
  }
  return rc;
}

/* ---- server ---------------------------------------------------------------- */

static void sconn_free(struct sconn *c)
{
  struct mix_worker *mw = c->mw;
  c->pcb = NULL;
  c->next_free = mw->free_conns;
  mw->free_conns = c;
}

static void server_close(struct sconn *c)
{
  tcp_arg(c->pcb, NULL);
  tcp_recv(c->pcb, NULL);
  tcp_sent(c->pcb, NULL);
  tcp_err(c->pcb, NULL);
  tcp_poll(c->pcb, NULL, 0);
  if (tcp_close(c->pcb) != ERR_OK) {
    tcp_abort(c->pcb);
  }
  sconn_free(c);
}

static void server_send(struct sconn *c)
{
  struct mix_worker *mw = c->mw;
  while (c->resp_off < c->resp_len) {
    uint32_t n = tcp_sndbuf(c->pcb), k;
    uint64_t left = c->resp_len - c->resp_off;
    err_t err;
    if (n > left) {
      n = (uint32_t)left;
    }
    if (n > SCRATCH) {
      n = SCRATCH;
    }
    if (n == 0) {
      break;
    }
    for (k = 0; k < n; k++) {
      mw->scratch[k] = pat(c->id | RESP_TAG, c->resp_seq, c->resp_off + k);
    }
    err = tcp_write(c->pcb, mw->scratch, (u16_t)n, TCP_WRITE_FLAG_COPY);
    if (err != ERR_OK) {
      break; /* ERR_MEM: sent/poll retries */
    }
    c->resp_off += n;
  }
  tcp_output(c->pcb);
}

static err_t s_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
  (void)pcb;
  (void)len;
  if (arg != NULL) {
    server_send((struct sconn *)arg);
  }
  return ERR_OK;
}

static err_t s_poll(void *arg, struct tcp_pcb *pcb)
{
  return s_sent(arg, pcb, 0);
}

static void s_err(void *arg, err_t err)
{
  struct sconn *c = (struct sconn *)arg;
  (void)err;
  if (c != NULL) {
    sconn_free(c); /* lwIP freed the pcb (a client that failed counts it) */
  }
}

static int server_byte(struct sconn *c, uint8_t b)
{
  if (c->hoff < HDR_LEN) {
    c->h[c->hoff++] = b;
    if (c->hoff == HDR_LEN) {
      uint32_t h[5];
      memcpy(h, c->h, HDR_LEN);
      if (h[0] != MIX_MAGIC || h[1] < KIND_SHORT || h[1] > KIND_BULK || h[3] == 0 || h[4] == 0) {
        return -1;
      }
      c->kind = h[1];
      c->id = h[2];
      c->count = h[3];
      c->size = h[4];
    }
    return 0;
  }
  if (c->seq >= c->count || b != pat(c->id, c->seq, c->in_off)) {
    return -1;
  }
  if (++c->in_off == c->size) {
    if (c->kind != KIND_BULK) { /* answer the request */
      if (c->resp_off < c->resp_len) {
        return -1; /* a client never has two requests out */
      }
      c->resp_seq = c->seq;
      c->resp_off = 0;
      c->resp_len = c->size;
      server_send(c);
    }
    c->seq++;
    c->in_off = 0;
  }
  return 0;
}

static err_t s_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct sconn *c = (struct sconn *)arg;
  struct mix_worker *mw;
  const struct pbuf *q;
  (void)err;
  if (c == NULL) {
    if (p != NULL) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  mw = c->mw;
  if (p == NULL) { /* the client's FIN: the session must be whole */
    if (c->hoff == HDR_LEN && c->seq == c->count && c->in_off == 0) {
      add(&mw->c.srv_done, 1);
    } else if (!atomic_load_explicit(&mw->m->stopping, memory_order_relaxed)) {
      add(&mw->c.corrupt, 1);
    }
    server_close(c);
    return ERR_OK;
  }
  for (q = p; q != NULL; q = q->next) {
    const uint8_t *b = (const uint8_t *)q->payload;
    u16_t i;
    for (i = 0; i < q->len; i++) {
      if (server_byte(c, b[i]) != 0) {
        add(&mw->c.corrupt, 1);
        tcp_recved(pcb, p->tot_len);
        pbuf_free(p);
        tcp_arg(pcb, NULL);
        tcp_abort(pcb);
        sconn_free(c);
        return ERR_ABRT;
      }
    }
  }
  add(&mw->c.srv_bytes, p->tot_len);
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static err_t s_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct mix_worker *mw = (struct mix_worker *)arg;
  struct sconn *c = mw->free_conns;
  if (err != ERR_OK || pcb == NULL) {
    return ERR_VAL;
  }
  if (c == NULL) {
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  mw->free_conns = c->next_free;
  memset(c, 0, sizeof(*c));
  c->mw = mw;
  c->pcb = pcb;
  tcp_arg(pcb, c);
  tcp_recv(pcb, s_recv);
  tcp_sent(pcb, s_sent);
  tcp_err(pcb, s_err);
  tcp_poll(pcb, s_poll, 1);
  tcp_nagle_disable(pcb);
  add(&mw->c.srv_accepted, 1);
  return ERR_OK;
}

/* ---- worker callbacks ------------------------------------------------------- */

static void on_start(struct inc_worker *w, void *arg)
{
  struct mix *m = (struct mix *)arg;
  struct mix_worker *mw = &m->w[inc_worker_index(w)];
  if (m->server) {
    struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (l != NULL && tcp_bind(l, IP4_ADDR_ANY, m->cfg.port) == ERR_OK) {
      inc__flow_track_listener(w, l);
      mw->listener = tcp_listen_with_backlog(l, 255);
      if (mw->listener != NULL) {
        tcp_arg(mw->listener, mw);
        tcp_accept(mw->listener, s_accept);
      }
    }
    if (mw->listener == NULL) {
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
      session_start(mw, &mw->sess[i]);
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
  if (mw->sess != NULL) {
    for (i = 0; i < m->cfg.sessions_per_worker; i++) {
      struct sess *s = &mw->sess[i];
      if (s->active && s->pcb != NULL) {
        tcp_arg(s->pcb, NULL);
        tcp_abort(s->pcb);
        s->pcb = NULL;
      }
      s->active = 0;
    }
  }
  if (mw->conns != NULL) {
    for (i = 0; i < SERVER_CONNS; i++) {
      if (mw->conns[i].pcb != NULL) {
        tcp_arg(mw->conns[i].pcb, NULL);
        tcp_abort(mw->conns[i].pcb);
        mw->conns[i].pcb = NULL;
      }
    }
  }
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
