/* api_filter_ops: see api_filter_ops.h. */
#include "api_filter_ops.h"

#include <errno.h>
#include <string.h>

#include "filter_priv.h"
#include "lwip/ip.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "stack_priv.h"

static uint8_t pattern(uint32_t id, uint32_t i)
{
  return (uint8_t)(id * 131u + i * 7u + (i >> 8));
}

void afo_fill(uint8_t *buf, uint32_t len, uint32_t id)
{
  uint32_t i;
  memcpy(buf, &id, 4);
  memcpy(buf + 4, &len, 4);
  for (i = 8; i < len; i++) {
    buf[i] = pattern(id, i);
  }
}

int64_t afo_check(const uint8_t *buf, uint32_t len)
{
  uint32_t id, l, i;
  if (len < 8) {
    return -1;
  }
  memcpy(&id, buf, 4);
  memcpy(&l, buf + 4, 4);
  if (l != len) {
    return -1;
  }
  for (i = 8; i < len; i++) {
    if (buf[i] != pattern(id, i)) {
      return -1;
    }
  }
  return id;
}

/* ---- UDP ------------------------------------------------------------------ */

static void sink_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
  struct afo_sink *s = (struct afo_sink *)arg;
  static __thread uint8_t buf[65536];
  int64_t id;
  (void)pcb;
  (void)addr;
  (void)port;
  pbuf_copy_partial(p, buf, p->tot_len, 0);
  id = afo_check(buf, p->tot_len);
  if (id < 0 || id >= AFO_MAX_IDS) {
    __atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
  } else {
    __atomic_add_fetch(&s->seen[id], 1, __ATOMIC_RELAXED);
  }
  __atomic_add_fetch(&s->got, 1, __ATOMIC_RELEASE);
  pbuf_free(p);
}

int afo_sink_open(struct inc_worker *w, struct afo_sink *s)
{
  struct udp_pcb *pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
  err_t e;
  if (pcb == NULL) {
    return -ENOMEM;
  }
  e = udp_bind(pcb, IP_ANY_TYPE, s->port);
  if (e != ERR_OK) {
    udp_remove(pcb);
    return inc__errno_of(e);
  }
  udp_recv(pcb, sink_recv, s);
  s->pcb[w->index] = pcb;
  return 0;
}

int afo_sink_close(struct inc_worker *w, struct afo_sink *s)
{
  if (s->pcb[w->index] != NULL) {
    udp_remove(s->pcb[w->index]);
    s->pcb[w->index] = NULL;
  }
  return 0;
}

int afo_send(struct inc_worker *w, const struct afo_dgram *d)
{
  struct netif *nif = &w->nif[0].netif;
  struct udp_pcb *pcb;
  struct pbuf *p;
  ip_addr_t dst;
  err_t e;

  if (d->len < 8 || d->len > 65000) {
    return -EINVAL;
  }
  if (d->family == 4) {
    ip_addr_set_ip4_u32_val(dst, 0);
    memcpy(&ip_2_ip4(&dst)->addr, d->dst, 4);
    IP_SET_TYPE_VAL(dst, IPADDR_TYPE_V4);
  } else {
    memset(&dst, 0, sizeof(dst));
    IP_SET_TYPE_VAL(dst, IPADDR_TYPE_V6);
    memcpy(ip_2_ip6(&dst)->addr, d->dst, 16);
    ip6_addr_assign_zone(ip_2_ip6(&dst), IP6_UNICAST, nif);
  }
  pcb = udp_new_ip_type(d->family == 4 ? IPADDR_TYPE_V4 : IPADDR_TYPE_V6);
  if (pcb == NULL) {
    return -ENOMEM;
  }
  e = udp_bind(pcb, d->family == 4 ? IP4_ADDR_ANY : IP6_ADDR_ANY, d->sport);
  if (e != ERR_OK) {
    udp_remove(pcb);
    return inc__errno_of(e);
  }
  p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)d->len, PBUF_RAM);
  if (p == NULL) {
    udp_remove(pcb);
    return -ENOMEM;
  }
  afo_fill((uint8_t *)p->payload, d->len, d->id);
  e = udp_sendto_if(pcb, p, &dst, d->dport, nif);
  pbuf_free(p);
  udp_remove(pcb);
  return inc__errno_of(e);
}

int afo_inject(struct inc_worker *w, const uint8_t *ip, uint32_t len)
{
  struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
  if (p == NULL) {
    return -ENOMEM;
  }
  memcpy(p->payload, ip, len);
  ip_input(p, &w->nif[0].netif); /* consumes p */
  return 0;
}

int64_t afo_buf_check_free(struct inc_worker *w, struct inc_buf *b)
{
  struct pbuf *p = (struct pbuf *)b;
  static __thread uint8_t buf[65536];
  int64_t id;
  (void)w;
  pbuf_copy_partial(p, buf, p->tot_len, 0);
  id = afo_check(buf, p->tot_len);
  pbuf_free(p);
  return id;
}

int afo_linklocal(struct inc_worker *w, uint8_t out[16])
{
  struct netif *nif = &w->nif[0].netif;
  if (!ip6_addr_isvalid(netif_ip6_addr_state(nif, 0)) && !ip6_addr_istentative(netif_ip6_addr_state(nif, 0))) {
    return -ENOENT;
  }
  memcpy(out, netif_ip6_addr(nif, 0)->addr, 16);
  return ip6_addr_isvalid(netif_ip6_addr_state(nif, 0)) ? 1 : 0;
}

/* ---- TCP ------------------------------------------------------------------ */

static void answer_and_close(struct tcp_pcb *pcb, const char *what)
{
  tcp_arg(pcb, NULL);
  tcp_recv(pcb, NULL); /* lwIP's tcp_recv_null: frees data, closes on FIN */
  tcp_err(pcb, NULL);
  (void)tcp_write(pcb, what, 1, TCP_WRITE_FLAG_COPY);
  (void)tcp_output(pcb);
  (void)tcp_close(pcb); /* ERR_MEM only: then the peer's timeout ends it */
}

static err_t listener_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
  struct afo_listener *l = (struct afo_listener *)arg;
  struct inc_worker *w = inc_worker_self();
  if (err != ERR_OK || newpcb == NULL) {
    return ERR_VAL;
  }
  if (inc__filter_tcp_accept(w, newpcb)) {
    __atomic_add_fetch(&l->filtered, 1, __ATOMIC_RELAXED);
    return ERR_OK; /* a consumer took it: not ours any more */
  }
  __atomic_add_fetch(&l->accepted, 1, __ATOMIC_RELAXED);
  answer_and_close(newpcb, "L");
  return ERR_OK;
}

int afo_listen(struct inc_worker *w, struct afo_listener *l)
{
  struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_ANY), *lpcb;
  err_t e;
  if (pcb == NULL) {
    return -ENOMEM;
  }
  e = tcp_bind(pcb, IP_ANY_TYPE, l->port);
  if (e != ERR_OK) {
    tcp_abort(pcb);
    return inc__errno_of(e);
  }
  lpcb = tcp_listen_with_backlog_and_err(pcb, 64, &e);
  if (lpcb == NULL) {
    tcp_abort(pcb);
    return inc__errno_of(e);
  }
  inc__flow_track_listener(w, lpcb);
  tcp_arg(lpcb, l);
  tcp_accept(lpcb, listener_accept);
  l->pcb[w->index] = lpcb;
  return 0;
}

int afo_listen_close(struct inc_worker *w, struct afo_listener *l)
{
  if (l->pcb[w->index] != NULL) {
    tcp_close(l->pcb[w->index]);
    l->pcb[w->index] = NULL;
  }
  return 0;
}

int afo_tcp_consume(void *arg, const struct inc_filter_pkt *pkt, struct inc_raw_conn *conn)
{
  (void)pkt;
  __atomic_add_fetch((uint64_t *)arg, 1, __ATOMIC_RELAXED);
  answer_and_close((struct tcp_pcb *)conn, "C");
  return 1;
}

static err_t client_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct afo_client *c = (struct afo_client *)arg;
  (void)err;
  if (p == NULL) {
    __atomic_store_n(&c->state, 1, __ATOMIC_RELEASE);
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_err(pcb, NULL);
    c->pcb = NULL;
    if (tcp_close(pcb) != ERR_OK) {
      tcp_abort(pcb);
      return ERR_ABRT;
    }
    return ERR_OK;
  }
  if (__atomic_load_n(&c->first, __ATOMIC_RELAXED) < 0 && p->len > 0) {
    __atomic_store_n(&c->first, ((const uint8_t *)p->payload)[0], __ATOMIC_RELEASE);
  }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static void client_err(void *arg, err_t err)
{
  struct afo_client *c = (struct afo_client *)arg;
  (void)err;
  c->pcb = NULL;
  __atomic_store_n(&c->state, 2, __ATOMIC_RELEASE);
}

int afo_connect(struct inc_worker *w, uint8_t family, const uint8_t dst[16], uint16_t dport, struct afo_client *c)
{
  struct tcp_pcb *pcb = tcp_new_ip_type(family == 4 ? IPADDR_TYPE_V4 : IPADDR_TYPE_V6);
  ip_addr_t r;
  int rc;
  if (pcb == NULL) {
    return -ENOMEM;
  }
  memset(&r, 0, sizeof(r));
  if (family == 4) {
    IP_SET_TYPE_VAL(r, IPADDR_TYPE_V4);
    memcpy(&ip_2_ip4(&r)->addr, dst, 4);
  } else {
    IP_SET_TYPE_VAL(r, IPADDR_TYPE_V6);
    memcpy(ip_2_ip6(&r)->addr, dst, 16);
    ip6_addr_assign_zone(ip_2_ip6(&r), IP6_UNICAST, &w->nif[0].netif);
  }
  c->first = -1;
  c->state = 0;
  c->pcb = pcb;
  tcp_arg(pcb, c);
  tcp_recv(pcb, client_recv);
  tcp_err(pcb, client_err);
  rc = inc__tcp_connect(w, pcb, &r, dport, NULL);
  if (rc != 0) {
    tcp_arg(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_abort(pcb);
    c->pcb = NULL;
    return rc;
  }
  c->lport = pcb->local_port;
  return 0;
}
