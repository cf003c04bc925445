/*
 * The per-core raw API's TCP (include/inception/raw.h): lwIP's raw TCP
 * callbacks wrapped in trampolines that turn err_t into errno, pbufs into
 * struct inc_buf, and keep the handle's lifetime rules.
 *
 * Lifetime of a connection's state (struct inc__raw_tcp, api/raw_priv.h):
 *   - APP set: the application holds the handle. lwIP's end of the pcb is
 *     seen twice: its error callback (ERR_RST/ERR_CLSD before tcp_free(),
 *     ERR_ABRT after it) and the ext arg slot's destroy callback (inside
 *     tcp_free()); whichever comes first unhooks the other, the error
 *     callback ends the state.
 *   - the application closed it while no-copy bytes were unacknowledged:
 *     the state stays on the pcb (sent trampoline and slot only) until the
 *     ack (sent) or the pcb's end (destroy), then the release callback runs.
 *   - otherwise close and abort unhook everything from the pcb and end the
 *     state at once.
 * A callback that closes or aborts its own connection makes the trampoline
 * return ERR_ABRT when lwIP must not touch the pcb again (cb_pcb/cb_aborted).
 *
 * This file: states, trampolines, listen/connect/set; raw_tcp_io.c: data,
 * ending, options, addresses.
 */
#include <errno.h>
#include <string.h>

#include "api_priv.h"
#include "filter_priv.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "raw_priv.h"
#include "stack_priv.h"

static err_t recv_tramp(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t sent_tramp(void *arg, struct tcp_pcb *pcb, u16_t len);
static err_t poll_tramp(void *arg, struct tcp_pcb *pcb);
static err_t connected_tramp(void *arg, struct tcp_pcb *pcb, err_t err);
static err_t accept_tramp(void *arg, struct tcp_pcb *newpcb, err_t err);
static void err_tramp(void *arg, err_t err);
static void destroyed(u8_t id, void *data);

static const struct tcp_ext_arg_callbacks slot_cbs = {destroyed, NULL};

/* ---- states ---------------------------------------------------------------- */

static struct inc__raw_tcp *st_new(struct inc__raw_core *core)
{
  struct inc__raw_tcp *st = (struct inc__raw_tcp *)inc_pool_alloc(core->tcp_pool);
  if (st == NULL) {
    return NULL;
  }
  memset(st, 0, sizeof(*st));
  st->core = core;
  st->flags = INC__RT_LIVE;
  st->next = core->tcp_live;
  if (st->next != NULL) {
    st->next->prev = st;
  }
  core->tcp_live = st;
  return st;
}

void inc__raw_st_free(struct inc__raw_tcp *st)
{
  struct inc__raw_core *core = st->core;
  if (st->prev != NULL) {
    st->prev->next = st->next;
  } else {
    core->tcp_live = st->next;
  }
  if (st->next != NULL) {
    st->next->prev = st->prev;
  }
  st->flags = 0;
  inc_pool_free(core->tcp_pool, st);
}

/* The end of a connection's state: freed, then its release callback. */
void inc__raw_st_finish(struct inc__raw_tcp *st)
{
  const struct inc_raw_tcp_ops *ops = st->ops;
  void *arg = st->arg;
  int listener = (st->flags & INC__RT_LISTEN) != 0;
  inc__raw_st_free(st);
  if (!listener && ops != NULL && ops->release != NULL) {
    ops->release(arg);
  }
}

static void attach(struct inc__raw_tcp *st, struct tcp_pcb *pcb)
{
  st->pcb = pcb;
  st->handle = pcb;
  tcp_arg(pcb, st);
  tcp_recv(pcb, recv_tramp);
  tcp_sent(pcb, sent_tramp);
  tcp_err(pcb, err_tramp);
  tcp_poll(pcb, poll_tramp, 1); /* lwIP's slow timer: every 500 ms */
  tcp_ext_arg_set_callbacks(pcb, st->core->slot, &slot_cbs);
  tcp_ext_arg_set(pcb, st->core->slot, st);
}

/* lwIP will not call the raw API for this pcb again. */
void inc__raw_detach(struct inc__raw_tcp *st)
{
  struct tcp_pcb *pcb = st->pcb;
  if (pcb == NULL) {
    return;
  }
  tcp_arg(pcb, NULL);
  if (!(st->flags & INC__RT_LISTEN)) {
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_poll(pcb, NULL, 0);
  }
  tcp_ext_arg_set(pcb, st->core->slot, NULL);
  st->pcb = NULL;
}

/* The state of handle c on this worker (NULL: *rc). May be NULL with *rc 0:
 * a pcb without raw API state (a consumer filter's new connection). */
struct inc__raw_tcp *inc__raw_state_of(const struct inc_raw_conn *c, struct inc__raw_core **corep, int *rc)
{
  struct inc__raw_core *core = inc__raw_self();
  const struct tcp_pcb *pcb = (const struct tcp_pcb *)c;
  struct inc__raw_tcp *st;
  *rc = 0;
  *corep = core;
  if (c == NULL) {
    *rc = -EINVAL;
    return NULL;
  }
  if (core == NULL) {
    *rc = -EPERM; /* not a worker, or one that never used this API */
    return NULL;
  }
  if (pcb == core->err_handle) {
    *rc = -ENOTCONN; /* from its own error callback: lwIP freed it */
    return NULL;
  }
  /* read directly: lwIP's accessor asserts the owner, we answer -EPERM */
  st = (struct inc__raw_tcp *)pcb->ext_args[core->slot].data;
  if (st != NULL && st->core != core) {
    *rc = -EPERM;
    return NULL;
  }
  if (st != NULL && !(st->flags & INC__RT_APP)) {
    *rc = -ENOTCONN; /* released already */
    return NULL;
  }
  return st;
}

/* a live connection (not a listener) of the caller's worker */
struct inc__raw_tcp *inc__raw_conn_of(const struct inc_raw_conn *c, int *rc)
{
  struct inc__raw_core *core;
  struct inc__raw_tcp *st = inc__raw_state_of(c, &core, rc);
  if (st == NULL) {
    if (*rc == 0) {
      *rc = -ENOTCONN; /* no state: call inc_raw_tcp_set() first */
    }
    return NULL;
  }
  if ((st->flags & INC__RT_LISTEN) || st->pcb == NULL) {
    *rc = -ENOTCONN;
    return NULL;
  }
  return st;
}

/* ---- callbacks around the application's ------------------------------------- */

struct frame {
  struct tcp_pcb *pcb;
  int aborted;
};

static void cb_enter(struct inc__raw_core *core, struct tcp_pcb *pcb, struct frame *f)
{
  f->pcb = core->cb_pcb;
  f->aborted = core->cb_aborted;
  core->cb_pcb = pcb;
  core->cb_aborted = 0;
}

/* Returns 1 if the callback aborted its pcb (lwIP must get ERR_ABRT). */
static int cb_leave(struct inc__raw_core *core, struct frame *f)
{
  int aborted = core->cb_aborted;
  core->cb_pcb = f->pcb;
  core->cb_aborted = f->aborted;
  return aborted;
}

/* tcp_abort(pcb) is about to run: if a callback of pcb is running, its
 * trampoline must return ERR_ABRT */
void inc__raw_note_abort(struct inc__raw_core *core, struct tcp_pcb *pcb)
{
  if (core->cb_pcb == pcb) {
    core->cb_aborted = 1;
  }
}

/* Is st still the application's connection on pcb (after a callback that
 * may have closed it)? */
static int still_app(struct inc__raw_core *core, struct tcp_pcb *pcb, const struct inc__raw_tcp *st)
{
  return pcb->ext_args[core->slot].data == st && (st->flags & INC__RT_APP);
}

static err_t recv_tramp(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct inc__raw_tcp *st = (struct inc__raw_tcp *)arg;
  struct inc__raw_core *core;
  struct frame f;
  (void)err; /* always ERR_OK in lwIP 2.1 */
  if (st == NULL || !(st->flags & INC__RT_APP)) {
    if (p != NULL) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  core = st->core;
  if (p == NULL) {
    st->flags |= INC__RT_EOF;
    if (st->ops != NULL && st->ops->recv != NULL) {
      cb_enter(core, pcb, &f);
      st->ops->recv(st->arg, (struct inc_raw_conn *)pcb, NULL);
      if (cb_leave(core, &f)) {
        return ERR_ABRT;
      }
    }
    if (still_app(core, pcb, st) && (st->flags & INC__RT_SHUT_WR)) {
      inc__raw_conn_close(st); /* both directions finished: released (raw.h) */
    }
    return ERR_OK;
  }
  if (st->ops == NULL || st->ops->recv == NULL) {
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
  }
  st->unrecved += p->tot_len;
  cb_enter(core, pcb, &f);
  st->ops->recv(st->arg, (struct inc_raw_conn *)pcb, (struct inc_buf *)p);
  return cb_leave(core, &f) ? ERR_ABRT : ERR_OK;
}

static err_t sent_tramp(void *arg, struct tcp_pcb *pcb, u16_t len)
{
  struct inc__raw_tcp *st = (struct inc__raw_tcp *)arg;
  struct inc__raw_core *core;
  struct frame f;
  if (st == NULL) {
    return ERR_OK;
  }
  if ((st->flags & INC__RT_NOCOPY) && !TCP_SEQ_LT(pcb->lastack, st->nocopy_end)) {
    st->flags &= ~INC__RT_NOCOPY; /* every no-copy byte is acknowledged */
  }
  if (!(st->flags & INC__RT_APP)) {
    /* closed by the application, waiting for its no-copy bytes */
    if (!(st->flags & INC__RT_NOCOPY)) {
      inc__raw_detach(st);
      inc__raw_st_finish(st);
    }
    return ERR_OK;
  }
  if (st->ops == NULL || st->ops->sent == NULL) {
    return ERR_OK;
  }
  /* the callback may release st: keep the core */
  core = st->core;
  cb_enter(core, pcb, &f);
  st->ops->sent(st->arg, (struct inc_raw_conn *)pcb, len);
  return cb_leave(core, &f) ? ERR_ABRT : ERR_OK;
}

static err_t poll_tramp(void *arg, struct tcp_pcb *pcb)
{
  struct inc__raw_tcp *st = (struct inc__raw_tcp *)arg;
  struct inc__raw_core *core;
  struct frame f;
  if (st == NULL || !(st->flags & INC__RT_APP) || st->ops == NULL || st->ops->poll == NULL) {
    return ERR_OK;
  }
  core = st->core; /* the callback may release st */
  cb_enter(core, pcb, &f);
  st->ops->poll(st->arg, (struct inc_raw_conn *)pcb);
  return cb_leave(core, &f) ? ERR_ABRT : ERR_OK;
}

static err_t connected_tramp(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct inc__raw_tcp *st = (struct inc__raw_tcp *)arg;
  struct inc__raw_core *core;
  struct frame f;
  (void)err; /* always ERR_OK in lwIP 2.1: failures come as errors */
  if (st == NULL || !(st->flags & INC__RT_APP)) {
    return ERR_OK;
  }
  st->flags |= INC__RT_CONNECTED;
  if (st->ops == NULL || st->ops->connected == NULL) {
    return ERR_OK;
  }
  core = st->core; /* the callback may release st */
  cb_enter(core, pcb, &f);
  st->ops->connected(st->arg, (struct inc_raw_conn *)pcb);
  return cb_leave(core, &f) ? ERR_ABRT : ERR_OK;
}

static int map_err(const struct inc__raw_tcp *st, err_t err)
{
  switch (err) {
  case ERR_RST:
    /* a RST answering our SYN is a refusal (RFC 9293 3.10.7.3) */
    return (st->flags & INC__RT_CONNECTED) ? -ECONNRESET : -ECONNREFUSED;
  case ERR_ABRT:
    if (atomic_load_explicit(&st->core->w->stop, memory_order_relaxed)) {
      return -ECONNABORTED;
    }
    return (st->flags & INC__RT_TIMEDOUT) ? -ETIMEDOUT : -ECONNABORTED;
  case ERR_CLSD:
    return 0;
  default:
    return inc__errno_of(err);
  }
}

static void err_tramp(void *arg, err_t err)
{
  struct inc__raw_tcp *st = (struct inc__raw_tcp *)arg;
  struct inc__raw_core *core;
  struct tcp_pcb *prev;
  int code;
  if (st == NULL) {
    return;
  }
  core = st->core;
  if (st->pcb != NULL) {
    /* ERR_RST, ERR_CLSD: called before tcp_free(): unhook the destroy */
    tcp_ext_arg_set(st->pcb, core->slot, NULL);
    st->pcb = NULL;
  }
  if (!(st->flags & INC__RT_APP)) {
    inc__raw_st_finish(st);
    return;
  }
  code = map_err(st, err);
  if (st->ops != NULL && st->ops->error != NULL) {
    prev = core->err_handle;
    core->err_handle = st->handle;
    st->ops->error(st->arg, (struct inc_raw_conn *)st->handle, code);
    core->err_handle = prev;
  }
  inc__raw_st_finish(st);
}

/* lwIP is freeing the pcb (tcp_free() or tcp_free_listen()). */
static void destroyed(u8_t id, void *data)
{
  struct inc__raw_tcp *st = (struct inc__raw_tcp *)data;
  struct tcp_pcb *pcb;
  (void)id;
  if (st == NULL) {
    return;
  }
  pcb = st->pcb;
  st->pcb = NULL;
  if (st->flags & INC__RT_LISTEN) {
    inc__raw_st_free(st); /* closed by the stack (stopping): the handle dangles */
    return;
  }
  if (pcb != NULL &&
      ((pcb->state == SYN_SENT && pcb->nrtx >= TCP_SYNMAXRTX) || pcb->nrtx >= TCP_MAXRTX ||
       (ip_get_option(pcb, SOF_KEEPALIVE) && pcb->keep_cnt_sent >= pcb->keep_cnt))) {
    st->flags |= INC__RT_TIMEDOUT; /* tcp_slowtmr() gave up: the error follows */
  }
  if (!(st->flags & INC__RT_APP)) {
    inc__raw_st_finish(st); /* closed with no-copy bytes in flight: they are gone now */
  }
  /* else the error callback follows (tcp_abandon(), tcp_slowtmr()) */
}

static err_t accept_tramp(void *arg, struct tcp_pcb *newpcb, err_t err)
{
  struct inc__raw_tcp *l = (struct inc__raw_tcp *)arg, *st;
  struct inc__raw_core *core;
  struct frame f;
  int taken, rc;

  if (err != ERR_OK || newpcb == NULL || l == NULL || !(l->flags & INC__RT_APP)) {
    return ERR_VAL; /* lwIP aborts newpcb */
  }
  core = l->core;
  /* the TCP-accept packet filters first: a consumer may take it, and
   * may set it up, close or abort it with this API (filter_priv.h) */
  cb_enter(core, newpcb, &f);
  taken = inc__filter_tcp_accept(core->w, newpcb);
  if (cb_leave(core, &f)) {
    return ERR_ABRT;
  }
  if (taken) {
    return ERR_OK;
  }
  st = st_new(core);
  if (st == NULL) {
    core->accept_no_state++;
    tcp_abort(newpcb);
    return ERR_ABRT;
  }
  st->ops = l->ops;
  st->arg = l->arg;
  st->flags |= INC__RT_APP | INC__RT_CONNECTED;
  attach(st, newpcb);
  if (st->ops == NULL || st->ops->accept == NULL) {
    return ERR_OK;
  }
  cb_enter(core, newpcb, &f);
  rc = st->ops->accept(l->arg, (struct inc_raw_conn *)l->handle, (struct inc_raw_conn *)newpcb);
  if (cb_leave(core, &f)) {
    return ERR_ABRT;
  }
  if (rc < 0 && still_app(core, newpcb, st)) {
    /* refused: never the application's, so no release callback */
    inc__raw_detach(st);
    inc__raw_st_free(st);
    tcp_abort(newpcb);
    return ERR_ABRT;
  }
  return ERR_OK;
}

/* ---- opening ------------------------------------------------------------------- */

/* local address argument -> lwIP address and pcb type */
static int local_of(const struct inc_addr *a, ip_addr_t *ip, u8_t *type)
{
  if (a == NULL || a->family == INC_AF_NONE) {
    ip_addr_copy(*ip, *IP_ANY_TYPE);
    *type = IPADDR_TYPE_ANY;
    return 0;
  }
  if (a->family != INC_AF_INET && a->family != INC_AF_INET6) {
    return -EAFNOSUPPORT;
  }
  *type = a->family == INC_AF_INET ? IPADDR_TYPE_V4 : IPADDR_TYPE_V6;
  return inc__addr_to_lwip(a, ip);
}

int inc_raw_tcp_listen(struct inc_worker *w, const struct inc_addr *local, uint16_t port, int backlog,
                       const struct inc_raw_tcp_ops *ops, void *arg, struct inc_raw_conn **out)
{
  struct inc__raw_core *core;
  struct inc__raw_tcp *st;
  struct tcp_pcb *pcb, *lpcb;
  ip_addr_t ip;
  u8_t type;
  err_t err;
  int rc = 0;

  core = inc__raw_core_of(w, &rc);
  if (core == NULL) {
    return rc;
  }
  if (port == 0 || backlog < 0 || ops == NULL || out == NULL) {
    return -EINVAL;
  }
  rc = local_of(local, &ip, &type);
  if (rc != 0) {
    return rc;
  }
  st = st_new(core);
  if (st == NULL) {
    return -ENOMEM;
  }
  pcb = tcp_new_ip_type(type);
  if (pcb == NULL) {
    inc__raw_st_free(st);
    return -ENOMEM;
  }
  /* as servers do (SO_REUSEADDR): connections of an earlier listener in
   * TIME_WAIT do not block the port; two listeners on one address still
   * conflict (tcp_listen()) */
  ip_set_option(pcb, SOF_REUSEADDR);
  err = tcp_bind(pcb, &ip, port);
  if (err != ERR_OK) {
    tcp_close(pcb);
    inc__raw_st_free(st);
    return inc__errno_of(err);
  }
  /* accepted connections get a flow table entry (stack/flows.c) */
  inc__flow_track_listener(w, pcb);
  lpcb = tcp_listen_with_backlog_and_err(pcb, (u8_t)(backlog == 0 ? TCP_DEFAULT_LISTEN_BACKLOG
                                                                   : (backlog > 255 ? 255 : backlog)),
                                         &err);
  if (lpcb == NULL) {
    tcp_close(pcb);
    inc__raw_st_free(st);
    return inc__errno_of(err);
  }
  st->ops = ops;
  st->arg = arg;
  st->flags |= INC__RT_APP | INC__RT_LISTEN;
  st->pcb = lpcb;
  st->handle = lpcb;
  tcp_arg(lpcb, st);
  tcp_accept(lpcb, accept_tramp);
  tcp_ext_arg_set_callbacks(lpcb, core->slot, &slot_cbs);
  tcp_ext_arg_set(lpcb, core->slot, st);
  *out = (struct inc_raw_conn *)lpcb;
  return 0;
}

int inc_raw_tcp_connect(struct inc_worker *w, const struct inc_addr *local, uint16_t lport,
                        const struct inc_addr *remote, uint16_t rport, const struct inc_raw_tcp_ops *ops, void *arg,
                        struct inc_raw_conn **out)
{
  struct inc__raw_core *core;
  struct inc__raw_tcp *st;
  struct tcp_pcb *pcb;
  ip_addr_t rip, lip;
  int rc = 0;

  core = inc__raw_core_of(w, &rc);
  if (core == NULL) {
    return rc;
  }
  if (remote == NULL || (remote->family != INC_AF_INET && remote->family != INC_AF_INET6) ||
      inc_addr_is_any(remote) || rport == 0 || ops == NULL || out == NULL) {
    return -EINVAL;
  }
  if (local != NULL && local->family != INC_AF_NONE && local->family != remote->family) {
    return -EINVAL;
  }
  if (inc__addr_to_lwip(remote, &rip) != 0) {
    return -EINVAL;
  }
  st = st_new(core);
  if (st == NULL) {
    return -ENOMEM;
  }
  pcb = tcp_new_ip_type(remote->family == INC_AF_INET ? IPADDR_TYPE_V4 : IPADDR_TYPE_V6);
  if (pcb == NULL) {
    inc__raw_st_free(st);
    return -ENOMEM;
  }
  if (local != NULL && local->family != INC_AF_NONE) {
    inc__addr_to_lwip(local, &lip);
    if (lport != 0) {
      err_t err = tcp_bind(pcb, &lip, lport);
      if (err != ERR_OK) {
        tcp_abort(pcb);
        inc__raw_st_free(st);
        return inc__errno_of(err);
      }
    } else {
      /* the address only: inc__tcp_connect() picks a port that hashes home */
      ip_addr_copy(pcb->local_ip, lip);
    }
  } else if (lport != 0) {
    err_t err = tcp_bind(pcb, remote->family == INC_AF_INET ? IP4_ADDR_ANY : IP6_ADDR_ANY, lport);
    if (err != ERR_OK) {
      tcp_abort(pcb);
      inc__raw_st_free(st);
      return inc__errno_of(err);
    }
  }
  st->ops = ops;
  st->arg = arg;
  st->flags |= INC__RT_APP;
  attach(st, pcb);
  /* the port whose replies hash to this worker, the flow recorded before
   * the SYN leaves (stack/flows.c) */
  rc = inc__tcp_connect(core->w, pcb, &rip, rport, connected_tramp);
  if (rc != 0) {
    inc__raw_detach(st);
    inc__raw_st_free(st);
    tcp_abort(pcb);
    return rc;
  }
  *out = (struct inc_raw_conn *)pcb;
  return 0;
}

int inc_raw_tcp_set(struct inc_raw_conn *c, const struct inc_raw_tcp_ops *ops, void *arg)
{
  struct inc__raw_core *core;
  struct tcp_pcb *pcb = (struct tcp_pcb *)c;
  struct inc__raw_tcp *st;
  int rc;
  if (ops == NULL) {
    return -EINVAL;
  }
  st = inc__raw_state_of(c, &core, &rc);
  if (st == NULL && rc != 0) {
    return rc;
  }
  if (st == NULL) {
    /* only a connection a consumer filter is taking (its accept runs) */
    if (pcb != core->cb_pcb) {
      return -ENOTCONN;
    }
    st = st_new(core);
    if (st == NULL) {
      return -ENOMEM;
    }
    st->flags |= INC__RT_APP | INC__RT_CONNECTED;
    attach(st, pcb);
  }
  if (st->pcb == NULL) {
    return -ENOTCONN;
  }
  st->ops = ops;
  st->arg = arg;
  return 0;
}
