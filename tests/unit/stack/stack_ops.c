/* stack_ops: see stack_ops.h. */
#include "stack_ops.h"

#include <errno.h>
#include <string.h>

#include "craft.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "stack_priv.h"

int ops_open_tracked(struct inc_worker *w, uint32_t remote, uint16_t rport, struct tcp_pcb **pcb, uint16_t *lport)
{
  ip_addr_t r;
  int rc;
  struct tcp_pcb *p = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (p == NULL) {
    return -ENOMEM;
  }
  ip_addr_set_ip4_u32_val(r, remote);
  rc = inc__tcp_connect(w, p, &r, rport, NULL);
  if (rc != 0) {
    tcp_abort(p);
    return rc;
  }
  *pcb = p;
  *lport = p->local_port;
  return 0;
}

int ops_abort(struct inc_worker *w, struct tcp_pcb *pcb)
{
  (void)w;
  tcp_err(pcb, NULL);
  tcp_abort(pcb);
  return 0;
}

int ops_handoff_ack(struct inc_worker *w, unsigned dst, uint32_t local, uint16_t lport, uint32_t remote,
                    uint16_t rport)
{
  struct pbuf *p = craft_tcp4(remote, rport, local, lport, TCP_ACK, 1000, 2000);
  if (p == NULL) {
    return -ENOMEM;
  }
  return inc__steer_handoff_ip(w, dst, 0, p);
}

int ops_owner(struct inc_worker *w, uint32_t local, uint16_t lport, uint32_t remote, uint16_t rport)
{
  struct inc_flow_key k;
  inc_flow_key_v4(&k, IP_PROTO_TCP, w->stack->cfg.ports[0].port->port_id, local, lport, remote, rport);
  return inc_flow_lookup(w->stack->flows, &k);
}

unsigned ops_syn_flood(struct inc_worker *w, const uint8_t dst_mac[6], uint32_t dst, uint16_t dport, unsigned n,
                       uint64_t *rng)
{
  unsigned i, sent = 0;
  for (i = 0; i < n; i++) {
    uint64_t x = *rng;
    uint32_t src;
    x ^= x << 13; /* xorshift64 */
    x ^= x >> 7;
    x ^= x << 17;
    *rng = x;
    src = lwip_htonl(0xc6130000u | (uint32_t)(x & 0xffffu)); /* 198.19.0.0/16: off-link, no route back */
    if (craft_send_tcp4_frame(&w->nif[0].netif, dst_mac, src, (uint16_t)(1024 + (x >> 16) % 60000), dst, dport,
                              TCP_SYN, (uint32_t)(x >> 32)) == 0) {
      sent++;
    }
  }
  return sent;
}

