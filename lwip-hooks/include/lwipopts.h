/*
 * Inception's lwIP configuration: one lwIP instance per worker thread.
 *
 * Each worker runs lwIP's raw API to completion in its own poll loop, so the
 * instance needs no OS layer (NO_SYS=1), no locks (SYS_LIGHTWEIGHT_PROT=0) and
 * no sequential/socket API of lwIP's own: Inception carries application calls
 * to the owning worker itself (stack/).
 *
 * Sizes are per instance (per worker). Values a deployment may want to change
 * are guarded with #ifndef so that a build can override them with -D.
 */
#ifndef INC_LWIPOPTS_H
#define INC_LWIPOPTS_H

#include "inc_lwip_state.h" /* LWIP_STATE_STORAGE: thread-local state */

/* ---- system ---------------------------------------------------------- */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_TIMERS 1
#define LWIP_HOOK_FILENAME "inc_lwip_hooks.h"

/* Every call into an instance must come from the thread that owns it:
 * checked on every lwIP API call in builds with INC_LWIP_CHECK_OWNER (debug
 * and sanitizer builds; lwip-hooks/CMakeLists.txt). */
#ifdef INC_LWIP_CHECK_OWNER
#define LWIP_ASSERT_CORE_LOCKED() inc__lwip_assert_owner()
#endif

/* ---- memory ---------------------------------------------------------- */
#define MEM_ALIGNMENT 8
/* PBUF_RAM (and lwIP's few other variable-size allocations) through
 * mem_clib_*: the thread's buffer provider (per-core DPDK mbufs, installed by
 * drivers/) when it has one, else the C library. PBUF_POOL goes the same way
 * through LWIP_HOOK_MEMP_MALLOC (inc_lwip_hooks.h). See inc_lwip_bufs.h. */
#include "inc_lwip_bufs.h"
#define MEM_LIBC_MALLOC 1
#define mem_clib_malloc inc__lwip_mem_malloc
#define mem_clib_calloc inc__lwip_mem_calloc
#define mem_clib_free inc__lwip_mem_free
#define MEM_STATS 0 /* mem_malloc() blocks must be exactly what mem_clib_malloc() returned */
#define MEMP_MEM_MALLOC 0

#ifndef INC_LWIP_MAX_TCP
#define INC_LWIP_MAX_TCP 1024 /* TCP connections per instance */
#endif
#define MEMP_NUM_TCP_PCB INC_LWIP_MAX_TCP
/* At most this many pcbs per instance in TIME-WAIT: a new pcb first frees
 * the oldest (upstream-patches/0008), as lwIP does anyway when the pcb pool
 * is empty. Every new connection walks lwIP's TIME-WAIT list about three
 * times (tcp_alloc(), tcp_bind(), tcp_pcb_remove() of the oldest); with
 * the whole pool in TIME-WAIT those walks took ~40% of a short connection's
 * time. Trade-off (RFC 9293 3.6.1 asks for 2 MSL): above ~1 closed
 * connection per second per core, TIME-WAIT lasts less than 2 MSL, so a
 * retransmitted FIN whose ACK was lost gets a RST (the peer's LAST-ACK ends
 * either way), and the TIME-WAIT pcb no longer keeps its 4-tuple from
 * being reused: inc__tcp_connect() cycles through the 16,384 ephemeral
 * ports (stack_priv.h), so an active open reuses a port only after the
 * range has wrapped, not sooner than with the pool's 1,024. A server that
 * must keep every TIME-WAIT for 2 MSL sets it to INC_LWIP_MAX_TCP. */
#ifndef INC_LWIP_MAX_TIME_WAIT
#define INC_LWIP_MAX_TIME_WAIT 128
#endif
#define TCP_TIME_WAIT_MAX_PCBS INC_LWIP_MAX_TIME_WAIT
#define MEMP_NUM_TCP_PCB_LISTEN 32
#define MEMP_NUM_UDP_PCB 32
#define MEMP_NUM_RAW_PCB 4
#define MEMP_NUM_TCP_SEG 16384 /* queued and out-of-order segments of all connections */
#define MEMP_NUM_REASSDATA 16
#define IP_REASS_MAX_PBUFS 64
#define MEMP_NUM_FRAG_PBUF 32
#define MEMP_NUM_ARP_QUEUE 64
#define MEMP_NUM_ND6_QUEUE 64
/* PBUF_ROM/REF descriptors: one per segment of no-copy data that TCP holds
 * until it is acknowledged (the raw API's INC_RAW_WRITE_NOCOPY), so they
 * bound a worker's no-copy bytes in flight (256 were ~370 KB: three
 * connections' send buffers) */
#define MEMP_NUM_PBUF 2048
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)
#define PBUF_POOL_SIZE 256 /* workers take PBUF_POOL from their mbuf pools (drivers/) */
#define PBUF_POOL_BUFSIZE LWIP_MEM_ALIGN_SIZE(TCP_MSS + 40 + PBUF_LINK_ENCAPSULATION_HLEN + PBUF_LINK_HLEN)

/* ---- protocols ------------------------------------------------------- */
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_IGMP 0
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_DNS 0
#define LWIP_IPV6_MLD 1
#define LWIP_IPV6_AUTOCONFIG 0
#define LWIP_IPV6_DHCP6 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define LWIP_IPV6_REASS 1
#define LWIP_IPV6_FRAG 1
#define IPV6_FRAG_COPYHEADER 1 /* 64-bit pointers do not fit in the fragment header */
#define ARP_TABLE_SIZE 64
#define ARP_QUEUEING 1
/* many connections open to one neighbour at once (the default 3 drops the
 * 4th SYN until ARP resolves, costing it a 3 s SYN retransmission) */
#define ARP_QUEUE_LEN 64
#define ETHARP_SUPPORT_STATIC_ENTRIES 1
#define LWIP_ND6_NUM_NEIGHBORS 64
#define LWIP_ND6_NUM_DESTINATIONS 64
#define LWIP_SINGLE_NETIF 0
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_HAVE_LOOPIF 0
#define LWIP_NETIF_EXT_STATUS_CALLBACK 0
#define SO_REUSE 1

/* ---- TCP ------------------------------------------------------------- */
#define TCP_MSS 1460
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 4
#ifndef TCP_WND
#define TCP_WND (128 * 1024)
#endif
#ifndef TCP_SND_BUF
#define TCP_SND_BUF (128 * 1024)
#endif
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
/* lwIP keeps the low-water mark in a u16_t, at least 4 MSS below overflow */
#define TCP_SNDLOWAT (32 * 1024)
#define TCP_QUEUE_OOSEQ 1
#define TCP_OOSEQ_MAX_PBUFS 64
/* trim every out-of-order segment to the receive window before queuing it
 * (upstream-patches/0006): without it, a peer that sends beyond the window
 * with a hole in front makes tcp_receive() assert (RFC 9293 3.10.7.4) */
#define LWIP_TCP_OOSEQ_TRIM_WND 1
/* the persist timer splits the unsent head at what fits min(snd_wnd, cwnd)
 * (upstream-patches/0007): without it, a head larger than cwnd after a
 * retransmission timeout (our segments are larger than the MSS) is never
 * sent while the persist timer runs, and a scaled window of a multiple of
 * 64 KiB makes tcp_slowtmr() assert */
#define LWIP_TCP_PERSIST_SPLIT_WND 1
/* a retransmission timeout merges unacked into unsent in sequence order
 * (upstream-patches/0009): without it, a fast retransmission that a zero
 * window held in unsent ends up behind later segments, and the connection
 * stalls on the hole it would fill */
#define LWIP_TCP_RTO_KEEP_ORDER 1
#define LWIP_TCP_SACK_OUT 1
#define LWIP_TCP_TIMESTAMPS 1
#define LWIP_TCP_KEEPALIVE 1
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 255
/* per-pcb extension slots, each taken once per thread with
 * tcp_ext_arg_alloc_id(): stack/'s flow tracking, api/'s raw API
 * (api/raw_priv.h), and one spare for another api/ module */
#define LWIP_TCP_PCB_NUM_EXT_ARGS 3
#define LWIP_CALLBACK_API 1
#define TCP_OVERSIZE TCP_MSS

/* ---- checksums: in software here; drivers/ turns offloads on per port -- */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
/* Off: tcp_write() would sum every byte it copies into a segment, for
 * tcp_output_segment() to use only when lwIP computes the TCP checksum, and
 * drivers/ always takes that over (netif_setup.c clears
 * NETIF_CHECKSUM_GEN_TCP): the sum was computed and thrown away (~390
 * instructions per 64-byte request and response). */
#define LWIP_CHECKSUM_ON_COPY 0

/* ---- statistics: per instance, read by Inception's counters ---------- */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LWIP_STATS_LARGE 1 /* 32-bit counters: 16-bit ones wrap within a second */
#define LINK_STATS 1
#define ETHARP_STATS 1
#define IP_STATS 1
#define IPFRAG_STATS 1
#define ICMP_STATS 1
#define UDP_STATS 1
#define TCP_STATS 1
#define MEMP_STATS 1
#define SYS_STATS 0
#define IP6_STATS 1
#define ICMP6_STATS 1
#define IP6_FRAG_STATS 1
#define ND6_STATS 1
#define MLD6_STATS 1
#define MIB2_STATS 0

/* ---- debugging -------------------------------------------------------- */
#ifndef LWIP_DEBUG
#define LWIP_NOASSERT_ON_ERROR 0
#endif

#endif /* INC_LWIPOPTS_H */
