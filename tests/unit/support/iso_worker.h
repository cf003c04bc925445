/*
 * iso_worker: N threads, each with its own lwIP instance, joined in pairs
 * (0-1, 2-3, ...) by memlinks, running xfer transfers both ways (test support
 * for tests/unit/lwip_isolation_test.cc). The threads, rings and lwIP
 * instances live in iso_run(); the caller gets one result per thread.
 */
#ifndef INC_TEST_ISO_WORKER_H
#define INC_TEST_ISO_WORKER_H

#include <stdint.h>

#include "lwip/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

struct iso_params {
  unsigned threads;              /* even, at most 254 */
  unsigned transfers_per_thread; /* each thread sends this many and receives this many */
  uint32_t bytes;                /* payload per transfer */
  unsigned stall_ms;             /* no progress for this long = stalled */
};

struct iso_result {
  int init_rc, start_rc, stalled;
  uint64_t finished_ns; /* CLOCK_MONOTONIC when this thread's transfers were all done */
  uintptr_t stats_addr, active_pcbs_addr; /* where this thread's lwIP state lives */
  unsigned max_netifs, foreign_netif, foreign_pcbs, pcb_checks;
  struct stats_ stats; /* the instance's lwip_stats at the end */
  unsigned memp_used_after_stop[4]; /* TCP_PCB, TCP_PCB_LISTEN, TCP_SEG, PBUF_POOL */
  uint64_t link_rx_ipv4, link_rx_arp, link_tx_dropped, link_rx_dropped;
  uint64_t verified_bytes;
  unsigned out_complete, in_complete, errors, corrupt, wrong_peer;
};

/* Runs the threads to completion. results: params->threads entries.
 * Returns 0, or -1 if the setup itself failed (bad params, no memory). */
int iso_run(const struct iso_params *params, struct iso_result *results);

#ifdef __cplusplus
}
#endif

#endif
