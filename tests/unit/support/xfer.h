/*
 * xfer: verified bulk TCP transfers on lwIP's raw API (test support).
 *
 * A node runs on the thread that owns an lwIP instance. It listens on a port
 * and opens n_out connections to a peer node; each connection carries one
 * transfer: a 4-byte id, then `bytes` bytes of a pattern that depends on the
 * id and the offset, so that a byte from the wrong stream, a lost, duplicated
 * or reordered byte is caught. The receiving node verifies every byte.
 */
#ifndef INC_TEST_XFER_H
#define INC_TEST_XFER_H

#include <stdint.h>

#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "xfer_pattern.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XFER_MAX_CONNS 512

struct tcp_pcb;
struct xfer_node;

/* Optional ways for a multi-core stack to take part (all may be NULL). */
struct xfer_ops {
  /* opens an active connection instead of tcp_connect() (returns 0 or < 0) */
  int (*connect)(void *ctx, struct tcp_pcb *pcb, const ip_addr_t *peer, uint16_t port,
                 err_t (*connected)(void *arg, struct tcp_pcb *pcb, err_t err));
  /* called with the pcb about to listen, before tcp_listen() */
  void (*listening)(void *ctx, struct tcp_pcb *pcb);
  /* the core running the code now: each callback checks it is the connection's */
  unsigned (*current_core)(void *ctx);
  void *ctx;
};

struct xfer_conn {
  struct xfer_node *node;
  struct tcp_pcb *pcb;
  uint32_t id;
  uint64_t done_bytes; /* sent (out) or received and verified (in), id included */
  uint8_t id_bytes[4];
  unsigned core; /* the core that opened or accepted it */
  int connected;
  int closed;
  int complete;
};

struct xfer_node {
  ip_addr_t peer;
  uint16_t port;
  uint32_t bytes;       /* payload per transfer */
  unsigned n_out;       /* transfers this node sends */
  unsigned n_in_expect; /* transfers this node expects to receive (0: any) */
  unsigned open_batch;  /* connections opened per xfer_poll() (0: all at start) */
  unsigned n_opened;
  uint32_t id_base;
  struct xfer_ops ops;
  struct tcp_pcb *listener;
  struct xfer_conn out[XFER_MAX_CONNS];
  struct xfer_conn in[XFER_MAX_CONNS];
  unsigned n_in;
  unsigned out_connected, out_complete, in_complete;
  unsigned errors;          /* connection errors (RST, abort, refused) */
  unsigned corrupt;         /* transfers with a wrong byte, id or length */
  unsigned wrong_peer;      /* accepted connections not from the peer */
  unsigned wrong_core;      /* callbacks that ran on a core that does not own the connection */
  uint64_t verified_bytes;  /* payload bytes verified on receive */
  uint8_t pattern[XFER_PATTERN_LEN];
};

/* On the owner thread of the instance: listen on port, connect n_out
 * transfers to peer:port with ids id_base .. id_base + n_out - 1.
 * Returns 0 or a negative lwIP err_t. */
int xfer_start(struct xfer_node *n, const ip_addr_t *peer, uint16_t port, uint32_t bytes,
               unsigned n_out, unsigned n_in_expect, uint32_t id_base);

/* As xfer_start(), with ops and connections opened open_batch at a time by
 * xfer_poll() (open_batch 0: all now). */
int xfer_start_ops(struct xfer_node *n, const ip_addr_t *peer, uint16_t port, uint32_t bytes,
                   unsigned n_out, unsigned n_in_expect, uint32_t id_base, const struct xfer_ops *ops,
                   unsigned open_batch);

/* Opens up to open_batch more connections. Returns how many (or < 0 on error). */
int xfer_poll(struct xfer_node *n);

/* All outgoing transfers sent and closed, all expected incoming verified. */
int xfer_finished(const struct xfer_node *n);

/* Closes the listener and aborts every connection still open. */
void xfer_stop(struct xfer_node *n);

#ifdef __cplusplus
}
#endif

#endif
