/*
 * The echo service on the per-core raw API (inception/raw.h), zero-copy
 * both ways: every worker listens on the port (IPv4 and IPv6); each
 * connection's received buffers (struct inc_buf: the packet memory the NIC
 * wrote) are written back by reference (INC_RAW_WRITE_NOCOPY) and freed once
 * the peer acknowledged them; only then are their bytes reported consumed,
 * so the receive window closes while the echo is behind and the sender waits
 * (flow control end to end). At the peer's end of stream, once everything is
 * queued, the connection is closed.
 *
 * Thread: the callbacks run on the workers; ex_echo_totals() on any thread.
 */
#ifndef INC_EX_ECHO_H
#define INC_EX_ECHO_H

#include <stdint.h>

#include "inception/stack.h"

struct ex_echo;

struct ex_echo_totals {
  uint64_t accepted; /* connections accepted */
  uint64_t finished; /* connections that ended in order (FIN, all echoed) */
  uint64_t failed;   /* connections that ended with an error (reset, abort) */
  uint64_t bytes;    /* bytes echoed */
  uint64_t refused;  /* connections refused (no state left) */
};

/** A server for `workers` workers on port; its callbacks go into cb (the
 * stack's worker_start listens, worker_stop ends it). NULL on no memory. */
struct ex_echo *ex_echo_new(unsigned workers, uint16_t port, struct inc_stack_callbacks *cb);
/** Listeners that failed to open (worker_start reports why on stderr). */
unsigned ex_echo_listen_errors(const struct ex_echo *s);
void ex_echo_totals(const struct ex_echo *s, struct ex_echo_totals *t);
/** Frees it, after the stack stopped. */
void ex_echo_free(struct ex_echo *s);

#endif
