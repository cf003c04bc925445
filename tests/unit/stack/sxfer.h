/*
 * sxfer: verified TCP transfers on a multi-core Inception stack (test
 * support). Each worker runs an xfer node (support/xfer.h): it listens on the
 * same port (listens are replicated on every core), opens its share of the
 * outgoing transfers through the stack's steering-aware connect, verifies
 * every byte it receives, and checks that every callback of a connection runs
 * on the core that owns it.
 */
#ifndef INC_TEST_SXFER_H
#define INC_TEST_SXFER_H

#include <stdint.h>

#include "inception/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sxfer;

struct sxfer_params {
  unsigned workers;
  uint32_t peer_ip4;     /* network byte order (when peer_v6 is 0) */
  int peer_v6;           /* the peer is peer_ip6 (listeners are then IPv6 only) */
  uint8_t peer_ip6[16];  /* network byte order */
  uint16_t port;
  uint32_t bytes;        /* per transfer */
  unsigned out_per_worker;
  unsigned open_batch;   /* connections each worker opens per loop */
  uint32_t id_base;
  int tracked;           /* 0: plain tcp_connect/listen (no flow table entries) */
};

/* Per-worker results, read after the stack stopped. */
struct sxfer_result {
  unsigned out_opened, out_complete, in_accepted, in_complete;
  unsigned errors, corrupt, wrong_core, wrong_peer;
  uint64_t verified_bytes;
};

/* Allocates the test's state and fills cb (worker_start/poll/stop). */
struct sxfer *sxfer_new(const struct sxfer_params *p, struct inc_stack_callbacks *cb);
void sxfer_free(struct sxfer *x);

/* Progress, readable from any thread while the stack runs. */
uint64_t sxfer_out_connected(const struct sxfer *x);
uint64_t sxfer_out_complete(const struct sxfer *x);
uint64_t sxfer_in_complete(const struct sxfer *x);
uint64_t sxfer_progress(const struct sxfer *x); /* grows while anything moves */
unsigned sxfer_failed_starts(const struct sxfer *x);

/* After inc_stack_stop(). */
void sxfer_result_get(const struct sxfer *x, unsigned worker, struct sxfer_result *out);

#ifdef __cplusplus
}
#endif

#endif
