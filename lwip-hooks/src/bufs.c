/*
 * lwIP's buffer memory: the calling thread's provider first, then the C
 * library (mem_malloc) or lwIP's own pools (memp). See inc_lwip_bufs.h.
 */
#include "inc_lwip_bufs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/memp.h"
#include "lwip/pbuf.h"
#include "lwip/priv/memp_priv.h"
#include "lwip/stats.h"
#include "inc_lwip_hooks.h"

#define INC_TLS __thread __attribute__((tls_model("initial-exec")))

#if LWIP_STATS && MEM_STATS
#error "mem_malloc() blocks must start where mem_clib_malloc() put them: keep MEM_STATS off"
#endif

/* The header in front of every mem_malloc() block (INC_LWIP_BUF_HDR bytes). */
struct buf_hdr {
  uint64_t magic;
  const struct inc_lwip_bufs *owner; /* NULL: C library */
};

#define MAGIC_PROVIDER 0x494e43505256424bULL /* "INCPRVBK" */
#define MAGIC_LIBC 0x494e434c49424342ULL     /* "INCLIBCB" */

_Static_assert(sizeof(struct buf_hdr) == INC_LWIP_BUF_HDR, "header size");

static INC_TLS const struct inc_lwip_bufs *tls_bufs;
static INC_TLS struct inc_lwip_bufs_stats tls_stats;

int inc_lwip_bufs_set(const struct inc_lwip_bufs *bufs)
{
  if (bufs != NULL && (bufs->alloc == NULL || bufs->free == NULL)) {
    return -EINVAL;
  }
  tls_bufs = bufs;
  return 0;
}

const struct inc_lwip_bufs *inc_lwip_bufs_get(void)
{
  return tls_bufs;
}

void inc_lwip_bufs_stats_get(struct inc_lwip_bufs_stats *out)
{
  if (out != NULL) {
    *out = tls_stats;
  }
}

static struct buf_hdr *hdr_of(void *mem)
{
  return (struct buf_hdr *)((unsigned char *)mem - INC_LWIP_BUF_HDR);
}

/* A block from the provider, tagged; NULL if it has none. */
static void *provider_alloc(const struct inc_lwip_bufs *bufs, size_t size)
{
  void *mem = bufs->alloc(bufs->ctx, size);
  struct buf_hdr *h;
  if (mem == NULL) {
    tls_stats.provider_failures++;
    return NULL;
  }
  h = hdr_of(mem);
  h->magic = MAGIC_PROVIDER;
  h->owner = bufs;
  tls_stats.provider_allocs++;
  return mem;
}

static void tagged_free(void *mem)
{
  struct buf_hdr *h = hdr_of(mem);
  tls_stats.frees++;
  if (h->magic == MAGIC_PROVIDER && h->owner != NULL) {
    const struct inc_lwip_bufs *owner = h->owner;
    h->magic = 0;
    owner->free(owner->ctx, mem);
  } else if (h->magic == MAGIC_LIBC) {
    h->magic = 0;
    free(h);
  } else {
    inc__lwip_assert_fail("mem_free: block was not allocated by mem_malloc (or freed twice)",
                          __FILE__, __LINE__);
  }
}

void *inc__lwip_mem_malloc(size_t size)
{
  const struct inc_lwip_bufs *bufs = tls_bufs;
  struct buf_hdr *h;
  if (bufs != NULL && size <= bufs->max_size) {
    return provider_alloc(bufs, size);
  }
  h = (struct buf_hdr *)malloc(INC_LWIP_BUF_HDR + size);
  if (h == NULL) {
    return NULL;
  }
  h->magic = MAGIC_LIBC;
  h->owner = NULL;
  tls_stats.libc_allocs++;
  return h + 1;
}

void *inc__lwip_mem_calloc(size_t count, size_t size)
{
  void *mem;
  if (size != 0 && count > SIZE_MAX / size) {
    return NULL;
  }
  mem = inc__lwip_mem_malloc(count * size);
  if (mem != NULL) {
    memset(mem, 0, count * size);
  }
  return mem;
}

void inc__lwip_mem_free(void *mem)
{
  if (mem != NULL) {
    tagged_free(mem);
  }
}

/* ---- memp (upstream-patches/0003) ------------------------------------ */

/* Is mem an element of this instance's own PBUF_POOL memory? Decided by
 * address: the bytes before an element of lwIP's pool are another element's
 * payload (received data), so they cannot be trusted as a tag. */
static int in_lwip_pbuf_pool(const void *mem)
{
  const struct memp_desc *desc = memp_pools[MEMP_PBUF_POOL];
  const unsigned char *base = (const unsigned char *)LWIP_MEM_ALIGN(desc->base);
  const unsigned char *end = base + (size_t)desc->num * (MEMP_SIZE + MEMP_ALIGN_SIZE(desc->size));
  const unsigned char *p = (const unsigned char *)mem;
  return p >= base && p < end;
}

/* memp_malloc() counts the element in the pool's stats itself; lwIP's pool
 * functions count too, so their count is taken back here. */
static void *lwip_pool_alloc(memp_t type)
{
  const struct memp_desc *desc = memp_pools[type];
  void *mem = memp_malloc_pool(desc);
#if MEMP_STATS
  if (mem != NULL) {
    desc->stats->used--;
  } else {
    desc->stats->err--;
  }
#endif
  return mem;
}

static void lwip_pool_free(memp_t type, void *mem)
{
  const struct memp_desc *desc = memp_pools[type];
#if MEMP_STATS
  desc->stats->used++; /* memp_free() already counted this one */
#endif
  memp_free_pool(desc, mem);
}

void *inc__lwip_memp_malloc(int type)
{
  const struct inc_lwip_bufs *bufs = tls_bufs;
  if (type == MEMP_PBUF_POOL && bufs != NULL && memp_pools[type]->size <= bufs->max_size) {
    return provider_alloc(bufs, memp_pools[type]->size);
  }
  return lwip_pool_alloc((memp_t)type);
}

void inc__lwip_memp_free(int type, void *mem)
{
  if (type == MEMP_PBUF_POOL && !in_lwip_pbuf_pool(mem)) {
    tagged_free(mem);
    return;
  }
  lwip_pool_free((memp_t)type, mem);
}

const struct inc_lwip_bufs *inc_lwip_bufs_owner(const struct pbuf *p)
{
  u8_t src;
  struct buf_hdr *h;
  if (p == NULL || (p->flags & PBUF_FLAG_IS_CUSTOM) != 0) {
    return NULL;
  }
  src = pbuf_get_allocsrc(p);
  if (src == PBUF_TYPE_ALLOC_SRC_MASK_STD_MEMP_PBUF_POOL) {
    if (in_lwip_pbuf_pool(p)) {
      return NULL;
    }
  } else if (src != PBUF_TYPE_ALLOC_SRC_MASK_STD_HEAP) {
    return NULL;
  }
  h = hdr_of((void *)(uintptr_t)p);
  return h->magic == MAGIC_PROVIDER ? h->owner : NULL;
}

/* ---- TCP segmentation offload (upstream-patches/0005) ----------------- */

u16_t inc__lwip_tcp_seg_maxlen(const struct tcp_pcb *pcb, u16_t mss_len)
{
  const struct inc_lwip_bufs *bufs = tls_bufs;
  u16_t len;
  if (bufs == NULL || bufs->tcp_seg_maxlen == NULL) {
    return mss_len;
  }
  len = bufs->tcp_seg_maxlen(bufs->ctx, pcb, mss_len);
  return len > mss_len ? len : mss_len;
}
