/*
 * IPv6 worker-side operations for stack tests (C: they touch lwIP). Each runs
 * on a worker, typically through inc_stack_call_run() from the test's thread.
 * Addresses are 16 bytes in network byte order, ports in host order; every
 * operation uses the stack's port 0.
 */
#ifndef INC_TEST_STACK_OPS6_H
#define INC_TEST_STACK_OPS6_H

#include <stdint.h>

#include "inception/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tcp_pcb;
struct udp_pcb;

/* The outcome of an active open, written by its owner worker only. */
struct ops6_conn {
  struct tcp_pcb *pcb;
  uint16_t lport;
  uint8_t local[16];  /* the source address lwIP chose */
  uint32_t snd_nxt;   /* after the SYN: what a SYN|ACK or RST must acknowledge */
  int state;          /* lwIP's enum tcp_state, updated by ops6_poll() */
  uint32_t rcv_nxt;   /* updated by ops6_poll() */
  uint8_t rx[256];    /* the first bytes received */
  unsigned rx_len;    /* bytes received (also beyond rx[]) */
  int err;            /* 1 once connected; lwIP's err_t (< 0) from the err callback; 0 before */
  unsigned err_core;  /* the worker that ran the err or connected callback */
};

/* A tracked active open (inc__tcp_connect()) from this worker to
 * remote:rport. Returns 0 or a negative errno. */
int ops6_open(struct inc_worker *w, const uint8_t remote[16], uint16_t rport, struct ops6_conn *c);

/* Listens on [::]:port on this worker; accepted connections stay open and
 * their data is taken and dropped. Returns 0 or a negative errno. */
int ops6_listen(struct inc_worker *w, uint16_t port);

/* Refreshes c->state, snd_nxt and rcv_nxt from its pcb (if lwIP still has
 * it). Returns c->err. */
int ops6_poll(struct inc_worker *w, struct ops6_conn *c);

/* Aborts c's pcb if lwIP still has it. Returns 0. */
int ops6_abort(struct inc_worker *w, struct ops6_conn *c);

/* The owner of a TCP flow of this stack, or a negative errno. */
int ops6_owner(struct inc_worker *w, const uint8_t local[16], uint16_t lport, const uint8_t remote[16],
               uint16_t rport);

/* Builds a TCP segment from src:sport to dst:dport (our address) with
 * payload_len pattern bytes, as Ethernet frames addressed to our MAC, and
 * gives them to this worker's receive path (inc__steer_rx()) as if its queue
 * had received them. fragments: 0 for one packet, or 2 for two IPv6
 * fragments (the first carries the TCP header and 4 payload bytes).
 * Returns 0 or a negative errno. */
int ops6_inject_tcp(struct inc_worker *w, const uint8_t src[16], uint16_t sport, const uint8_t dst[16],
                    uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, unsigned payload_len,
                    unsigned fragments);

/* Gives this worker an ICMPv6 error (type, code) from router to our address
 * local, quoting a TCP segment local:lport -> remote:rport (one we would
 * have sent). Returns 0 or a negative errno. */
int ops6_inject_icmp_error(struct inc_worker *w, uint8_t type, uint8_t code, const uint8_t router[16],
                           const uint8_t local[16], uint16_t lport, const uint8_t remote[16], uint16_t rport);

/* ---- UDP ---- */

/* A connected UDP pcb and what came back to it (owner-only fields). */
struct ops6_udp {
  struct udp_pcb *pcb;
  uint16_t lport;
  unsigned opener;     /* the worker that opened it */
  unsigned rx_ok;      /* datagrams back, every byte as sent */
  unsigned rx_bad;     /* datagrams back with a wrong length or byte */
  unsigned rx_elsewhere; /* its callback ran on another worker */
};

/* Binds an echo pcb on [::]:port on this worker: every datagram goes back
 * to its sender, copied. *out: the pcb (close it with ops6_udp_close()).
 * Returns 0 or a negative errno. */
int ops6_udp_echo(struct inc_worker *w, uint16_t port, struct udp_pcb **out);

/* udp_connect() of a new IPv6 pcb to remote:rport (the stack's port hook
 * chooses the ephemeral port). Returns 0 or a negative errno. */
int ops6_udp_open(struct inc_worker *w, const uint8_t remote[16], uint16_t rport, struct ops6_udp *u);

/* Sends one datagram of len pattern bytes (pattern of u's port). Returns 0
 * or a negative errno. */
int ops6_udp_send(struct inc_worker *w, struct ops6_udp *u, unsigned len);

/* Removes a UDP pcb of this worker. Returns 0. */
int ops6_udp_close(struct inc_worker *w, struct udp_pcb *pcb);

/* IPv6 fragments this worker's lwIP received (lwIP's ip6_frag.recv). */
int ops6_frags_received(struct inc_worker *w);

/* lwIP's neighbour cache state of addr on this worker (enum
 * nd6_neighbor_cache_entry_state: 0 none, 1 incomplete, 2 reachable, ...). */
int ops6_neighbor_state(struct inc_worker *w, const uint8_t addr[16]);

/* Is addr (zone-less) in this worker's default router list? 1 or 0. */
int ops6_is_router(struct inc_worker *w, const uint8_t addr[16]);

#ifdef __cplusplus
}
#endif

#endif
