/*
 * Channel validators: the worker mesh (every worker sends numbered messages
 * to every other worker and checks what it receives) and the application
 * lanes (application threads send commands, workers complete them).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "inception/chan.h"
#include "lf_stress.h"
#include "lf_stress_priv.h"

static void *lf_alloc_aligned(size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, 64, n ? n : 64) != 0)
    return NULL;
  return p;
}

/* ---- worker mesh ---------------------------------------------------------- */

struct mesh_ctx {
  const struct lf_mesh_params *p;
  struct lf_mesh_result *r;
  struct inc_chan_mesh *m;
  pthread_barrier_t start;
};

struct mesh_worker {
  struct mesh_ctx *ctx;
  unsigned self;
  pthread_t tid;
};

/* A message's ptr carries seq + 1 (never NULL), arg carries the sender. */
static void *mesh_worker_main(void *arg) {
  struct mesh_worker *w = arg;
  struct mesh_ctx *ctx = w->ctx;
  const struct lf_mesh_params *p = ctx->p;
  struct lf_mesh_result *r = ctx->r;
  const unsigned nw = p->workers, self = w->self, M = p->msgs_per_pair;
  unsigned next_send[64] = {0}, next_recv[64] = {0};
  uint64_t seed = 0x9e3779b97f4a7c15ULL * (self + 1), received = 0, sent = 0;
  const uint64_t expect = (uint64_t)(nw - 1) * M;
  uint64_t ooo = 0, dup = 0, wsrc = 0, wtype = 0, refused = 0;
  struct inc_msg out[32], in[64];
  struct lf_watch watch;

  inc_chan_worker_bind(ctx->m, self);
  pthread_barrier_wait(&ctx->start);
  lf_watch_init(&watch, p->stall_ms);
  while (sent < expect || received < expect) {
    int progress = 0;
    for (unsigned dst = 0; dst < nw; dst++) {
      if (dst == self || next_send[dst] == M)
        continue;
      unsigned b = 1 + (unsigned)(lf_rand(&seed) % p->max_burst);
      if (b > M - next_send[dst])
        b = M - next_send[dst];
      int k;
      if (p->mix_single && (lf_rand(&seed) & 3) == 0) {
        struct inc_msg one = inc_msg_packet((void *)(uintptr_t)(next_send[dst] + 1), self);
        k = inc_chan_send(ctx->m, self, dst, &one) == 0 ? 1 : 0;
        b = 1;
      } else {
        for (unsigned i = 0; i < b; i++)
          out[i] = inc_msg_packet((void *)(uintptr_t)(next_send[dst] + i + 1), self);
        k = inc_chan_send_burst(ctx->m, self, dst, out, b);
      }
      if (k < 0) {
        lf_fail(&r->rc, k);
        return NULL;
      }
      refused += b - (unsigned)k;
      next_send[dst] += (unsigned)k;
      sent += (unsigned)k;
      progress |= k > 0;
    }
    int n;
    if (p->mix_single && (lf_rand(&seed) & 3) == 0) {
      unsigned src = (unsigned)(lf_rand(&seed) % nw);
      n = src == self ? 0 : inc_chan_recv(ctx->m, self, src, in);
    } else {
      n = inc_chan_poll(ctx->m, self, in, 64);
    }
    if (n < 0) {
      lf_fail(&r->rc, n);
      return NULL;
    }
    for (int i = 0; i < n; i++) {
      const unsigned src = in[i].src;
      const unsigned seq = (unsigned)((uintptr_t)in[i].ptr - 1);
      if (in[i].type != INC_MSG_PACKET)
        wtype++;
      if (src >= nw || src == self || in[i].arg != src) {
        wsrc++;
        continue;
      }
      if (seq < next_recv[src]) {
        dup++;
      } else if (seq > next_recv[src]) {
        ooo++;
        next_recv[src] = seq + 1;
      } else {
        next_recv[src]++;
      }
    }
    received += (unsigned)n;
    progress |= n > 0;
    if (lf_watch(&watch, progress)) {
      lf_fail(&r->rc, -ETIMEDOUT);
      break;
    }
  }
  uint64_t lost = 0;
  for (unsigned s = 0; s < nw; s++)
    if (s != self && next_recv[s] < M)
      lost += M - next_recv[s];
  lf_add(&r->sent, sent);
  lf_add(&r->received, received);
  lf_add(&r->out_of_order, ooo);
  lf_add(&r->duplicates, dup);
  lf_add(&r->lost, lost);
  lf_add(&r->wrong_src, wsrc);
  lf_add(&r->wrong_type, wtype);
  lf_add(&r->refused_seen, refused);
  return NULL;
}

int lf_stress_mesh(const struct lf_mesh_params *p, struct lf_mesh_result *r) {
  memset(r, 0, sizeof(*r));
  if (p->workers < 2 || p->workers > 64 || p->max_burst == 0 || p->max_burst > 32)
    return r->rc = -EINVAL;
  struct inc_chan_config cfg = {p->workers, p->ring_size, 0, 0};
  size_t len = inc_chan_mesh_footprint(&cfg);
  if (len == 0)
    return r->rc = -EINVAL;
  void *mem = lf_alloc_aligned(len);
  struct mesh_worker *w = calloc(p->workers, sizeof(*w));
  struct mesh_ctx ctx = {.p = p, .r = r};
  int rc = mem && w ? inc_chan_mesh_init(&ctx.m, mem, len, &cfg) : -ENOMEM;
  if (rc == 0) {
    pthread_barrier_init(&ctx.start, NULL, p->workers);
    for (unsigned i = 0; i < p->workers; i++) {
      w[i].ctx = &ctx;
      w[i].self = i;
      pthread_create(&w[i].tid, NULL, mesh_worker_main, &w[i]);
    }
    for (unsigned i = 0; i < p->workers; i++)
      pthread_join(w[i].tid, NULL);
    pthread_barrier_destroy(&ctx.start);
    for (unsigned s = 0; s < p->workers; s++)
      for (unsigned d = 0; d < p->workers; d++) {
        struct inc_chan_stats st;
        if (s == d || inc_chan_link_stats(ctx.m, s, d, &st) != 0)
          continue;
        r->stats_sent += st.sent;
        r->stats_received += st.received;
        r->stats_refused += st.refused;
        r->stats_full_events += st.full_events;
      }
  } else {
    r->rc = rc;
  }
  free(w);
  free(mem);
  return r->rc;
}

/* ---- application lanes ---------------------------------------------------- */

struct lf_cmd {
  unsigned app, seq, worker;
  unsigned completed; /* written by the app only */
};

#define LF_STATUS(seq) ((int32_t)((seq) ^ 0x5a5au))

struct lanes_ctx {
  const struct lf_lanes_params *p;
  struct lf_lanes_result *r;
  struct inc_chan_mesh *m;
  struct lf_cmd *cmds; /* apps * cmds_per_app */
  pthread_barrier_t start;
};

struct lanes_thread {
  struct lanes_ctx *ctx;
  unsigned index;
  pthread_t tid;
};

/* Commands of app e for worker w: seq = w, w + W, w + 2W, ... */
static unsigned lanes_count_for(const struct lf_lanes_params *p, unsigned w) {
  return p->cmds_per_app > w ? (p->cmds_per_app - w + p->workers - 1) / p->workers : 0;
}

static void *lanes_worker_main(void *arg) {
  struct lanes_thread *t = arg;
  struct lanes_ctx *ctx = t->ctx;
  const struct lf_lanes_params *p = ctx->p;
  struct lf_lanes_result *r = ctx->r;
  const unsigned self = t->index;
  const uint64_t expect = (uint64_t)p->apps * lanes_count_for(p, self);
  unsigned *next_seq = calloc(p->apps, sizeof(unsigned));
  /* Completions not yet accepted by a full completion ring, per app. */
  struct inc_msg *pend = calloc((size_t)p->apps * (p->cmds_per_app + 1), sizeof(struct inc_msg));
  unsigned *pend_head = calloc(p->apps, sizeof(unsigned));
  unsigned *pend_tail = calloc(p->apps, sizeof(unsigned));
  uint64_t seen = 0, completed = 0, ooo = 0, wsrc = 0;
  struct inc_msg in[64];
  struct lf_watch watch;

  if (!next_seq || !pend || !pend_head || !pend_tail) {
    lf_fail(&r->rc, -ENOMEM);
    goto out;
  }
  for (unsigned e = 0; e < p->apps; e++)
    next_seq[e] = self;
  inc_chan_worker_bind(ctx->m, self);
  pthread_barrier_wait(&ctx->start);
  lf_watch_init(&watch, p->stall_ms);
  while (seen < expect || completed < expect) {
    int progress = 0;
    int n = inc_chan_poll(ctx->m, self, in, 64);
    for (int i = 0; i < n; i++) {
      struct lf_cmd *c = in[i].ptr;
      const unsigned e = in[i].src & ~INC_CHAN_SRC_APP;
      if (!(in[i].src & INC_CHAN_SRC_APP) || e >= p->apps || c->app != e ||
          in[i].type != INC_MSG_COMMAND) {
        wsrc++;
        continue;
      }
      if (c->seq != next_seq[e])
        ooo++;
      next_seq[e] = c->seq + p->workers;
      struct inc_msg *slot = &pend[(size_t)e * (p->cmds_per_app + 1) + pend_tail[e]++];
      *slot = inc_msg_completion(c, LF_STATUS(c->seq));
    }
    seen += n > 0 ? (unsigned)n : 0;
    progress |= n > 0;
    for (unsigned e = 0; e < p->apps; e++) {
      unsigned avail = pend_tail[e] - pend_head[e];
      if (avail == 0)
        continue;
      unsigned b = avail < p->max_burst ? avail : p->max_burst;
      int k = inc_chan_complete_burst(ctx->m, self, e,
                                      &pend[(size_t)e * (p->cmds_per_app + 1) + pend_head[e]], b);
      if (k > 0) {
        pend_head[e] += (unsigned)k;
        completed += (unsigned)k;
        progress = 1;
      }
    }
    if (lf_watch(&watch, progress)) {
      lf_fail(&r->rc, -ETIMEDOUT);
      break;
    }
  }
out:
  lf_add(&r->cmds_seen, seen);
  lf_add(&r->out_of_order, ooo);
  lf_add(&r->wrong_src, wsrc);
  free(next_seq);
  free(pend);
  free(pend_head);
  free(pend_tail);
  return NULL;
}

static void *lanes_app_main(void *arg) {
  struct lanes_thread *t = arg;
  struct lanes_ctx *ctx = t->ctx;
  const struct lf_lanes_params *p = ctx->p;
  struct lf_lanes_result *r = ctx->r;
  struct lf_cmd *cmds = &ctx->cmds[(size_t)t->index * p->cmds_per_app];
  struct inc_chan_app *app;
  unsigned next_cpl[64]; /* per worker: next seq expected back */
  unsigned next_k[64] = {0}; /* per worker: commands sent to it */
  unsigned sent = 0, done = 0;
  uint64_t dup = 0, wstatus = 0, cooo = 0, waits = 0, timeouts = 0;
  struct inc_msg out[32], in[64];
  struct lf_watch watch;

  for (unsigned w = 0; w < p->workers; w++)
    next_cpl[w] = w;
  /* Attach before the start: an app that finished early and detached must
   * not hand its endpoint (and the workers' sequence for it) to a late one. */
  int rc = inc_chan_app_attach(ctx->m, &app);
  pthread_barrier_wait(&ctx->start);
  if (rc != 0) {
    lf_fail(&r->rc, rc);
    return NULL;
  }
  /* Endpoints are claimed in any order: the lanes carry the endpoint index. */
  const unsigned me = inc_chan_app_index(app);
  lf_watch_init(&watch, p->stall_ms);
  uint64_t seed = 0xdeadbeefULL + t->index;
  while (done < p->cmds_per_app) {
    int progress = 0;
    /* Worker w gets seqs w, w + W, w + 2W, ... in that order (its lane is
     * FIFO), in bursts of 1..max_burst. */
    for (unsigned w = 0; w < p->workers; w++) {
      const unsigned total = lanes_count_for(p, w);
      if (next_k[w] == total)
        continue;
      unsigned b = 1 + (unsigned)(lf_rand(&seed) % p->max_burst);
      if (b > total - next_k[w])
        b = total - next_k[w];
      for (unsigned i = 0; i < b; i++) {
        const unsigned s = w + (next_k[w] + i) * p->workers;
        cmds[s].app = me;
        cmds[s].seq = s;
        cmds[s].worker = w;
        cmds[s].completed = 0;
        out[i] = inc_msg_command(7, &cmds[s]);
      }
      int k = inc_chan_app_send_burst(app, w, out, b);
      if (k > 0) {
        next_k[w] += (unsigned)k;
        sent += (unsigned)k;
        progress = 1;
      }
    }
    int n = inc_chan_app_recv_burst(app, in, 64);
    for (int i = 0; i < n; i++) {
      struct lf_cmd *c = in[i].ptr;
      if (in[i].type != INC_MSG_COMPLETION || c->app != me) {
        wstatus++;
        continue;
      }
      if ((int32_t)in[i].arg != LF_STATUS(c->seq))
        wstatus++;
      if (c->completed++ != 0)
        dup++;
      if (in[i].src != c->worker || c->seq != next_cpl[c->worker])
        cooo++;
      next_cpl[c->worker] = c->seq + p->workers;
      done++;
    }
    progress |= n > 0;
    if (!progress && p->sleep && inc_chan_app_in_flight(app) != 0) {
      waits++;
      int wr = inc_chan_app_wait(app, (int)(p->stall_ms ? p->stall_ms : 60000));
      if (wr == -ETIMEDOUT) {
        timeouts++;
        lf_fail(&r->rc, -ETIMEDOUT);
        break;
      }
      continue;
    }
    if (lf_watch(&watch, progress)) {
      lf_fail(&r->rc, -ETIMEDOUT);
      break;
    }
  }
  uint64_t missing = 0;
  for (unsigned s = 0; s < p->cmds_per_app; s++)
    missing += cmds[s].completed == 0;
  if (inc_chan_app_detach(app) != 0)
    lf_add(&r->detach_failures, 1);
  lf_add(&r->cmds_sent, sent);
  lf_add(&r->completions, done);
  lf_add(&r->dup_completion, dup);
  lf_add(&r->missing, missing);
  lf_add(&r->wrong_status, wstatus);
  lf_add(&r->cpl_out_of_order, cooo);
  lf_add(&r->waits, waits);
  lf_add(&r->wait_timeouts, timeouts);
  return NULL;
}

int lf_stress_lanes(const struct lf_lanes_params *p, struct lf_lanes_result *r) {
  memset(r, 0, sizeof(*r));
  if (p->workers == 0 || p->workers > 64 || p->apps == 0 || p->max_burst == 0 ||
      p->max_burst > 32)
    return r->rc = -EINVAL;
  struct inc_chan_config cfg = {p->workers, 0, p->apps, p->lane_size};
  size_t len = inc_chan_mesh_footprint(&cfg);
  if (len == 0)
    return r->rc = -EINVAL;
  void *mem = lf_alloc_aligned(len);
  struct lanes_ctx ctx = {.p = p, .r = r};
  ctx.cmds = calloc((size_t)p->apps * p->cmds_per_app + 1, sizeof(struct lf_cmd));
  struct lanes_thread *th = calloc(p->workers + p->apps, sizeof(*th));
  int rc = mem && ctx.cmds && th ? inc_chan_mesh_init(&ctx.m, mem, len, &cfg) : -ENOMEM;
  if (rc == 0) {
    pthread_barrier_init(&ctx.start, NULL, p->workers + p->apps);
    for (unsigned i = 0; i < p->workers + p->apps; i++) {
      th[i].ctx = &ctx;
      th[i].index = i < p->workers ? i : i - p->workers;
      pthread_create(&th[i].tid, NULL, i < p->workers ? lanes_worker_main : lanes_app_main,
                     &th[i]);
    }
    for (unsigned i = 0; i < p->workers + p->apps; i++)
      pthread_join(th[i].tid, NULL);
    pthread_barrier_destroy(&ctx.start);
  } else {
    r->rc = rc;
  }
  free(th);
  free(ctx.cmds);
  free(mem);
  return r->rc;
}
