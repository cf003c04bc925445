/*
 * Where an lwIP instance's packet buffers come from.
 *
 * lwIP allocates the memory of its pbufs in two places: mem_malloc() for
 * PBUF_RAM (headers, TCP segments built by tcp_write(), ICMP replies) and
 * memp_malloc(MEMP_PBUF_POOL) for PBUF_POOL chains. Inception redirects both
 * (lwipopts.h: MEM_LIBC_MALLOC with mem_clib_*; inc_lwip_hooks.h:
 * LWIP_HOOK_MEMP_MALLOC/FREE of upstream-patches/0003) to the functions below,
 * which ask the calling thread's buffer provider first. drivers/ installs one
 * per worker thread whose blocks are DPDK mbufs laid out so that lwIP's
 * struct pbuf ends exactly where the mbuf's data area begins: the payload lwIP
 * writes is the data the NIC sends, with no copy.
 *
 * Without a provider (lwIP's unit suite, the isolation test, a thread that
 * runs lwIP without DPDK) everything behaves as before: PBUF_RAM comes from
 * the C library, PBUF_POOL and every other pool from lwIP's own pools.
 *
 * Every block of mem_malloc() carries INC_LWIP_BUF_HDR bytes in front of it
 * (a tag and the provider that owns it), so mem_free() gives it back to the
 * right place on any thread. PBUF_POOL elements from lwIP's own pool are told
 * apart by address (they lie inside the instance's pool memory), never by a
 * tag that could be forged by packet data.
 */
#ifndef INC_LWIP_BUFS_H
#define INC_LWIP_BUFS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tcp_pcb;
struct pbuf;

/** Bytes in front of every mem_malloc() block that belong to the block. A
 * provider's blocks must have them too (writable, part of its memory). */
#define INC_LWIP_BUF_HDR 16u

/**
 * A buffer provider: per thread, installed by the thread that owns the lwIP
 * instance (inc_lwip_bufs_set()). The struct must outlive every block it
 * handed out (blocks may be freed long after, on any thread).
 */
struct inc_lwip_bufs {
  /** A block of at least size bytes, aligned to 8, with INC_LWIP_BUF_HDR
   * writable bytes before it; NULL when the provider has none left (lwIP then
   * fails the allocation as when its own pool is empty: no fallback, so the
   * data path never touches the heap). Called on the owner thread only. */
  void *(*alloc)(void *ctx, size_t size);
  /** Gives back a block from alloc. Called on any thread. */
  void (*free)(void *ctx, void *mem);
  /** Requests larger than this go to the C library (rare, e.g. a large ICMP
   * echo reply); requests up to it always go to alloc. */
  size_t max_size;
  /** TCP segmentation offload (upstream-patches/0005): the largest segment
   * (payload plus options) tcp_write() may build for pcb, given lwIP's own
   * limit mss_len. NULL, or returning mss_len, keeps lwIP's segmentation. */
  uint16_t (*tcp_seg_maxlen)(void *ctx, const struct tcp_pcb *pcb, uint16_t mss_len);
  void *ctx;
};

/** Allocation counts of the calling thread (owner thread of an instance). */
struct inc_lwip_bufs_stats {
  uint64_t provider_allocs;   /* blocks taken from the provider */
  uint64_t provider_failures; /* provider had none: lwIP saw an allocation failure */
  uint64_t libc_allocs;       /* blocks from the C library */
  uint64_t frees;             /* blocks given back by this thread (either kind) */
};

/**
 * Installs (or with NULL removes) the calling thread's buffer provider.
 * Thread: the owner of the lwIP instance, before or after inc_lwip_instance_init().
 * Ownership: bufs stays the caller's; it must outlive every block it provides.
 * RCU: none.
 * Returns: 0, or -EINVAL if bufs lacks alloc or free.
 */
int inc_lwip_bufs_set(const struct inc_lwip_bufs *bufs);

/**
 * The calling thread's provider, or NULL.
 * Thread: any (answers for itself). RCU: none.
 */
const struct inc_lwip_bufs *inc_lwip_bufs_get(void);

/**
 * The provider that owns the memory of pbuf p (a PBUF_RAM or PBUF_POOL pbuf
 * lwIP allocated), or NULL if it came from the C library, from lwIP's own
 * pools, or is of another kind (PBUF_REF/ROM, custom).
 * Thread: the owner of the instance that allocated p. RCU: none.
 */
const struct inc_lwip_bufs *inc_lwip_bufs_owner(const struct pbuf *p);

/** Copies the calling thread's counts into *out. Thread: any (its own). */
void inc_lwip_bufs_stats_get(struct inc_lwip_bufs_stats *out);

/* lwIP's side of the redirection (lwipopts.h, inc_lwip_hooks.h); not for
 * applications. */
void *inc__lwip_mem_malloc(size_t size);
void *inc__lwip_mem_calloc(size_t count, size_t size);
void inc__lwip_mem_free(void *mem);

#ifdef __cplusplus
}
#endif

#endif /* INC_LWIP_BUFS_H */
