/* Worker-side reads for the API tests (api_test_ops.c). */
#ifndef INC_API_TEST_OPS_H
#define INC_API_TEST_OPS_H

#include "inception/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* arg: uint64_t[2] <- payload bytes port 0's netif copied / sent by
 * reference (zero copy) so far. Returns 0. */
int api_ops_tx_payload(struct inc_worker *w, void *arg);

#ifdef __cplusplus
}
#endif

#endif
