/*
 * Per-core fixed-size object pools (see include/inception/pool.h).
 *
 * Memory layout (caller memory, 64-byte aligned):
 *   struct inc_pool | state[count] (uint8) | stack[count] (uint32) |
 *   rnext[count] (uint32) | objects (count * stride, aligned to obj_align)
 *
 * The owner's free list is a LIFO stack of object indices: alloc pops, free
 * pushes, both O(1) and owner-private. Remote frees go to a Treiber stack
 * threaded through rnext[] (push by compare-and-swap); the owner takes the
 * whole stack with one exchange. Push-only plus take-all has no ABA problem:
 * a pusher's CAS succeeds only if the head it linked to is still the head.
 *
 * state[i] tells free from in use, to refuse double frees; the owner writes it
 * with relaxed stores, a remote freer flips USED -> REMOTE by CAS, so that two
 * racing frees of one object cannot both push it.
 */
#include <errno.h>
#include <string.h>

#include "inception/pool.h"
#include "lf_priv.h"

#ifdef INC_LF_ASAN
#include <sanitizer/asan_interface.h>
#define INC_POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define INC_POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define INC_POOL_POISON(p, n) ((void)(p), (void)(n))
#define INC_POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define INC_POOL_NIL UINT32_MAX
#define INC_POOL_ALIGN_MIN 8u /* keeps every object on its own ASan shadow bytes */

enum { INC__OBJ_FREE = 0, INC__OBJ_USED = 1, INC__OBJ_REMOTE = 2 };

struct inc_pool {
  /* Read-only after init. */
  char *base;
  size_t stride;
  size_t obj_size;
  unsigned count;
  unsigned stride_shift; /* log2(stride) when stride is a power of two, else 0 */
  uint8_t *state;
  uint32_t *stack;
  uint32_t *rnext;
  const char *name;
  /* The owner's. */
  struct {
    struct inc__owner owner;
    unsigned top; /* free objects on the stack */
    uint64_t in_use, high_water, failures, allocs, frees;
  } own __attribute__((aligned(INC_LF_CACHELINE)));
  /* Shared by remote freers and the owner. */
  struct {
    uint32_t head; /* index of the last remote free, or INC_POOL_NIL */
    uint64_t frees;
  } remote __attribute__((aligned(INC_LF_CACHELINE)));
} __attribute__((aligned(INC_LF_CACHELINE)));

struct inc__pool_layout {
  size_t align, stride, off_state, off_stack, off_rnext, off_objs, total;
};

static int inc__pool_layout(const struct inc_pool_config *cfg, struct inc__pool_layout *l) {
  if (cfg == NULL || cfg->obj_size == 0 || cfg->obj_size > INC_POOL_OBJ_SIZE_MAX ||
      cfg->count == 0 || cfg->count > INC_POOL_COUNT_MAX)
    return -EINVAL;
  size_t align = cfg->obj_align ? cfg->obj_align : 16;
  if (!inc__is_pow2(align) || align > INC_POOL_ALIGN_MAX)
    return -EINVAL;
  if (align < INC_POOL_ALIGN_MIN)
    align = INC_POOL_ALIGN_MIN;
  l->align = align;
  l->stride = inc__align_up(cfg->obj_size, align);
  const size_t n = cfg->count; /* <= 2^28 and stride <= 2^20: no overflow in 64 bits */
  l->off_state = inc__align_up(sizeof(struct inc_pool), INC_LF_CACHELINE);
  l->off_stack = inc__align_up(l->off_state + n, INC_LF_CACHELINE);
  l->off_rnext = inc__align_up(l->off_stack + n * sizeof(uint32_t), INC_LF_CACHELINE);
  l->off_objs = inc__align_up(l->off_rnext + n * sizeof(uint32_t),
                              align > INC_LF_CACHELINE ? align : INC_LF_CACHELINE);
  l->total = l->off_objs + n * l->stride;
  return 0;
}

size_t inc_pool_footprint(const struct inc_pool_config *cfg) {
  struct inc__pool_layout l;
  return inc__pool_layout(cfg, &l) == 0 ? l.total : 0;
}

int inc_pool_init(struct inc_pool **out, void *mem, size_t len, const struct inc_pool_config *cfg) {
  struct inc__pool_layout l;
  int rc;

  if (out == NULL || mem == NULL)
    return -EINVAL;
  rc = inc__pool_layout(cfg, &l);
  if (rc != 0)
    return rc;
  const size_t need_align = l.align > INC_LF_CACHELINE ? l.align : INC_LF_CACHELINE;
  if (((uintptr_t)mem & (need_align - 1)) != 0)
    return -EINVAL;
  if (len < l.total)
    return -ENOSPC;

  char *base = mem;
  struct inc_pool *p = mem;
  memset(p, 0, sizeof(*p));
  p->base = base + l.off_objs;
  p->stride = l.stride;
  p->obj_size = cfg->obj_size;
  p->count = cfg->count;
  p->stride_shift = inc__is_pow2(l.stride) ? (unsigned)__builtin_ctzl(l.stride) : 0;
  p->state = (uint8_t *)(base + l.off_state);
  p->stack = (uint32_t *)(base + l.off_stack);
  p->rnext = (uint32_t *)(base + l.off_rnext);
  p->name = cfg->name;
  memset(p->state, INC__OBJ_FREE, cfg->count);
  /* Stack top is the last element: object 0 comes out first. */
  for (unsigned i = 0; i < cfg->count; i++) {
    p->stack[i] = cfg->count - 1 - i;
    p->rnext[i] = INC_POOL_NIL;
  }
  p->own.top = cfg->count;
  p->remote.head = INC_POOL_NIL;
  INC_POOL_POISON(p->base, (size_t)cfg->count * l.stride);
  *out = p;
  return 0;
}

int inc_pool_bind(struct inc_pool *p) {
  inc__owner_bind(&p->own.owner);
  return 0;
}

/* Owner-written counters, read by inc_pool_stats from any thread: relaxed
 * atomic stores of the owner's value, no ordering needed. */
static inline void inc__pool_set(uint64_t *c, uint64_t v) { __atomic_store_n(c, v, __ATOMIC_RELAXED); }

long inc_pool_index(const struct inc_pool *p, const void *obj) {
  const uintptr_t a = (uintptr_t)obj, b = (uintptr_t)p->base;
  if (a < b)
    return -EINVAL;
  const uintptr_t off = a - b;
  uintptr_t i;
  if (p->stride_shift != 0) {
    i = off >> p->stride_shift;
    if ((off & (p->stride - 1)) != 0)
      return -EINVAL;
  } else {
    i = off / p->stride;
    if (off - i * p->stride != 0)
      return -EINVAL;
  }
  return i < p->count ? (long)i : -EINVAL;
}

void *inc_pool_object(const struct inc_pool *p, unsigned i) {
  return i < p->count ? p->base + (size_t)i * p->stride : NULL;
}

static unsigned inc__pool_drain(struct inc_pool *p) {
  /* Relaxed peek: skip the exchange (a locked instruction) when empty. */
  if (__atomic_load_n(&p->remote.head, __ATOMIC_RELAXED) == INC_POOL_NIL)
    return 0;
  /* Acquire pairs with the release CAS in inc_pool_free_remote (and, through
   * the release sequence of CASes on head, with every earlier push): rnext[]
   * and the freers' last writes to the objects happen before reuse. */
  uint32_t i = __atomic_exchange_n(&p->remote.head, INC_POOL_NIL, __ATOMIC_ACQUIRE);
  unsigned n = 0;
  while (i != INC_POOL_NIL) {
    /* Relaxed: ordered by the acquire exchange above. */
    uint32_t next = __atomic_load_n(&p->rnext[i], __ATOMIC_RELAXED);
    __atomic_store_n(&p->state[i], INC__OBJ_FREE, __ATOMIC_RELAXED);
    p->stack[p->own.top++] = i;
    i = next;
    n++;
  }
  inc__pool_set(&p->own.in_use, p->own.in_use - n);
  return n;
}

unsigned inc_pool_reclaim(struct inc_pool *p) {
  INC_LF_ASSERT_OWNER(&p->own.owner, "inc_pool_reclaim");
  return inc__pool_drain(p);
}

void *inc_pool_alloc(struct inc_pool *p) {
  INC_LF_ASSERT_OWNER(&p->own.owner, "inc_pool_alloc");
  if (INC_LF_UNLIKELY(p->own.top == 0) && inc__pool_drain(p) == 0) {
    inc__pool_set(&p->own.failures, p->own.failures + 1);
    return NULL;
  }
  const uint32_t i = p->stack[--p->own.top];
  /* Relaxed: a remote freer gets the object from us through a channel that
   * orders this store before its CAS. */
  __atomic_store_n(&p->state[i], INC__OBJ_USED, __ATOMIC_RELAXED);
  const uint64_t in_use = p->own.in_use + 1;
  inc__pool_set(&p->own.in_use, in_use);
  if (in_use > p->own.high_water)
    inc__pool_set(&p->own.high_water, in_use);
  inc__pool_set(&p->own.allocs, p->own.allocs + 1);
  void *obj = p->base + (size_t)i * p->stride;
  INC_POOL_UNPOISON(obj, p->obj_size);
  return obj;
}

int inc_pool_free(struct inc_pool *p, void *obj) {
  INC_LF_ASSERT_OWNER(&p->own.owner, "inc_pool_free");
  const long i = inc_pool_index(p, obj);
  if (INC_LF_UNLIKELY(i < 0))
    return -EINVAL;
  /* Relaxed: USED was stored by this thread (alloc), or the object came back
   * through a channel that orders it. */
  if (INC_LF_UNLIKELY(__atomic_load_n(&p->state[i], __ATOMIC_RELAXED) != INC__OBJ_USED))
    return -EALREADY;
  __atomic_store_n(&p->state[i], INC__OBJ_FREE, __ATOMIC_RELAXED);
  INC_POOL_POISON(obj, p->stride);
  p->stack[p->own.top++] = (uint32_t)i;
  inc__pool_set(&p->own.in_use, p->own.in_use - 1);
  inc__pool_set(&p->own.frees, p->own.frees + 1);
  return 0;
}

int inc_pool_free_remote(struct inc_pool *p, void *obj) {
  const long i = inc_pool_index(p, obj);
  if (INC_LF_UNLIKELY(i < 0))
    return -EINVAL;
  uint8_t expect = INC__OBJ_USED;
  /* Relaxed CAS: it only decides who frees; the push below publishes. */
  if (!__atomic_compare_exchange_n(&p->state[i], &expect, INC__OBJ_REMOTE, 0, __ATOMIC_RELAXED,
                                   __ATOMIC_RELAXED))
    return -EALREADY;
  /* Poison before the push: once pushed, the owner may hand it out again. */
  INC_POOL_POISON(obj, p->stride);
  uint32_t head = __atomic_load_n(&p->remote.head, __ATOMIC_RELAXED);
  do {
    /* Relaxed: published by the release CAS below. */
    __atomic_store_n(&p->rnext[i], head, __ATOMIC_RELAXED);
    /* Release pairs with the acquire exchange in inc__pool_drain. */
  } while (!__atomic_compare_exchange_n(&p->remote.head, &head, (uint32_t)i, 1, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED));
  /* Relaxed: a statistic. */
  __atomic_fetch_add(&p->remote.frees, 1, __ATOMIC_RELAXED);
  return 0;
}

void inc_pool_stats_get(const struct inc_pool *p, struct inc_pool_stats *out) {
  out->in_use = __atomic_load_n(&p->own.in_use, __ATOMIC_RELAXED);
  out->high_water = __atomic_load_n(&p->own.high_water, __ATOMIC_RELAXED);
  out->failures = __atomic_load_n(&p->own.failures, __ATOMIC_RELAXED);
  out->allocs = __atomic_load_n(&p->own.allocs, __ATOMIC_RELAXED);
  out->frees = __atomic_load_n(&p->own.frees, __ATOMIC_RELAXED);
  out->remote_frees = __atomic_load_n(&p->remote.frees, __ATOMIC_RELAXED);
  out->capacity = p->count;
}

const char *inc_pool_name(const struct inc_pool *p) { return p->name; }
