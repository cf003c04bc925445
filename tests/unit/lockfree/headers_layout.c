/*
 * The C side of lockfree_headers_test: sizes and field offsets of every public
 * lockfree struct, as a strict C11 compiler lays them out (compiled with
 * -std=c11 -pedantic-errors). The C++ side computes the same table; the two
 * must agree, or a C++ caller would not be talking to the same library.
 */
#include <stddef.h>

#include "headers_layout.h"
#include "inception/chan.h"
#include "inception/flow.h"
#include "inception/listen.h"
#include "inception/lockfree_opts.h"
#include "inception/pool.h"
#include "inception/rcu.h"

#define LF_LAYOUT_TABLE(X)                            \
  X(sizeof(struct inc_msg))                           \
  X(offsetof(struct inc_msg, type))                   \
  X(offsetof(struct inc_msg, src))                    \
  X(offsetof(struct inc_msg, arg))                    \
  X(offsetof(struct inc_msg, ptr))                    \
  X(sizeof(struct inc_chan_config))                   \
  X(offsetof(struct inc_chan_config, app_ring_size))  \
  X(sizeof(struct inc_chan_stats))                    \
  X(offsetof(struct inc_chan_stats, capacity))        \
  X(sizeof(struct inc_flow_key))                      \
  X(offsetof(struct inc_flow_key, port_id))           \
  X(offsetof(struct inc_flow_key, remote_port))       \
  X(offsetof(struct inc_flow_key, local_addr))        \
  X(offsetof(struct inc_flow_key, remote_addr))       \
  X(sizeof(struct inc_flow_config))                   \
  X(offsetof(struct inc_flow_config, hash))           \
  X(offsetof(struct inc_flow_config, seed))           \
  X(sizeof(struct inc_flow_stats))                    \
  X(sizeof(struct inc_listen_config))                 \
  X(sizeof(struct inc_pool_config))                   \
  X(offsetof(struct inc_pool_config, count))          \
  X(sizeof(struct inc_pool_stats))                    \
  X(offsetof(struct inc_pool_stats, capacity))        \
  X(INC_LF_MAX_WORKERS)                               \
  X(INC_CHAN_SRC_APP)

#define LF_LAYOUT_ENTRY(e) {#e, (e)},

static const struct lf_layout_entry lf_c_table[] = {LF_LAYOUT_TABLE(LF_LAYOUT_ENTRY)};

size_t lf_c_layout(const struct lf_layout_entry **out) {
  *out = lf_c_table;
  return sizeof(lf_c_table) / sizeof(lf_c_table[0]);
}

/* The builders are static inline: the C result for the C++ side to compare. */
void lf_c_flow_key_v4(struct inc_flow_key *k) {
  inc_flow_key_v4(k, 6, 3, 0x0100000au, 80, 0x0200000au, 4242);
}

void lf_c_msg_completion(struct inc_msg *m, void *body) { *m = inc_msg_completion(body, -5); }
