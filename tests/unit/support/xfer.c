/* xfer: see xfer.h. */
#include "xfer.h"

#include <string.h>

#include "lwip/tcp.h"

static uint8_t expected(const struct xfer_node *n, uint32_t id, uint64_t off)
{
  return n->pattern[xfer_pattern_pos(id, off)];
}

static uint64_t total(const struct xfer_node *n)
{
  return 4u + (uint64_t)n->bytes;
}

static unsigned core_now(const struct xfer_node *n)
{
  return n->ops.current_core != NULL ? n->ops.current_core(n->ops.ctx) : 0;
}

/* Every callback of a connection must run on the core that owns it. */
static void check_core(const struct xfer_conn *c)
{
  if (core_now(c->node) != c->core) {
    c->node->wrong_core++;
  }
}

/* ---- sending ---------------------------------------------------------- */

static void conn_close(struct xfer_conn *c)
{
  tcp_arg(c->pcb, NULL);
  tcp_poll(c->pcb, NULL, 0);
  tcp_sent(c->pcb, NULL);
  tcp_recv(c->pcb, NULL);
  tcp_err(c->pcb, NULL);
  if (tcp_close(c->pcb) != ERR_OK) {
    tcp_abort(c->pcb);
  }
  c->pcb = NULL;
  c->closed = 1;
}

static void send_more(struct xfer_conn *c)
{
  struct xfer_node *n = c->node;
  while (c->done_bytes < total(n)) {
    uint32_t room = tcp_sndbuf(c->pcb);
    const void *src;
    uint64_t left = total(n) - c->done_bytes;
    uint32_t len;
    err_t err;
    if (room == 0 || tcp_sndqueuelen(c->pcb) + 4 >= TCP_SND_QUEUELEN) {
      break;
    }
    if (c->done_bytes < 4) {
      src = c->id_bytes + c->done_bytes;
      len = (uint32_t)(4 - c->done_bytes);
    } else {
      uint64_t off = c->done_bytes - 4;
      uint32_t pos = xfer_pattern_pos(c->id, off);
      src = n->pattern + pos;
      len = XFER_PATTERN_LEN - pos;
      if (len > left) {
        len = (uint32_t)left;
      }
    }
    if (len > room) {
      len = room;
    }
    if (len > 0xffffu) {
      len = 0xffffu; /* tcp_write() takes a u16_t */
    }
    err = tcp_write(c->pcb, src, (u16_t)len,
                    TCP_WRITE_FLAG_COPY | (len < left ? TCP_WRITE_FLAG_MORE : 0));
    if (err == ERR_MEM) {
      break; /* retried from the sent callback */
    }
    if (err != ERR_OK) {
      n->errors++;
      tcp_abort(c->pcb);
      c->pcb = NULL;
      return;
    }
    c->done_bytes += len;
  }
  tcp_output(c->pcb);
  if (c->done_bytes == total(n)) {
    conn_close(c);
    c->complete = 1;
    n->out_complete++;
  }
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
  struct xfer_conn *c = (struct xfer_conn *)arg;
  (void)pcb;
  (void)len;
  if (c != NULL) {
    check_core(c);
  }
  if (c != NULL && !c->closed) {
    send_more(c);
  }
  return ERR_OK;
}

/* lwIP's poll timer: a writer that got ERR_MEM with nothing in flight has no
 * sent callback coming, so retry from here (every 500 ms). */
static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
  struct xfer_conn *c = (struct xfer_conn *)arg;
  (void)pcb;
  if (c != NULL && c->connected && !c->closed && c->done_bytes < total(c->node)) {
    check_core(c);
    send_more(c);
  }
  return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
  struct xfer_conn *c = (struct xfer_conn *)arg;
  (void)err;
  if (c == NULL) {
    return;
  }
  check_core(c);
  /* lwIP has freed the pcb */
  c->pcb = NULL;
  c->closed = 1;
  c->node->errors++;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct xfer_conn *c = (struct xfer_conn *)arg;
  (void)pcb;
  check_core(c);
  if (err != ERR_OK) {
    c->node->errors++;
    return err;
  }
  c->connected = 1; /* closing before this would abort the attempt */
  c->node->out_connected++;
  send_more(c);
  return ERR_OK;
}

/* ---- receiving -------------------------------------------------------- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct xfer_conn *c = (struct xfer_conn *)arg;
  struct xfer_node *n = c->node;
  const struct pbuf *q;
  int bad = 0;

  check_core(c);
  if (p == NULL) { /* FIN: the transfer must be whole */
    if (c->done_bytes == total(n)) {
      c->complete = 1;
      n->in_complete++;
    } else {
      n->corrupt++;
    }
    conn_close(c);
    return ERR_OK;
  }
  if (err != ERR_OK) {
    pbuf_free(p);
    return ERR_OK;
  }
  for (q = p; q != NULL && !bad; q = q->next) {
    const uint8_t *b = (const uint8_t *)q->payload;
    u16_t i;
    for (i = 0; i < q->len; i++) {
      uint64_t at = c->done_bytes;
      if (at < 4) {
        c->id_bytes[at] = b[i];
        if (at == 3) {
          memcpy(&c->id, c->id_bytes, 4);
        }
      } else if (at >= total(n) || b[i] != expected(n, c->id, at - 4)) {
        bad = 1;
        break;
      } else {
        n->verified_bytes++;
      }
      c->done_bytes++;
    }
  }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  if (bad) {
    n->corrupt++;
    tcp_arg(pcb, NULL);
    tcp_abort(pcb);
    c->pcb = NULL;
    c->closed = 1;
    return ERR_ABRT;
  }
  return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct xfer_node *n = (struct xfer_node *)arg;
  struct xfer_conn *c;
  if (err != ERR_OK || pcb == NULL) {
    return ERR_VAL;
  }
  if (n->n_in == XFER_MAX_CONNS) {
    tcp_abort(pcb);
    n->errors++;
    return ERR_ABRT;
  }
  if (!ip_addr_cmp(&pcb->remote_ip, &n->peer)) {
    n->wrong_peer++;
  }
  c = &n->in[n->n_in++];
  memset(c, 0, sizeof(*c));
  c->node = n;
  c->pcb = pcb;
  c->core = core_now(n);
  tcp_arg(pcb, c);
  tcp_recv(pcb, on_recv);
  tcp_err(pcb, on_err);
  return ERR_OK;
}

/* ---- node --------------------------------------------------------------- */

static int open_one(struct xfer_node *n)
{
  struct xfer_conn *c = &n->out[n->n_opened];
  int rc;
  c->node = n;
  c->id = n->id_base + n->n_opened;
  c->core = core_now(n);
  memcpy(c->id_bytes, &c->id, 4);
  c->pcb = tcp_new_ip_type(IP_GET_TYPE(&n->peer));
  if (c->pcb == NULL) {
    return ERR_MEM;
  }
  n->n_opened++;
  tcp_arg(c->pcb, c);
  tcp_sent(c->pcb, on_sent);
  tcp_err(c->pcb, on_err);
  tcp_poll(c->pcb, on_poll, 1);
  if (n->ops.connect != NULL) {
    rc = n->ops.connect(n->ops.ctx, c->pcb, &n->peer, n->port, on_connected);
  } else {
    rc = tcp_connect(c->pcb, &n->peer, n->port, on_connected);
  }
  if (rc != 0) {
    tcp_arg(c->pcb, NULL);
    tcp_abort(c->pcb);
    c->pcb = NULL;
    c->closed = 1;
    n->errors++;
    return rc < 0 ? rc : -rc;
  }
  return ERR_OK;
}

int xfer_poll(struct xfer_node *n)
{
  unsigned k = 0;
  while (n->n_opened < n->n_out && (n->open_batch == 0 || k < n->open_batch)) {
    int rc = open_one(n);
    if (rc != ERR_OK) {
      return rc;
    }
    k++;
  }
  return (int)k;
}

int xfer_start_ops(struct xfer_node *n, const ip_addr_t *peer, uint16_t port, uint32_t bytes,
                   unsigned n_out, unsigned n_in_expect, uint32_t id_base, const struct xfer_ops *ops,
                   unsigned open_batch)
{
  struct tcp_pcb *l;
  err_t err;

  if (n_out > XFER_MAX_CONNS || n_in_expect > XFER_MAX_CONNS) {
    return ERR_ARG;
  }
  memset(n, 0, sizeof(*n));
  xfer_pattern_fill(n->pattern);
  ip_addr_copy(n->peer, *peer);
  n->port = port;
  n->bytes = bytes;
  n->n_out = n_out;
  n->n_in_expect = n_in_expect;
  n->id_base = id_base;
  n->open_batch = open_batch;
  if (ops != NULL) {
    n->ops = *ops;
  }

  l = tcp_new_ip_type(IP_GET_TYPE(peer));
  if (l == NULL) {
    return ERR_MEM;
  }
  err = tcp_bind(l, IP_IS_V6(peer) ? IP6_ADDR_ANY : IP4_ADDR_ANY, port);
  if (err != ERR_OK) {
    tcp_close(l);
    return err;
  }
  if (n->ops.listening != NULL) {
    n->ops.listening(n->ops.ctx, l);
  }
  n->listener = tcp_listen_with_backlog(l, 255);
  if (n->listener == NULL) {
    tcp_close(l);
    return ERR_MEM;
  }
  tcp_arg(n->listener, n);
  tcp_accept(n->listener, on_accept);
  err = (err_t)xfer_poll(n);
  return err < 0 ? err : ERR_OK;
}

int xfer_start(struct xfer_node *n, const ip_addr_t *peer, uint16_t port, uint32_t bytes,
               unsigned n_out, unsigned n_in_expect, uint32_t id_base)
{
  return xfer_start_ops(n, peer, port, bytes, n_out, n_in_expect, id_base, NULL, 0);
}

int xfer_finished(const struct xfer_node *n)
{
  return n->out_complete == n->n_out && n->in_complete == n->n_in_expect;
}

void xfer_stop(struct xfer_node *n)
{
  unsigned i;
  if (n->listener != NULL) {
    tcp_close(n->listener);
    n->listener = NULL;
  }
  for (i = 0; i < n->n_opened; i++) {
    if (n->out[i].pcb != NULL) {
      tcp_arg(n->out[i].pcb, NULL);
      tcp_abort(n->out[i].pcb);
      n->out[i].pcb = NULL;
    }
  }
  for (i = 0; i < n->n_in; i++) {
    if (n->in[i].pcb != NULL) {
      tcp_arg(n->in[i].pcb, NULL);
      tcp_abort(n->in[i].pcb);
      n->in[i].pcb = NULL;
    }
  }
}
