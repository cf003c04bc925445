/* craft: see craft.h. */
#include "craft.h"

#include <string.h>

#include "lwip/inet_chksum.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"

static void fill(uint8_t *ip, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags,
                 uint32_t seq, uint32_t ack)
{
  struct ip_hdr *iph = (struct ip_hdr *)(void *)ip;
  struct tcp_hdr *th = (struct tcp_hdr *)(void *)(ip + IP_HLEN);
  memset(ip, 0, IP_HLEN + TCP_HLEN);
  IPH_VHL_SET(iph, 4, IP_HLEN / 4);
  IPH_LEN_SET(iph, lwip_htons(IP_HLEN + TCP_HLEN));
  IPH_TTL_SET(iph, 64);
  IPH_PROTO_SET(iph, IP_PROTO_TCP);
  memcpy(&iph->src, &src, 4);
  memcpy(&iph->dest, &dst, 4);
  IPH_CHKSUM_SET(iph, inet_chksum(iph, IP_HLEN));
  th->src = lwip_htons(sport);
  th->dest = lwip_htons(dport);
  th->seqno = lwip_htonl(seq);
  th->ackno = lwip_htonl(ack);
  TCPH_HDRLEN_FLAGS_SET(th, TCP_HLEN / 4, flags);
  th->wnd = lwip_htons(65535);
}

static void tcp_checksum(struct pbuf *p, uint16_t ip_off, uint32_t src, uint32_t dst)
{
  ip_addr_t s, d;
  struct tcp_hdr *th = (struct tcp_hdr *)(void *)((uint8_t *)p->payload + ip_off + IP_HLEN);
  ip_addr_set_ip4_u32_val(s, src);
  ip_addr_set_ip4_u32_val(d, dst);
  pbuf_remove_header(p, ip_off + IP_HLEN);
  th->chksum = ip_chksum_pseudo(p, IP_PROTO_TCP, p->tot_len, &s, &d);
  pbuf_add_header(p, ip_off + IP_HLEN);
}

struct pbuf *craft_tcp4(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags, uint32_t seq,
                        uint32_t ack)
{
  struct pbuf *p = pbuf_alloc(PBUF_IP, IP_HLEN + TCP_HLEN, PBUF_RAM);
  if (p == NULL) {
    return NULL;
  }
  fill((uint8_t *)p->payload, src, sport, dst, dport, flags, seq, ack);
  tcp_checksum(p, 0, src, dst);
  return p;
}

int craft_send_tcp4_frame(struct netif *netif, const uint8_t dst_mac[6], uint32_t src, uint16_t sport,
                          uint32_t dst, uint16_t dport, uint8_t flags, uint32_t seq)
{
  struct pbuf *p = pbuf_alloc(PBUF_RAW, SIZEOF_ETH_HDR + IP_HLEN + TCP_HLEN, PBUF_RAM);
  struct eth_hdr *eh;
  err_t err;
  if (p == NULL) {
    return -1;
  }
  eh = (struct eth_hdr *)p->payload;
  memcpy(&eh->dest, dst_mac, 6);
  memcpy(&eh->src, netif->hwaddr, 6);
  eh->type = PP_HTONS(ETHTYPE_IP);
  fill((uint8_t *)p->payload + SIZEOF_ETH_HDR, src, sport, dst, dport, flags, seq, 0);
  tcp_checksum(p, SIZEOF_ETH_HDR, src, dst);
  err = netif->linkoutput(netif, p);
  pbuf_free(p);
  return err == ERR_OK ? 0 : -1;
}
