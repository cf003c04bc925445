/*
 * The per-core runtime's private structures (stack/).
 *
 * struct inc_stack: what all workers share (read-mostly after start): the
 * configuration, the channel mesh, the flow table, the listener registry,
 * the ARP/ND request suppression table.
 * struct inc_worker: one core's state, cache-aligned, touched by its own
 * thread only (except the counters, read with relaxed atomic loads, and the
 * stop flag).
 */
#ifndef INC_STACK_PRIV_H
#define INC_STACK_PRIV_H

#include <stdatomic.h>
#include <stdint.h>

#include "classify_priv.h"
#include "inc_lwip_instance.h"
#include "inception/chan.h"
#include "inception/flow.h"
#include "inception/netif.h"
#include "inception/pool.h"
#include "inception/stack.h"
#include "lwip/tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mbuf;
struct pbuf;

#define INC__BURST 32
/* ARP/ND request suppression: one slot per hashed target */
#define INC__ARP_SLOTS 256
#define INC__ARP_HOLD_MS 1000
/* ephemeral ports (IANA dynamic range, as lwIP's default) */
#define INC__EPHEMERAL_FIRST 49152u
#define INC__EPHEMERAL_PORTS 16384u

/* INC_MSG_PACKET arg bits: what ptr is */
#define INC__PKT_FRAME 0u   /* an mbuf holding an Ethernet frame: inc_netif_input() */
#define INC__PKT_IP 1u      /* a struct pbuf holding an IP packet: ip_input() */
#define INC__PKT_KIND_MASK 1u
#define INC__PKT_SHARED 2u  /* a copy of an ARP reply / ND advert for learning */
#define INC__PKT_PORT_SHIFT 8 /* stack port index in bits 8..15 */

struct inc_worker {
  /* hot, owner-only */
  unsigned index;
  unsigned lcore;
  struct inc_stack *stack;
  uint8_t ext_arg_id;             /* lwIP tcp ext arg slot for flow tracking */
  uint32_t next_port;             /* ephemeral port cursor (random start) */
  struct inc_pool *flow_keys;     /* keys of this core's tracked connections */
  int lwip_up;
  unsigned idle_rounds;
  uint32_t ip6_keep_ms;           /* sys_now() of the last IPv6 router check */
  unsigned ip6_routers;           /* ports with a configured IPv6 router */
  struct inc_lwip_instance lwip;  /* lwip.ctx points back here */
  struct inc_netif nif[INC_STACK_MAX_PORTS];
  netif_linkoutput_fn drv_linkoutput[INC_STACK_MAX_PORTS]; /* the driver's, wrapped */
  struct inc_stack_counters cnt;  /* written by the owner (relaxed atomics) */
  /* control */
  _Atomic int stop;               /* set by the control plane; read each loop */
  _Atomic int state;              /* INC__W_* (pairs with the control plane's waits) */
  int start_rc;
} __attribute__((aligned(64)));

enum { INC__W_NEW = 0, INC__W_RUNNING, INC__W_FAILED, INC__W_DONE };

struct inc_stack {
  struct inc_stack_config cfg;
  struct inc_chan_mesh *mesh;
  struct inc_flow_table *flows;
  _Atomic uint64_t arp_slots[INC__ARP_SLOTS]; /* (target key << 32) | ms */
  unsigned launched;
  struct inc_worker *w; /* cfg.workers of them, in the caller's memory */
};

/* counters: the owner adds, readers load (both relaxed: counters only) */
#define INC__CNT_ADD(w, field, n) \
  atomic_fetch_add_explicit((_Atomic uint64_t *)&(w)->cnt.field, (uint64_t)(n), memory_order_relaxed)
#define INC__CNT_SUB(w, field, n) \
  atomic_fetch_sub_explicit((_Atomic uint64_t *)&(w)->cnt.field, (uint64_t)(n), memory_order_relaxed)

/* worker.c */
int inc__worker_main(void *arg);

/* stack.c: the netif configuration of a stack port (addresses only; the
 * queue and name are the caller's to fill). */
void inc__netif_config_of(const struct inc_stack_port *sp, struct inc_netif_config *nc);
/* Does the port have an IPv6 address (link-local or static)? */
int inc__port_has_ip6(const struct inc_stack_port *sp);

/* steer.c: installs the steering policies on the worker's lwIP instance */
void inc__steer_init(struct inc_worker *w);
/* Handles one received frame (classify, steer or input). Consumes m. */
void inc__steer_rx(struct inc_worker *w, unsigned port_idx, struct rte_mbuf *m);
/* Handles one message from another worker. */
void inc__steer_msg(struct inc_worker *w, const struct inc_msg *msg);
/* Wraps the driver's linkoutput of port_idx (ARP/ND request suppression). */
void inc__steer_wrap_netif(struct inc_worker *w, unsigned port_idx);
/* Hands an IP packet (p->payload at its IP header) to worker owner, which
 * inputs it on its netif of port pi. Consumes p. Returns 0 or -ENOBUFS (the
 * owner's ring was full: dropped and counted). */
int inc__steer_handoff_ip(struct inc_worker *w, unsigned owner, unsigned pi, struct pbuf *p);
/* Frees a packet message without processing it (a stopping worker). */
void inc__steer_msg_discard(const struct inc_msg *msg);

/* cmd.c: application calls (inception/stack_call.h) run on the worker */
void inc__cmd_exec(struct inc_worker *w, const struct inc_msg *msg);
/* Completes a call with -ESHUTDOWN without running it. */
void inc__cmd_discard(struct inc_worker *w, const struct inc_msg *msg);

/* flows.c: the flow table entries of this core's connections */
/* Records that this core owns pcb's connection (from now until lwIP frees
 * the pcb). Returns 0, -EEXIST, -ENOMEM, -ENOSPC. */
int inc__flow_track(struct inc_worker *w, struct tcp_pcb *pcb);
/* Makes every connection accepted by lpcb tracked. */
void inc__flow_track_listener(struct inc_worker *w, struct tcp_pcb *lpcb);
/* The flow key of a pcb on one of our netifs. */
int inc__flow_key_of(const struct inc_worker *w, const struct tcp_pcb *pcb, struct inc_flow_key *key);
/* tcp_connect() for a worker: picks an ephemeral port whose reply reaches
 * this core (if the pcb has none), records the flow, then connects.
 * Returns 0 or a negative errno. */
int inc__tcp_connect(struct inc_worker *w, struct tcp_pcb *pcb, const ip_addr_t *remote, u16_t rport,
                     tcp_connected_fn connected);
/* lwIP's err_t as a negative errno (0 for ERR_OK). */
int inc__errno_of(err_t err);

/* steer.c: would a reply from remote:rport to local:lport reach this core? */
int inc__port_ok(struct inc_worker *w, const ip_addr_t *local, const ip_addr_t *remote, uint16_t rport,
                 uint16_t lport, uint8_t proto);

#ifdef __cplusplus
}
#endif

#endif /* INC_STACK_PRIV_H */
