/*
 * Flow table internals shared by flow.c and flow_hash.c.
 */
#ifndef INC_FLOW_PRIV_H
#define INC_FLOW_PRIV_H

#include <string.h>

#include "inception/flow.h"

/* Keys compare as five 64-bit words (struct inc_flow_key has no padding). */
#define INC__FLOW_KEY_WORDS 5

static inline uint64_t inc__flow_word(const struct inc_flow_key *k, unsigned i) {
  uint64_t w;
  memcpy(&w, (const char *)k + 8 * i, sizeof(w));
  return w;
}

static inline int inc__flow_key_eq(const struct inc_flow_key *a, const struct inc_flow_key *b) {
  uint64_t d = 0;
  for (unsigned i = 0; i < INC__FLOW_KEY_WORDS; i++)
    d |= inc__flow_word(a, i) ^ inc__flow_word(b, i);
  return d == 0;
}

#endif /* INC_FLOW_PRIV_H */
