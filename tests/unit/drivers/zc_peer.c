/* zc_peer: see zc_peer.h. */
#include "zc_peer.h"

#include <string.h>

#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "tcpio.h"

static void udp_rx(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
  struct zc_udp *u = (struct zc_udp *)arg;
  struct pbuf *q;
  uint64_t off = 0;
  int first = 1;
  (void)pcb;
  (void)addr;
  (void)port;
  u->datagrams++;
  u->len = p->tot_len;
  for (q = p; q != NULL; q = q->next) {
    const uint8_t *b = (const uint8_t *)q->payload;
    uint16_t i;
    if (q->len > 0 && first) {
      u->read_at = q->payload;
      first = 0;
    }
    for (i = 0; i < q->len; i++, off++) {
      if (b[i] != tio_pattern(u->seed, off)) {
        u->corrupt++;
        pbuf_free(p);
        return;
      }
    }
  }
  pbuf_free(p);
}

int zc_udp_listen(struct zc_udp *u, uint16_t port, uint32_t seed)
{
  memset(u, 0, sizeof(*u));
  u->seed = seed;
  u->pcb = udp_new();
  if (u->pcb == NULL) {
    return ERR_MEM;
  }
  udp_recv(u->pcb, udp_rx, u);
  return udp_bind(u->pcb, IP_ANY_TYPE, port);
}

int zc_udp_send(uint32_t dst_ip_host, uint16_t port, uint16_t len, uint32_t seed, const void **wrote_at)
{
  struct udp_pcb *pcb = udp_new();
  struct pbuf *p;
  ip_addr_t dst;
  uint16_t i;
  err_t e;
  if (pcb == NULL) {
    return ERR_MEM;
  }
  p = pbuf_alloc(PBUF_TRANSPORT, len, PBUF_RAM);
  if (p == NULL) {
    udp_remove(pcb);
    return ERR_MEM;
  }
  for (i = 0; i < len; i++) {
    ((uint8_t *)p->payload)[i] = tio_pattern(seed, i);
  }
  *wrote_at = p->payload;
  IP_ADDR4(&dst, dst_ip_host >> 24, (dst_ip_host >> 16) & 0xff, (dst_ip_host >> 8) & 0xff, dst_ip_host & 0xff);
  e = udp_sendto(pcb, p, &dst, port);
  pbuf_free(p);
  udp_remove(pcb);
  return e;
}

uint64_t zc_udp_chkerr(void)
{
  return lwip_stats.udp.chkerr;
}

void zc_lwip_stats_get(struct zc_lwip_stats *out)
{
  out->etharp_recv = lwip_stats.etharp.recv;
  out->etharp_xmit = lwip_stats.etharp.xmit;
  out->icmp_recv = lwip_stats.icmp.recv;
  out->icmp_xmit = lwip_stats.icmp.xmit;
  out->tcp_recv = lwip_stats.tcp.recv;
  out->tcp_xmit = lwip_stats.tcp.xmit;
  out->tcp_chkerr = lwip_stats.tcp.chkerr;
  out->udp_chkerr = lwip_stats.udp.chkerr;
}

void zc_udp_close(struct zc_udp *u)
{
  if (u->pcb != NULL) {
    udp_remove(u->pcb);
    u->pcb = NULL;
  }
}

static err_t tcp_rx(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct zc_tcp *t = (struct zc_tcp *)arg;
  struct pbuf *q;
  (void)err;
  if (p == NULL) {
    return ERR_OK;
  }
  for (q = p; q != NULL; q = q->next) {
    const uint8_t *b = (const uint8_t *)q->payload;
    uint16_t i;
    if (q->len > 0 && t->first_read_at == NULL) {
      t->first_read_at = q->payload;
    }
    for (i = 0; i < q->len; i++) {
      if (b[i] != tio_pattern(t->seed, t->received + i)) {
        t->corrupt++;
        break;
      }
    }
    t->received += q->len;
  }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static err_t tcp_sent_cb(void *arg, struct tcp_pcb *pcb, u16_t len)
{
  struct zc_tcp *t = (struct zc_tcp *)arg;
  (void)pcb;
  t->acked += len;
  /* every buffer written by reference is acknowledged as a whole here */
  while (t->n_held > 0 && t->acked >= t->held[0]->tot_len) {
    t->acked -= t->held[0]->tot_len;
    pbuf_free(t->held[0]);
    memmove(t->held, t->held + 1, (t->n_held - 1) * sizeof(t->held[0]));
    t->n_held--;
  }
  return ERR_OK;
}

static void setup(struct zc_tcp *t, struct tcp_pcb *pcb)
{
  t->pcb = pcb;
  tcp_arg(pcb, t);
  tcp_recv(pcb, tcp_rx);
  tcp_sent(pcb, tcp_sent_cb);
  tcp_nagle_disable(pcb);
}

static err_t accepted(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct zc_tcp *t = (struct zc_tcp *)arg;
  if (err != ERR_OK) {
    return err;
  }
  setup(t, pcb);
  t->established = 1;
  return ERR_OK;
}

static err_t connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct zc_tcp *t = (struct zc_tcp *)arg;
  (void)pcb;
  t->established = err == ERR_OK;
  return ERR_OK;
}

int zc_tcp_listen(struct zc_tcp *t, uint16_t port, uint32_t seed)
{
  struct tcp_pcb *pcb;
  memset(t, 0, sizeof(*t));
  t->seed = seed;
  pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (pcb == NULL || tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
    return ERR_MEM;
  }
  t->listener = tcp_listen(pcb);
  if (t->listener == NULL) {
    return ERR_MEM;
  }
  tcp_arg(t->listener, t);
  tcp_accept(t->listener, accepted);
  return ERR_OK;
}

int zc_tcp_connect(struct zc_tcp *t, uint32_t ip, uint16_t port, uint32_t seed)
{
  ip_addr_t dst;
  struct tcp_pcb *pcb;
  memset(t, 0, sizeof(*t));
  t->seed = seed;
  pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (pcb == NULL) {
    return ERR_MEM;
  }
  setup(t, pcb);
  IP_ADDR4(&dst, ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
  return tcp_connect(pcb, &dst, port, connected);
}

int zc_tcp_write_ref(struct zc_tcp *t, uint16_t len, const void **wrote_at)
{
  struct pbuf *buf;
  uint16_t i;
  err_t e;
  if (t->n_held == sizeof(t->held) / sizeof(t->held[0])) {
    return ERR_MEM;
  }
  buf = pbuf_alloc(PBUF_RAW, len, PBUF_RAM); /* the application's buffer, from the stack */
  if (buf == NULL) {
    return ERR_MEM;
  }
  for (i = 0; i < len; i++) {
    ((uint8_t *)buf->payload)[i] = tio_pattern(t->seed, t->sent + i);
  }
  e = tcp_write(t->pcb, buf->payload, len, 0);
  if (e != ERR_OK) {
    pbuf_free(buf);
    return e;
  }
  *wrote_at = buf->payload;
  t->held[t->n_held++] = buf;
  t->sent += len;
  return ERR_OK;
}

int zc_tcp_write_copy(struct zc_tcp *t, uint16_t len)
{
  uint8_t data[8192];
  uint16_t i;
  err_t e;
  if (len > sizeof(data)) {
    return ERR_ARG;
  }
  for (i = 0; i < len; i++) {
    data[i] = tio_pattern(t->seed, t->sent + i);
  }
  e = tcp_write(t->pcb, data, len, TCP_WRITE_FLAG_COPY);
  if (e == ERR_OK) {
    t->sent += len;
  }
  return e;
}

void zc_tcp_output(struct zc_tcp *t)
{
  tcp_output(t->pcb);
}

void zc_tcp_rexmit(struct zc_tcp *t)
{
  tcp_rexmit_rto(t->pcb);
}

unsigned zc_tcp_held(const struct zc_tcp *t)
{
  return t->n_held;
}

void zc_tcp_close(struct zc_tcp *t)
{
  unsigned i;
  if (t->pcb != NULL) {
    tcp_arg(t->pcb, NULL);
    tcp_recv(t->pcb, NULL);
    tcp_sent(t->pcb, NULL);
    tcp_abort(t->pcb);
    t->pcb = NULL;
  }
  if (t->listener != NULL) {
    tcp_close(t->listener);
    t->listener = NULL;
  }
  for (i = 0; i < t->n_held; i++) {
    pbuf_free(t->held[i]);
  }
  t->n_held = 0;
}

void zc_tcp_abort_all(void)
{
  while (tcp_active_pcbs != NULL) {
    struct tcp_pcb *pcb = tcp_active_pcbs;
    tcp_arg(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_abort(pcb);
  }
  while (tcp_tw_pcbs != NULL) {
    tcp_abort(tcp_tw_pcbs);
  }
}

int zc_arp_lookup(uint32_t ip, uint8_t mac[6])
{
  ip4_addr_t a;
  struct eth_addr *e = NULL;
  const ip4_addr_t *found = NULL;
  struct netif *n;
  IP4_ADDR(&a, ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
  NETIF_FOREACH(n) {
    if (etharp_find_addr(n, &a, &e, &found) >= 0) {
      memcpy(mac, e->addr, 6);
      return 0;
    }
  }
  return -1;
}
