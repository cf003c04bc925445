/*
 * The per-core raw API (include/inception/raw.h): each worker's state, the
 * all-workers listen helpers, received buffers. TCP is raw_tcp.c, UDP
 * raw_udp.c.
 *
 * A worker's state is found through a thread-local pointer (struct
 * inc_worker is stack/'s, with no slot for api/; lwIP's own state is
 * thread-local the same way, lwip-hooks/src/instance.c). It remembers the
 * lwIP instance it was made for, so that a stack restarted on the same lcore
 * never inherits a previous run's state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inception/stack_call.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "raw_priv.h"
#include "stack_priv.h"

#define INC_TLS __thread __attribute__((tls_model("initial-exec")))

/* the calling worker's raw API state (see above) */
static INC_TLS struct inc__raw_core *raw_self;
/* the raw API's tcp ext arg slot on this thread (lwIP hands out each slot
 * once per thread; a later instance on the thread reuses its state) */
static INC_TLS int raw_slot = -1;

#define RAW_MAX_OBJS 65536u
#define RAW_DEF_TCP (MEMP_NUM_TCP_PCB + MEMP_NUM_TCP_PCB_LISTEN)
#define RAW_DEF_UDP MEMP_NUM_UDP_PCB

#define ALIGN64(x) (((x) + 63u) & ~(size_t)63u)

int inc__raw_slot(void)
{
  if (raw_slot < 0) {
    /* the stack's flow tracking took its slot at worker start */
    (void)inc_lwip_instance_ext_arg_id();
    raw_slot = tcp_ext_arg_alloc_id();
  }
  return raw_slot < LWIP_TCP_PCB_NUM_EXT_ARGS ? raw_slot : -ENOSPC;
}

/* An lwIP instance's identity: its random ISN key, drawn at each init. */
static uint64_t inst_key(const struct inc_worker *w)
{
  return w->lwip.isn_key[0] ^ (w->lwip.isn_key[1] << 1);
}

struct inc__raw_core *inc__raw_self(void)
{
  return raw_self;
}

static void core_free(struct inc__raw_core *core)
{
  free(core->mem);
  free(core);
}

static int core_new(struct inc_worker *w, const struct inc_raw_config *cfg, struct inc__raw_core **out)
{
  struct inc_pool_config tc, uc;
  struct inc__raw_core *core;
  size_t tlen, ulen;
  int slot = inc__raw_slot();

  if (slot < 0) {
    return slot;
  }
  memset(&tc, 0, sizeof(tc));
  memset(&uc, 0, sizeof(uc));
  tc.name = "raw_tcp";
  tc.obj_size = sizeof(struct inc__raw_tcp);
  tc.count = cfg != NULL && cfg->tcp_conns != 0 ? cfg->tcp_conns : RAW_DEF_TCP;
  uc.name = "raw_udp";
  uc.obj_size = sizeof(struct inc_raw_udp);
  uc.count = cfg != NULL && cfg->udp_socks != 0 ? cfg->udp_socks : RAW_DEF_UDP;
  if (tc.count > RAW_MAX_OBJS || uc.count > RAW_MAX_OBJS) {
    return -EINVAL;
  }
  tlen = ALIGN64(inc_pool_footprint(&tc));
  ulen = ALIGN64(inc_pool_footprint(&uc));
  if (tlen == 0 || ulen == 0) {
    return -EINVAL;
  }
  if (posix_memalign((void **)&core, 64, sizeof(*core)) != 0) {
    return -ENOMEM;
  }
  memset(core, 0, sizeof(*core));
  if (posix_memalign(&core->mem, 64, tlen + ulen) != 0) {
    free(core);
    return -ENOMEM;
  }
  if (inc_pool_init(&core->tcp_pool, core->mem, tlen, &tc) != 0 ||
      inc_pool_init(&core->udp_pool, (uint8_t *)core->mem + tlen, ulen, &uc) != 0) {
    core_free(core);
    return -EINVAL;
  }
  inc_pool_bind(core->tcp_pool);
  inc_pool_bind(core->udp_pool);
  core->w = w;
  core->inst_key = inst_key(w);
  core->slot = (uint8_t)slot;
  core->next_udp_port = (uint16_t)LWIP_RAND();
  *out = core;
  return 0;
}

/* The thread's state if it belongs to w's current lwIP instance; a state of
 * an earlier instance on this thread (its objects died with it) is freed. */
static struct inc__raw_core *current_core(struct inc_worker *w)
{
  struct inc__raw_core *core = raw_self;
  if (core != NULL && (core->w != w || core->inst_key != inst_key(w))) {
    core_free(core);
    raw_self = NULL;
    core = NULL;
  }
  return core;
}

struct inc__raw_core *inc__raw_core_of(struct inc_worker *w, int *rc)
{
  struct inc__raw_core *core = raw_self;
  if (core != NULL && core->w == w && core->inst_key == inst_key(w)) {
    /* the hot case: raw_self is this thread's, so w is too */
    if (core->finishing) {
      *rc = -ESHUTDOWN;
      return NULL;
    }
    return core;
  }
  if (w == NULL || inc_worker_self() != w) {
    *rc = -EPERM;
    return NULL;
  }
  core = current_core(w);
  if (core == NULL) {
    *rc = core_new(w, NULL, &core);
    if (*rc != 0) {
      return NULL;
    }
    raw_self = core;
  }
  return core;
}

int inc_raw_worker_init(struct inc_worker *w, const struct inc_raw_config *cfg)
{
  struct inc__raw_core *core;
  int rc;
  if (w == NULL || inc_worker_self() != w) {
    return -EPERM;
  }
  if (current_core(w) != NULL) {
    return -EEXIST;
  }
  rc = core_new(w, cfg, &core);
  if (rc == 0) {
    raw_self = core;
  }
  return rc;
}

int inc_raw_worker_fini(struct inc_worker *w)
{
  struct inc__raw_core *core;
  if (w == NULL || inc_worker_self() != w) {
    return -EPERM;
  }
  core = current_core(w);
  if (core == NULL) {
    return -ENOENT;
  }
  core->finishing = 1;
  inc__raw_tcp_fini(core);
  inc__raw_udp_fini(core);
  raw_self = NULL;
  core_free(core);
  return 0;
}

/* ---- listening on every worker ---------------------------------------------- */

struct listen_call {
  const struct inc_addr *local;
  uint16_t port;
  int backlog;
  const struct inc_raw_tcp_ops *ops;
  void *arg;
  struct inc_raw_conn *out;
};

static int listen_on(struct inc_worker *w, void *arg)
{
  struct listen_call *lc = (struct listen_call *)arg;
  return inc_raw_tcp_listen(w, lc->local, lc->port, lc->backlog, lc->ops, lc->arg, &lc->out);
}

static int close_on(struct inc_worker *w, void *arg)
{
  (void)w;
  return inc_raw_tcp_close((struct inc_raw_conn *)arg);
}

static int run_on(struct inc_chan_app *ep, unsigned w, inc_stack_call_fn fn, void *arg)
{
  struct inc_stack_call call;
  memset(&call, 0, sizeof(call));
  call.fn = fn;
  call.arg = arg;
  /* no time limit: call lives on this stack frame until its completion */
  return inc_stack_call_run(ep, w, &call, -1);
}

int inc_raw_tcp_close_all(struct inc_stack *s, struct inc_chan_app *ep, struct inc_raw_conn **listeners)
{
  unsigned i, n;
  int first = 0;
  if (s == NULL || ep == NULL || listeners == NULL) {
    return -EINVAL;
  }
  n = inc_stack_workers(s);
  for (i = 0; i < n; i++) {
    if (listeners[i] != NULL) {
      int rc = run_on(ep, i, close_on, listeners[i]);
      if (rc != 0 && first == 0) {
        first = rc;
      }
      listeners[i] = NULL;
    }
  }
  return first;
}

int inc_raw_tcp_listen_all(struct inc_stack *s, struct inc_chan_app *ep, const struct inc_addr *local,
                           uint16_t port, int backlog, const struct inc_raw_tcp_ops *ops, void *arg,
                           struct inc_raw_conn **out)
{
  unsigned i, n;
  if (s == NULL || ep == NULL || out == NULL) {
    return -EINVAL;
  }
  n = inc_stack_workers(s);
  for (i = 0; i < n; i++) {
    out[i] = NULL;
  }
  for (i = 0; i < n; i++) {
    struct listen_call lc;
    int rc;
    memset(&lc, 0, sizeof(lc));
    lc.local = local;
    lc.port = port;
    lc.backlog = backlog;
    lc.ops = ops;
    lc.arg = arg;
    rc = run_on(ep, i, listen_on, &lc);
    if (rc != 0) {
      inc_raw_tcp_close_all(s, ep, out);
      return rc;
    }
    out[i] = lc.out;
  }
  return 0;
}

/* ---- received buffers --------------------------------------------------------- */

void *inc_buf_data(const struct inc_buf *b)
{
  return b != NULL ? ((const struct pbuf *)b)->payload : NULL;
}

size_t inc_buf_len(const struct inc_buf *b)
{
  return b != NULL ? ((const struct pbuf *)b)->len : 0;
}

size_t inc_buf_total(const struct inc_buf *b)
{
  return b != NULL ? ((const struct pbuf *)b)->tot_len : 0;
}

struct inc_buf *inc_buf_next(const struct inc_buf *b)
{
  return b != NULL ? (struct inc_buf *)((const struct pbuf *)b)->next : NULL;
}

size_t inc_buf_copy(const struct inc_buf *b, size_t off, void *dst, size_t len)
{
  const struct pbuf *p = (const struct pbuf *)b;
  size_t done = 0;
  if (p == NULL || dst == NULL) {
    return 0;
  }
  /* lwIP's copy takes 16-bit lengths and offsets: walk to the offset first */
  while (p != NULL && off >= p->len) {
    off -= p->len;
    p = p->next;
  }
  while (p != NULL && done < len) {
    size_t n = p->len - off;
    if (n > len - done) {
      n = len - done;
    }
    memcpy((uint8_t *)dst + done, (const uint8_t *)p->payload + off, n);
    done += n;
    off = 0;
    p = p->next;
  }
  return done;
}

void inc_buf_free(struct inc_buf *b)
{
  if (b != NULL) {
    pbuf_free((struct pbuf *)b);
  }
}
