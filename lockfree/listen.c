/*
 * Listener registry (see include/inception/listen.h).
 *
 * Layout (caller memory, 64-byte aligned):
 *   struct inc_listen_registry | refs[2][65536] (uint16) | replica[cores][2][1024] (uint64)
 * refs is the control plane's truth (written under the mutex); each replica
 * is a bitmap a core reads without any lock. A bit is set in every replica
 * when a port's count goes 0 -> 1 and cleared when it goes 1 -> 0, before the
 * call returns.
 */
#include <errno.h>
#include <string.h>

#include "inception/listen.h"
#include "lf_priv.h"

#define INC__LISTEN_PROTOS 2
#define INC__LISTEN_WORDS (65536 / 64)

struct inc__listen_replica {
  uint64_t bits[INC__LISTEN_PROTOS][INC__LISTEN_WORDS];
} __attribute__((aligned(INC_LF_CACHELINE)));

struct inc_listen_registry {
  pthread_mutex_t lock; /* serialises writers; readers never take it */
  unsigned cores;
  uint16_t (*refs)[65536];
  struct inc__listen_replica *replica;
} __attribute__((aligned(INC_LF_CACHELINE)));

struct inc__listen_layout {
  size_t off_refs, off_replica, total;
};

static int inc__listen_layout(const struct inc_listen_config *cfg, struct inc__listen_layout *l) {
  if (cfg == NULL || cfg->cores == 0 || cfg->cores > INC_LF_MAX_WORKERS)
    return -EINVAL;
  l->off_refs = inc__align_up(sizeof(struct inc_listen_registry), INC_LF_CACHELINE);
  l->off_replica = inc__align_up(l->off_refs + INC__LISTEN_PROTOS * 65536 * sizeof(uint16_t),
                                 INC_LF_CACHELINE);
  l->total = l->off_replica + cfg->cores * sizeof(struct inc__listen_replica);
  return 0;
}

static int inc__listen_proto(uint8_t proto) {
  return proto == INC_LISTEN_TCP ? 0 : proto == INC_LISTEN_UDP ? 1 : -1;
}

size_t inc_listen_footprint(const struct inc_listen_config *cfg) {
  struct inc__listen_layout l;
  return inc__listen_layout(cfg, &l) == 0 ? l.total : 0;
}

int inc_listen_init(struct inc_listen_registry **out, void *mem, size_t len,
                    const struct inc_listen_config *cfg) {
  struct inc__listen_layout l;
  int rc;

  if (out == NULL || mem == NULL || ((uintptr_t)mem & (INC_LF_CACHELINE - 1)) != 0)
    return -EINVAL;
  rc = inc__listen_layout(cfg, &l);
  if (rc != 0)
    return rc;
  if (len < l.total)
    return -ENOSPC;
  memset(mem, 0, l.total);
  struct inc_listen_registry *r = mem;
  rc = pthread_mutex_init(&r->lock, NULL);
  if (rc != 0)
    return -rc;
  r->cores = cfg->cores;
  r->refs = (uint16_t(*)[65536])((char *)mem + l.off_refs);
  r->replica = (struct inc__listen_replica *)((char *)mem + l.off_replica);
  *out = r;
  return 0;
}

void inc_listen_destroy(struct inc_listen_registry *r) { pthread_mutex_destroy(&r->lock); }

static void inc__listen_publish(struct inc_listen_registry *r, int p, uint16_t port, int on) {
  const uint64_t bit = 1ULL << (port & 63);
  for (unsigned c = 0; c < r->cores; c++) {
    uint64_t *w = &r->replica[c].bits[p][port >> 6];
    /* Release pairs with the acquire load in inc_listen_lookup: whatever the
     * control plane set up before listening (the cores' listening pcbs) is
     * visible to a core that sees the bit. */
    if (on)
      __atomic_fetch_or(w, bit, __ATOMIC_RELEASE);
    else
      __atomic_fetch_and(w, ~bit, __ATOMIC_RELEASE);
  }
}

int inc_listen_add(struct inc_listen_registry *r, uint8_t proto, uint16_t port) {
  const int p = inc__listen_proto(proto);
  int rc = 0;

  if (p < 0)
    return -EINVAL;
  pthread_mutex_lock(&r->lock);
  uint16_t n = r->refs[p][port];
  if (n == UINT16_MAX) {
    rc = -EOVERFLOW;
  } else {
    /* Relaxed: the mutex orders writers; inc_listen_count reads a snapshot. */
    __atomic_store_n(&r->refs[p][port], (uint16_t)(n + 1), __ATOMIC_RELAXED);
    if (n == 0)
      inc__listen_publish(r, p, port, 1);
  }
  pthread_mutex_unlock(&r->lock);
  return rc;
}

int inc_listen_remove(struct inc_listen_registry *r, uint8_t proto, uint16_t port) {
  const int p = inc__listen_proto(proto);
  int rc = 0;

  if (p < 0)
    return -EINVAL;
  pthread_mutex_lock(&r->lock);
  uint16_t n = r->refs[p][port];
  if (n == 0) {
    rc = -ENOENT;
  } else {
    /* Relaxed: as in inc_listen_add. */
    __atomic_store_n(&r->refs[p][port], (uint16_t)(n - 1), __ATOMIC_RELAXED);
    if (n == 1)
      inc__listen_publish(r, p, port, 0);
  }
  pthread_mutex_unlock(&r->lock);
  return rc;
}

int inc_listen_lookup(const struct inc_listen_registry *r, unsigned core, uint8_t proto,
                      uint16_t port) {
  const int p = inc__listen_proto(proto);

  if (INC_LF_UNLIKELY(core >= r->cores))
    return -EINVAL;
  if (p < 0)
    return 0;
  /* Acquire pairs with the release RMW in inc__listen_publish. */
  const uint64_t w = __atomic_load_n(&r->replica[core].bits[p][port >> 6], __ATOMIC_ACQUIRE);
  return (int)((w >> (port & 63)) & 1);
}

unsigned inc_listen_count(const struct inc_listen_registry *r, uint8_t proto, uint16_t port) {
  const int p = inc__listen_proto(proto);
  /* Relaxed: a snapshot of a control-plane counter. */
  return p < 0 ? 0 : __atomic_load_n(&r->refs[p][port], __ATOMIC_RELAXED);
}
