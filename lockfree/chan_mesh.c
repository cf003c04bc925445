/*
 * Channel mesh: layout in caller memory, worker-to-worker links, the worker's
 * poll over all its inbound rings, and link statistics. The application side
 * (lanes, completions, eventfd) is in chan_app.c.
 */
#include <errno.h>
#include <string.h>

#include "chan_priv.h"

/* Byte offsets of each part of the mesh memory (see chan_priv.h). */
struct inc__mesh_layout {
  unsigned workers, apps, ring_size, app_ring_size;
  size_t n_w2w, n_lanes; /* rings of each kind (a2w and w2a have n_lanes each) */
  size_t off_w2w, off_a2w, off_w2a, off_cores, off_apps, off_slots, off_app_slots, total;
};

static int inc__mul_add(size_t *acc, size_t a, size_t b) {
  size_t p;
  if (__builtin_mul_overflow(a, b, &p) || __builtin_add_overflow(*acc, p, acc))
    return -EOVERFLOW;
  return 0;
}

static int inc__ring_size_ok(unsigned size) {
  return inc__is_pow2(size) && size >= 2 && size <= INC_CHAN_RING_SIZE_MAX;
}

static int inc__mesh_layout(const struct inc_chan_config *cfg, struct inc__mesh_layout *l) {
  if (cfg == NULL || cfg->workers == 0 || cfg->workers > INC_LF_MAX_WORKERS ||
      cfg->app_endpoints > INC_CHAN_MAX_APPS)
    return -EINVAL;
  l->workers = cfg->workers;
  l->apps = cfg->app_endpoints;
  l->ring_size = cfg->ring_size ? cfg->ring_size : INC_CHAN_RING_SIZE_DEFAULT;
  l->app_ring_size = cfg->app_ring_size ? cfg->app_ring_size : INC_CHAN_APP_RING_SIZE_DEFAULT;
  if (!inc__ring_size_ok(l->ring_size) || !inc__ring_size_ok(l->app_ring_size))
    return -EINVAL;
  l->n_w2w = (size_t)l->workers * (l->workers - 1);
  l->n_lanes = (size_t)l->workers * l->apps;

  size_t off = inc__align_up(sizeof(struct inc_chan_mesh), INC_LF_CACHELINE);
  l->off_w2w = off;
  if (inc__mul_add(&off, l->n_w2w, sizeof(struct inc__ring)))
    return -EINVAL;
  l->off_a2w = off;
  if (inc__mul_add(&off, l->n_lanes, sizeof(struct inc__ring)))
    return -EINVAL;
  l->off_w2a = off;
  if (inc__mul_add(&off, l->n_lanes, sizeof(struct inc__ring)))
    return -EINVAL;
  l->off_cores = off;
  if (inc__mul_add(&off, l->workers, sizeof(struct inc__core)))
    return -EINVAL;
  l->off_apps = off;
  if (inc__mul_add(&off, l->apps, sizeof(struct inc__app)))
    return -EINVAL;
  /* Slot arrays: each ring's starts on a cache line. */
  const size_t w2w_bytes = inc__align_up((size_t)l->ring_size * sizeof(struct inc_msg),
                                         INC_LF_CACHELINE);
  const size_t lane_bytes = inc__align_up((size_t)l->app_ring_size * sizeof(struct inc_msg),
                                          INC_LF_CACHELINE);
  l->off_slots = off;
  if (inc__mul_add(&off, l->n_w2w, w2w_bytes))
    return -EINVAL;
  l->off_app_slots = off;
  if (inc__mul_add(&off, 2 * l->n_lanes, lane_bytes))
    return -EINVAL;
  l->total = off;
  return 0;
}

size_t inc_chan_mesh_footprint(const struct inc_chan_config *cfg) {
  struct inc__mesh_layout l;
  return inc__mesh_layout(cfg, &l) == 0 ? l.total : 0;
}

int inc_chan_mesh_init(struct inc_chan_mesh **out, void *mem, size_t len,
                       const struct inc_chan_config *cfg) {
  struct inc__mesh_layout l;
  int rc;

  if (out == NULL || mem == NULL || ((uintptr_t)mem & (INC_LF_CACHELINE - 1)) != 0)
    return -EINVAL;
  rc = inc__mesh_layout(cfg, &l);
  if (rc != 0)
    return rc;
  if (len < l.total)
    return -ENOSPC;

  char *base = mem;
  struct inc_chan_mesh *m = mem;
  memset(m, 0, sizeof(*m));
  m->workers = l.workers;
  m->apps = l.apps;
  m->ring_size = l.ring_size;
  m->app_ring_size = l.app_ring_size;
  m->w2w = (struct inc__ring *)(base + l.off_w2w);
  m->a2w = (struct inc__ring *)(base + l.off_a2w);
  m->w2a = (struct inc__ring *)(base + l.off_w2a);
  m->cores = (struct inc__core *)(base + l.off_cores);
  m->app = (struct inc__app *)(base + l.off_apps);

  const size_t w2w_bytes = inc__align_up((size_t)l.ring_size * sizeof(struct inc_msg),
                                         INC_LF_CACHELINE);
  const size_t lane_bytes = inc__align_up((size_t)l.app_ring_size * sizeof(struct inc_msg),
                                          INC_LF_CACHELINE);
  for (size_t i = 0; i < l.n_w2w; i++)
    inc__ring_init(&m->w2w[i], (struct inc_msg *)(base + l.off_slots + i * w2w_bytes),
                   l.ring_size);
  for (size_t i = 0; i < l.n_lanes; i++) {
    inc__ring_init(&m->a2w[i], (struct inc_msg *)(base + l.off_app_slots + i * lane_bytes),
                   l.app_ring_size);
    inc__ring_init(&m->w2a[i],
                   (struct inc_msg *)(base + l.off_app_slots + (l.n_lanes + i) * lane_bytes),
                   l.app_ring_size);
  }
  memset(m->cores, 0, l.workers * sizeof(struct inc__core));
  memset(m->app, 0, l.apps * sizeof(struct inc__app));
  for (unsigned e = 0; e < l.apps; e++) {
    m->app[e].index = e;
    m->app[e].efd = -1;
    m->app[e].mesh = m;
  }
  *out = m;
  return 0;
}

unsigned inc_chan_workers(const struct inc_chan_mesh *m) { return m->workers; }

unsigned inc_chan_app_endpoints(const struct inc_chan_mesh *m) { return m->apps; }

int inc_chan_worker_bind(struct inc_chan_mesh *m, unsigned self) {
  if (self >= m->workers)
    return -EINVAL;
  inc__owner_bind(&m->cores[self].owner);
  return 0;
}

static inline int inc__pair_ok(const struct inc_chan_mesh *m, unsigned a, unsigned b) {
  return a < m->workers && b < m->workers && a != b;
}

int inc_chan_send_burst(struct inc_chan_mesh *m, unsigned self, unsigned dst,
                        const struct inc_msg *msgs, unsigned n) {
  if (INC_LF_UNLIKELY(!inc__pair_ok(m, self, dst)))
    return -EINVAL;
  INC_LF_ASSERT_OWNER(&m->cores[self].owner, "inc_chan_send_burst");
  return (int)inc__ring_put(inc__w2w(m, self, dst), msgs, n, (uint16_t)self);
}

int inc_chan_send(struct inc_chan_mesh *m, unsigned self, unsigned dst,
                  const struct inc_msg *msg) {
  if (INC_LF_UNLIKELY(!inc__pair_ok(m, self, dst)))
    return -EINVAL;
  INC_LF_ASSERT_OWNER(&m->cores[self].owner, "inc_chan_send");
  return inc__ring_put1(inc__w2w(m, self, dst), msg, (uint16_t)self);
}

int inc_chan_recv_burst(struct inc_chan_mesh *m, unsigned self, unsigned src,
                        struct inc_msg *out, unsigned n) {
  if (INC_LF_UNLIKELY(!inc__pair_ok(m, self, src)))
    return -EINVAL;
  INC_LF_ASSERT_OWNER(&m->cores[self].owner, "inc_chan_recv_burst");
  return (int)inc__ring_get(inc__w2w(m, src, self), out, n);
}

int inc_chan_recv(struct inc_chan_mesh *m, unsigned self, unsigned src, struct inc_msg *out) {
  if (INC_LF_UNLIKELY(!inc__pair_ok(m, self, src)))
    return -EINVAL;
  INC_LF_ASSERT_OWNER(&m->cores[self].owner, "inc_chan_recv");
  return (int)inc__ring_get(inc__w2w(m, src, self), out, 1);
}

int inc_chan_poll(struct inc_chan_mesh *m, unsigned self, struct inc_msg *out, unsigned n) {
  if (INC_LF_UNLIKELY(self >= m->workers))
    return -EINVAL;
  struct inc__core *core = &m->cores[self];
  INC_LF_ASSERT_OWNER(&core->owner, "inc_chan_poll");

  const unsigned peers = m->workers - 1;
  /* Acquire pairs with the release in inc_chan_app_attach that raises the
   * mark after the endpoint's lanes are ready. */
  const unsigned lanes = __atomic_load_n(&m->apps_hwm, __ATOMIC_ACQUIRE);
  const unsigned nsrc = peers + lanes;
  if (nsrc == 0 || n == 0)
    return 0;

  unsigned start = core->rr < nsrc ? core->rr : 0;
  core->rr = start + 1 < nsrc ? start + 1 : 0;

  unsigned got = 0;
  for (unsigned i = 0; i < nsrc && got < n; i++) {
    unsigned s = start + i;
    if (s >= nsrc)
      s -= nsrc;
    struct inc__ring *r;
    if (s < peers)
      r = inc__w2w(m, s < self ? s : s + 1, self);
    else
      r = inc__a2w(m, s - peers, self);
    got += inc__ring_get(r, out + got, n - got);
  }
  return (int)got;
}

int inc_chan_link_stats(const struct inc_chan_mesh *m, unsigned src, unsigned dst,
                        struct inc_chan_stats *out) {
  if (out == NULL || !inc__pair_ok(m, src, dst))
    return -EINVAL;
  inc__ring_stats(inc__w2w(m, src, dst), out);
  return 0;
}

int inc_chan_lane_stats(const struct inc_chan_mesh *m, unsigned e, unsigned w,
                        struct inc_chan_stats *to_worker, struct inc_chan_stats *to_app) {
  if (e >= m->apps || w >= m->workers)
    return -EINVAL;
  if (to_worker != NULL)
    inc__ring_stats(inc__a2w(m, e, w), to_worker);
  if (to_app != NULL)
    inc__ring_stats(inc__w2a(m, w, e), to_app);
  return 0;
}
