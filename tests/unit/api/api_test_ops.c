/*
 * Worker-side reads for the API tests (C: they touch the runtime's private
 * structures). Each runs on a worker through inc_stack_call_run().
 */
#include <stdint.h>

#include "api_test_ops.h"
#include "stack_priv.h"

int api_ops_tx_payload(struct inc_worker *w, void *arg)
{
  uint64_t *out = (uint64_t *)arg;
  /* the netif's counters are written by this very thread */
  out[0] = w->nif[0].cnt.tx_payload_copied;
  out[1] = w->nif[0].cnt.tx_payload_ref;
  out[2] = w->nif[0].cnt.tx_small_copied;
  return 0;
}
