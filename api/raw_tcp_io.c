/*
 * The per-core raw API's TCP calls on a connection (include/inception/raw.h):
 * data, ending (close, abort, shutdown), options, addresses, worker stop.
 * The states and trampolines are raw_tcp.c's (lifetime rules there).
 */
#include <errno.h>
#include <string.h>

#include "api_priv.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "raw_priv.h"
#include "stack_priv.h"

/* ---- data ---------------------------------------------------------------------- */

long inc_raw_tcp_write(struct inc_raw_conn *c, const void *data, size_t len, unsigned flags)
{
  struct inc__raw_tcp *st;
  struct tcp_pcb *pcb;
  size_t done = 0;
  int rc;

  st = inc__raw_conn_of(c, &rc);
  if (st == NULL) {
    return rc;
  }
  if ((flags & ~(INC_RAW_WRITE_NOCOPY | INC_RAW_WRITE_MORE)) != 0 || (data == NULL && len > 0)) {
    return -EINVAL;
  }
  if (st->flags & INC__RT_SHUT_WR) {
    return -EPIPE;
  }
  pcb = st->pcb;
  if (pcb->state != ESTABLISHED && pcb->state != CLOSE_WAIT && pcb->state != SYN_SENT && pcb->state != SYN_RCVD) {
    return -ENOTCONN;
  }
  while (done < len) {
    size_t n = len - done;
    err_t err;
    if (n > tcp_sndbuf(pcb)) {
      n = tcp_sndbuf(pcb);
    }
    if (n > 0xffffu) {
      n = 0xffffu; /* tcp_write() takes 16-bit lengths */
    }
    if (n == 0) {
      break;
    }
    for (;;) {
      u8_t api = (u8_t)(((flags & INC_RAW_WRITE_NOCOPY) ? 0 : TCP_WRITE_FLAG_COPY) |
                        ((done + n < len || (flags & INC_RAW_WRITE_MORE)) ? TCP_WRITE_FLAG_MORE : 0));
      err = tcp_write(pcb, (const uint8_t *)data + done, (u16_t)n, api);
      /* ERR_MEM: the segment queue is long or memory short: try less */
      if (err != ERR_MEM || n <= pcb->mss) {
        break;
      }
      n /= 2;
    }
    if (err != ERR_OK) {
      if (done == 0 && err != ERR_MEM) {
        return inc__errno_of(err);
      }
      break;
    }
    done += n;
  }
  if (done == 0) {
    return len == 0 ? 0 : -EAGAIN;
  }
  if (flags & INC_RAW_WRITE_NOCOPY) {
    st->nocopy_end = pcb->snd_lbb; /* after the last byte queued */
    st->flags |= INC__RT_NOCOPY;
  }
  if (!(flags & INC_RAW_WRITE_MORE) && tcp_input_pcb != pcb) {
    /* outside lwIP's input for this pcb (which sends when the callbacks
     * return), nothing else would send it before a timer: send now (no
     * memory: lwIP retries from its timers) */
    (void)tcp_output(pcb);
  }
  return (long)done;
}

int inc_raw_tcp_output(struct inc_raw_conn *c)
{
  int rc;
  struct inc__raw_tcp *st = inc__raw_conn_of(c, &rc);
  if (st == NULL) {
    return rc;
  }
  return inc__errno_of(tcp_output(st->pcb));
}

long inc_raw_tcp_sndbuf(const struct inc_raw_conn *c)
{
  int rc;
  struct inc__raw_tcp *st = inc__raw_conn_of(c, &rc);
  if (st == NULL) {
    return rc;
  }
  return (long)tcp_sndbuf(st->pcb);
}

int inc_raw_tcp_recved(struct inc_raw_conn *c, size_t len)
{
  int rc;
  struct inc__raw_tcp *st = inc__raw_conn_of(c, &rc);
  if (st == NULL) {
    return rc;
  }
  if (len > st->unrecved) {
    return -EINVAL;
  }
  st->unrecved -= len;
  while (len > 0) {
    u16_t n = (u16_t)(len > 0xffffu ? 0xffffu : len);
    tcp_recved(st->pcb, n);
    len -= n;
  }
  return 0;
}

/* ---- ending ---------------------------------------------------------------------- */

/* Releases the application's connection st (close semantics, raw.h). */
int inc__raw_conn_close(struct inc__raw_tcp *st)
{
  struct inc__raw_core *core = st->core;
  struct tcp_pcb *pcb = st->pcb;
  int waiting;
  if (pcb == NULL) {
    inc__raw_st_finish(st);
    return 0;
  }
  waiting = (st->flags & INC__RT_NOCOPY) && TCP_SEQ_LT(pcb->lastack, st->nocopy_end);
  st->flags &= ~INC__RT_APP;
  if (waiting) {
    /* keep the sent trampoline and the slot: they end the state */
    tcp_recv(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_poll(pcb, NULL, 0);
  } else {
    inc__raw_detach(st);
  }
  /* RFC 9293 3.10.4: FIN after the queued data; lwIP resets instead if
   * received data was not consumed (tcp_close_shutdown()) */
  if (tcp_close(pcb) != ERR_OK) {
    if (waiting) {
      inc__raw_detach(st);
      waiting = 0;
    }
    inc__raw_note_abort(core, pcb);
    tcp_abort(pcb);
  }
  if (!waiting) {
    inc__raw_st_finish(st);
  }
  /* else st ends in sent_tramp() or destroyed(): maybe already */
  return 0;
}

/* a pcb without raw API state: only the one whose accept runs (filters) */
static int bare_end(struct inc__raw_core *core, struct tcp_pcb *pcb, int abort)
{
  if (pcb != core->cb_pcb) {
    return -ENOTCONN;
  }
  tcp_arg(pcb, NULL); /* it still has its listener's */
  if (!abort && tcp_close(pcb) == ERR_OK) {
    return 0;
  }
  inc__raw_note_abort(core, pcb);
  tcp_abort(pcb);
  return 0;
}

static void listener_close(struct inc__raw_tcp *st)
{
  struct tcp_pcb *lpcb = st->pcb;
  if (lpcb != NULL) {
    inc__raw_detach(st);
    tcp_close(lpcb); /* a listener's close cannot fail */
  }
  inc__raw_st_free(st);
}

int inc_raw_tcp_close(struct inc_raw_conn *c)
{
  struct inc__raw_core *core;
  int rc;
  struct inc__raw_tcp *st = inc__raw_state_of(c, &core, &rc);
  if (st == NULL) {
    return rc != 0 ? rc : bare_end(core, (struct tcp_pcb *)c, 0);
  }
  if (st->flags & INC__RT_LISTEN) {
    listener_close(st);
    return 0;
  }
  return inc__raw_conn_close(st);
}

int inc_raw_tcp_abort(struct inc_raw_conn *c)
{
  struct inc__raw_core *core;
  struct tcp_pcb *pcb;
  int rc;
  struct inc__raw_tcp *st = inc__raw_state_of(c, &core, &rc);
  if (st == NULL) {
    return rc != 0 ? rc : bare_end(core, (struct tcp_pcb *)c, 1);
  }
  if (st->flags & INC__RT_LISTEN) {
    listener_close(st);
    return 0;
  }
  pcb = st->pcb;
  st->flags &= ~INC__RT_APP;
  if (pcb != NULL) {
    inc__raw_detach(st);
    inc__raw_note_abort(core, pcb);
    tcp_abort(pcb); /* RST; lwIP frees its queues (no-copy bytes too) */
  }
  inc__raw_st_finish(st);
  return 0;
}

int inc_raw_tcp_shutdown(struct inc_raw_conn *c, int how)
{
  struct inc__raw_tcp *st;
  struct tcp_pcb *pcb;
  int rc;
  if (how != INC_RAW_SHUT_RD && how != INC_RAW_SHUT_WR && how != INC_RAW_SHUT_RDWR) {
    return -EINVAL;
  }
  st = inc__raw_conn_of(c, &rc);
  if (st == NULL) {
    return rc;
  }
  pcb = st->pcb;
  if (how != INC_RAW_SHUT_WR && !(st->flags & INC__RT_SHUT_RD)) {
    err_t err = tcp_shutdown(pcb, 1, 0);
    if (err != ERR_OK) {
      return inc__errno_of(err);
    }
    st->flags |= INC__RT_SHUT_RD;
  }
  if (how != INC_RAW_SHUT_RD && !(st->flags & INC__RT_SHUT_WR)) {
    err_t err = tcp_shutdown(pcb, 0, 1); /* FIN after the queued data */
    if (err != ERR_OK) {
      return err == ERR_CONN ? -ENOTCONN : inc__errno_of(err);
    }
    st->flags |= INC__RT_SHUT_WR;
  }
  if ((st->flags & INC__RT_SHUT_WR) && (st->flags & (INC__RT_SHUT_RD | INC__RT_EOF))) {
    return inc__raw_conn_close(st); /* both directions finished: released (raw.h) */
  }
  return 0;
}

/* ---- options and addresses ------------------------------------------------------- */

int inc_raw_tcp_nodelay(struct inc_raw_conn *c, int on)
{
  int rc;
  struct inc__raw_tcp *st = inc__raw_conn_of(c, &rc);
  if (st == NULL) {
    return rc;
  }
  if (on) {
    tcp_nagle_disable(st->pcb);
  } else {
    tcp_nagle_enable(st->pcb);
  }
  return 0;
}

int inc_raw_tcp_keepalive(struct inc_raw_conn *c, int on, uint32_t idle_ms, uint32_t intvl_ms, uint32_t cnt)
{
  struct inc__raw_core *core;
  int rc;
  struct inc__raw_tcp *st = inc__raw_state_of(c, &core, &rc);
  if (st == NULL) {
    return rc != 0 ? rc : -ENOTCONN;
  }
  if (st->pcb == NULL) {
    return -ENOTCONN;
  }
  if (st->flags & INC__RT_LISTEN) {
    /* only the option is inherited (SOF_INHERITED); a listener has no timers */
    if (idle_ms != 0 || intvl_ms != 0 || cnt != 0) {
      return -EINVAL;
    }
  } else {
    st->pcb->keep_idle = idle_ms != 0 ? idle_ms : TCP_KEEPIDLE_DEFAULT;
    st->pcb->keep_intvl = intvl_ms != 0 ? intvl_ms : TCP_KEEPINTVL_DEFAULT;
    st->pcb->keep_cnt = cnt != 0 ? cnt : TCP_KEEPCNT_DEFAULT;
  }
  if (on) {
    ip_set_option(st->pcb, SOF_KEEPALIVE);
  } else {
    ip_reset_option(st->pcb, SOF_KEEPALIVE);
  }
  return 0;
}

int inc_raw_tcp_local(const struct inc_raw_conn *c, struct inc_addr *addr, uint16_t *port)
{
  struct inc__raw_core *core;
  int rc;
  const struct inc__raw_tcp *st = inc__raw_state_of(c, &core, &rc);
  if (st == NULL) {
    return rc != 0 ? rc : -ENOTCONN;
  }
  if (st->pcb == NULL) {
    return -ENOTCONN;
  }
  if (addr != NULL) {
    inc__addr_from_lwip(&st->pcb->local_ip, addr);
  }
  if (port != NULL) {
    *port = st->pcb->local_port;
  }
  return 0;
}

int inc_raw_tcp_peer(const struct inc_raw_conn *c, struct inc_addr *addr, uint16_t *port)
{
  int rc;
  const struct inc__raw_tcp *st = inc__raw_conn_of(c, &rc);
  if (st == NULL) {
    return rc;
  }
  if (addr != NULL) {
    inc__addr_from_lwip(&st->pcb->remote_ip, addr);
  }
  if (port != NULL) {
    *port = st->pcb->remote_port;
  }
  return 0;
}

struct inc_worker *inc_raw_tcp_worker(const struct inc_raw_conn *c)
{
  struct inc__raw_core *core;
  int rc;
  const struct inc__raw_tcp *st = inc__raw_state_of(c, &core, &rc);
  return st != NULL ? st->core->w : NULL;
}

/* ---- worker stop ------------------------------------------------------------------- */

void inc__raw_tcp_fini(struct inc__raw_core *core)
{
  struct inc__raw_tcp *st;
  while ((st = core->tcp_live) != NULL) {
    struct tcp_pcb *pcb = st->pcb;
    if (st->flags & INC__RT_LISTEN) {
      listener_close(st);
      continue;
    }
    inc__raw_detach(st);
    if (pcb != NULL) {
      tcp_abort(pcb);
    }
    if ((st->flags & INC__RT_APP) && st->ops != NULL && st->ops->error != NULL) {
      struct tcp_pcb *prev = core->err_handle;
      core->err_handle = st->handle;
      st->ops->error(st->arg, (struct inc_raw_conn *)st->handle, -ECONNABORTED);
      core->err_handle = prev;
    }
    inc__raw_st_finish(st);
  }
}
