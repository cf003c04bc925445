/*
 * lwipopts.h of the benchmark's plain-lwIP backend: stock lwIP 2.1.3 as a
 * user on Linux would configure it for a fast TCP server, nothing else.
 *
 * The model: NO_SYS=0, one tcpip thread, the BSD sockets API (and netconn
 * below it), lwIP's default core locking (LWIP_TCPIP_CORE_LOCKING=1: API
 * calls take the core lock instead of a message round trip where lwIP
 * allows it), a driver thread feeding frames with tcpip_input().
 *
 * Tuning, each a choice a performance-minded stock user would make:
 * - TCP_MSS 1460 on a 1500-byte Ethernet MTU.
 * - TCP_WND = TCP_SND_BUF = 44 * MSS = 64240 bytes: the largest window
 *   without window scaling (LWIP_WND_SCALE stays at its default 0).
 * - Pools sized so that no benchmark load runs out: 4096 pool pbufs,
 *   16 MiB heap for outgoing segments, 8192 segments, 1024 PCBs (a
 *   connection-rate run keeps client PCBs in TIME_WAIT; lwIP recycles the
 *   oldest when the pool is empty), large mailboxes.
 * - LWIP_STATS off, LWIP_CHECKSUM_ON_COPY on (checksum while copying the
 *   application's data); checksums are otherwise computed in software in
 *   both directions, as lwIP does by default.
 * - ARP_QUEUEING 1 (see below).
 * - IPv4 only; no DHCP/DNS/IGMP; SO_RCVTIMEO/SO_SNDTIMEO so that a stalled
 *   connection is an error rather than a hang; select()/poll() for the
 *   server's event loop.
 */
#ifndef INC_BENCH_LWIPOPTS_H
#define INC_BENCH_LWIPOPTS_H

/* ---- OS model ---- */
#define NO_SYS 0
#define SYS_LIGHTWEIGHT_PROT 1
#define LWIP_TCPIP_CORE_LOCKING 1
#define LWIP_TCPIP_CORE_LOCKING_INPUT 0
#define LWIP_NETCONN 1
#define LWIP_SOCKET 1
#define LWIP_COMPAT_SOCKETS 0          /* keep lwip_ names: libc's stay usable */
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_SOCKET_SELECT 1
#define LWIP_SOCKET_POLL 1
#define LWIP_SO_RCVTIMEO 1
#define LWIP_SO_SNDTIMEO 1
#define LWIP_TCP_KEEPALIVE 0
#define TCPIP_THREAD_NAME "lwip-tcpip"
#define TCPIP_THREAD_STACKSIZE 0       /* pthread default */
#define TCPIP_MBOX_SIZE 4096
#define DEFAULT_THREAD_STACKSIZE 0
#define DEFAULT_TCP_RECVMBOX_SIZE 256
#define DEFAULT_ACCEPTMBOX_SIZE 1024
#define DEFAULT_UDP_RECVMBOX_SIZE 64
#define DEFAULT_RAW_RECVMBOX_SIZE 64

/* ---- protocols ---- */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0
#define LWIP_HAVE_LOOPIF 0
#define LWIP_NETIF_LOOPBACK 0

/* ---- TCP ---- */
#define TCP_MSS 1460
#define TCP_WND (44 * TCP_MSS)
#define TCP_SND_BUF (44 * TCP_MSS)
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + (TCP_MSS - 1)) / TCP_MSS)
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 0xff
#define LWIP_CHECKSUM_ON_COPY 1

/* ---- memory ---- */
#define MEM_ALIGNMENT 8
#define MEM_SIZE (16 * 1024 * 1024)
#define MEMP_NUM_PBUF 1024
#define PBUF_POOL_SIZE 4096
#define MEMP_NUM_TCP_PCB 1024
#define MEMP_NUM_TCP_PCB_LISTEN 8
#define MEMP_NUM_TCP_SEG 8192
#define MEMP_NUM_NETCONN 512
#define MEMP_NUM_NETBUF 512
#define MEMP_NUM_UDP_PCB 4
#define MEMP_NUM_TCPIP_MSG_API 512
#define MEMP_NUM_TCPIP_MSG_INPKT 4096
#define MEMP_NUM_SELECT_CB 64
#define ARP_TABLE_SIZE 8
/* Queue the packets sent while an ARP request is pending, up to 64 per
 * address, rather than only the last (lwIP's default ARP_QUEUEING 0), or the
 * last 3 (ARP_QUEUE_LEN's default): K connections opened at once to a peer
 * not yet resolved would otherwise lose SYNs and wait for their
 * retransmission, 3 s. Linux queues too (neighbour unres_qlen). */
#define ARP_QUEUEING 1
#define ARP_QUEUE_LEN 64
#define MEMP_NUM_ARP_QUEUE 256

/* ---- diagnostics ---- */
#define LWIP_STATS 0
#define LWIP_STATS_DISPLAY 0

#endif
