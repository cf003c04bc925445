/* Worker-side reads for the API tests (api_test_ops.c). */
#ifndef INC_API_TEST_OPS_H
#define INC_API_TEST_OPS_H

#include "inception/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* arg: uint64_t[3] <- payload bytes port 0's netif copied (they were in no
 * mbuf) / sent by reference (zero copy) / copied as part of a frame short
 * enough to copy whole (at most 128 payload bytes) so far. Returns 0. */
int api_ops_tx_payload(struct inc_worker *w, void *arg);

#ifdef __cplusplus
}
#endif

#endif
