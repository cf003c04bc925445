/*
 * Worker-side operations of the filter tests (C: they touch lwIP). Each runs
 * on a worker, through inc_stack_call_run() from the test's thread, except
 * the datagram pattern helpers (any thread). Addresses: family 4 (4 bytes)
 * or 6 (16 bytes), network byte order; ports in host order; port 0 of the
 * stack only.
 */
#ifndef INC_TEST_API_FILTER_OPS_H
#define INC_TEST_API_FILTER_OPS_H

#include <stdint.h>

#include "inception/filter.h"
#include "inception/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct udp_pcb;
struct tcp_pcb;

/* ---- datagrams: 4-byte id, 4-byte length, then a pattern of the id ------ */

/* Fills buf (len >= 8) with datagram id's bytes. */
void afo_fill(uint8_t *buf, uint32_t len, uint32_t id);
/* The id of a datagram whose bytes are all right, or -1. */
int64_t afo_check(const uint8_t *buf, uint32_t len);

/* A UDP sink: one pcb per worker bound to (any, port); counts datagrams by id
 * (all counters written by the workers with __atomic, read by anyone). */
#define AFO_MAX_IDS 4096
struct afo_sink {
  uint16_t port;
  struct udp_pcb *pcb[INC_STACK_MAX_WORKERS];
  uint32_t seen[AFO_MAX_IDS]; /* datagrams received per id */
  uint64_t got;               /* datagrams */
  uint64_t bad;               /* datagrams whose bytes were wrong */
};
int afo_sink_open(struct inc_worker *w, struct afo_sink *s);
int afo_sink_close(struct inc_worker *w, struct afo_sink *s);

/* Sends datagram id of len bytes (>= 8) from sport to dst:dport through the
 * stack's port 0 (IPv6 link-local destinations get the netif's zone). */
struct afo_dgram {
  uint8_t family;
  uint8_t dst[16];
  uint16_t sport, dport;
  uint32_t id, len;
};
int afo_send(struct inc_worker *w, const struct afo_dgram *d);

/* Hands an IP packet (bytes from the IP header on) to the worker's lwIP
 * instance as if port 0 had received it (ip_input(): the IP input hooks, so
 * the filters, run first). Returns 0 or -ENOMEM. */
int afo_inject(struct inc_worker *w, const uint8_t *ip, uint32_t len);

/* Checks a datagram payload chain taken by a consumer (inc_filter_pkt_take)
 * and frees it (lwIP's pbuf_free: an inc_buf is a pbuf). Returns its id, or
 * -1 (wrong bytes, or the chain's total is not the datagram's length). */
int64_t afo_buf_check_free(struct inc_worker *w, struct inc_buf *b);

/* The worker's IPv6 link-local address of port 0; returns 1 once it is
 * valid (duplicate address detection done), 0 while tentative, -ENOENT. */
int afo_linklocal(struct inc_worker *w, uint8_t out[16]);

/* ---- TCP ------------------------------------------------------------------ */

/* A listener per worker on (any, port), as the raw API's would be: its accept
 * callback calls inc__filter_tcp_accept() first; what the filters leave to it
 * gets "L" and a close. */
struct afo_listener {
  uint16_t port;
  struct tcp_pcb *pcb[INC_STACK_MAX_WORKERS];
  uint64_t accepted; /* connections the listener got */
  uint64_t filtered; /* connections a consumer took */
};
int afo_listen(struct inc_worker *w, struct afo_listener *l);
int afo_listen_close(struct inc_worker *w, struct afo_listener *l);

/* A TCP-accept consumer callback: answers "C" and closes. arg: a uint64_t
 * counter (atomic add). */
int afo_tcp_consume(void *arg, const struct inc_filter_pkt *pkt, struct inc_raw_conn *conn);

/* A client connection: its first received byte and its end. */
struct afo_client {
  struct tcp_pcb *pcb;
  uint16_t lport;
  int first;  /* first byte received, -1 before */
  int state;  /* 0 open, 1 peer closed (FIN), 2 error */
};
int afo_connect(struct inc_worker *w, uint8_t family, const uint8_t dst[16], uint16_t dport, struct afo_client *c);

#ifdef __cplusplus
}
#endif

#endif
