/*
 * Shared by headers_layout.c (C) and lockfree_headers_test.cc (C++).
 */
#ifndef INC_LF_HEADERS_LAYOUT_H
#define INC_LF_HEADERS_LAYOUT_H

#include <stddef.h>

#include "inception/chan.h"
#include "inception/flow.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lf_layout_entry {
  const char *what;
  size_t value;
};

size_t lf_c_layout(const struct lf_layout_entry **out);
void lf_c_flow_key_v4(struct inc_flow_key *k);
void lf_c_msg_completion(struct inc_msg *m, void *body);

#ifdef __cplusplus
}
#endif

#endif
