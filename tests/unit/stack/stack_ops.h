/*
 * Worker-side operations for stack tests (C: they touch lwIP). Each runs on a
 * worker, typically through inc_stack_call_run() from the test's thread.
 */
#ifndef INC_TEST_STACK_OPS_H
#define INC_TEST_STACK_OPS_H

#include <stdint.h>

#include "inception/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tcp_pcb;

/* A tracked active open from this worker to remote:rport (addresses network
 * order). The connection attempt stays in SYN_SENT (nobody answers).
 * Returns 0 and the pcb and its local port, or a negative errno. */
int ops_open_tracked(struct inc_worker *w, uint32_t remote, uint16_t rport, struct tcp_pcb **pcb,
                     uint16_t *lport);

/* Aborts a pcb of this worker (its flow leaves the table). Returns 0. */
int ops_abort(struct inc_worker *w, struct tcp_pcb *pcb);

/* Hands a crafted ACK of flow (local:lport <- remote:rport) to worker dst as
 * if it had landed here: the steering path. Returns 0 or a negative errno. */
int ops_handoff_ack(struct inc_worker *w, unsigned dst, uint32_t local, uint16_t lport, uint32_t remote,
                    uint16_t rport);

/* The owner of a flow of this stack, or a negative errno. */
int ops_owner(struct inc_worker *w, uint32_t local, uint16_t lport, uint32_t remote, uint16_t rport);

/* SYN flood from a worker's netif (port 0): sends up to n SYNs from random
 * sources in 198.19.0.0/16 to dst:dport (dst_mac: the target's MAC).
 * Returns how many the driver took. */
unsigned ops_syn_flood(struct inc_worker *w, const uint8_t dst_mac[6], uint32_t dst, uint16_t dport, unsigned n,
                       uint64_t *rng);

#ifdef __cplusplus
}
#endif

#endif
