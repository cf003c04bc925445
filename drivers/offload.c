/* Offload negotiation (port.h): PMD capability, software fallback, or off. */
#include <errno.h>
#include <stdio.h>

#include <rte_ethdev.h>

#include "inception/port.h"

struct cap {
  uint32_t inc;   /* INC_OFFLOAD_* */
  int tx;         /* in tx_capa (else rx_capa) */
  uint64_t dpdk;  /* RTE_ETH_*_OFFLOAD_* bits that must all be offered; 0: never in hardware */
  int has_sw;     /* Inception has a software fallback */
  const char *name;
};

static const struct cap caps[] = {
    {INC_OFFLOAD_RX_IPV4_CKSUM, 0, RTE_ETH_RX_OFFLOAD_IPV4_CKSUM, 1, "rx-ipv4-cksum"},
    {INC_OFFLOAD_RX_TCP_CKSUM, 0, RTE_ETH_RX_OFFLOAD_TCP_CKSUM, 1, "rx-tcp-cksum"},
    {INC_OFFLOAD_RX_UDP_CKSUM, 0, RTE_ETH_RX_OFFLOAD_UDP_CKSUM, 1, "rx-udp-cksum"},
    {INC_OFFLOAD_TX_IPV4_CKSUM, 1, RTE_ETH_TX_OFFLOAD_IPV4_CKSUM, 1, "tx-ipv4-cksum"},
    {INC_OFFLOAD_TX_TCP_CKSUM, 1, RTE_ETH_TX_OFFLOAD_TCP_CKSUM, 1, "tx-tcp-cksum"},
    /* UDP checksums are lwIP's on TX: lwIP fragments large datagrams before
     * the netif sees them, and a fragment cannot carry a checksum that the
     * NIC would compute over the whole datagram */
    {INC_OFFLOAD_TX_UDP_CKSUM, 1, 0, 1, "tx-udp-cksum"},
    /* the PMD must also checksum what it segments */
    {INC_OFFLOAD_TSO, 1, RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_MULTI_SEGS, 1, "tso"},
    {INC_OFFLOAD_LRO, 0, RTE_ETH_RX_OFFLOAD_TCP_LRO, 1, "lro"},
    {INC_OFFLOAD_MULTI_SEGS, 1, RTE_ETH_TX_OFFLOAD_MULTI_SEGS, 1, "multi-segs"},
    {INC_OFFLOAD_RSS, 0, 0, 0, "rss"},
};

int inc_offload_negotiate(uint64_t rx_capa, uint64_t tx_capa, int rss_capa, uint32_t want,
                          uint32_t deny, struct inc_offloads *out)
{
  size_t i;
  if (out == NULL) {
    return -EINVAL;
  }
  out->hw = 0;
  out->sw = 0;
  for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
    const struct cap *c = &caps[i];
    int offered;
    if (!(want & c->inc)) {
      continue;
    }
    if (c->inc == INC_OFFLOAD_RSS) {
      offered = rss_capa;
    } else if (c->dpdk == 0) {
      offered = 0;
    } else {
      offered = ((c->tx ? tx_capa : rx_capa) & c->dpdk) == c->dpdk;
    }
    if (offered && !(deny & c->inc)) {
      out->hw |= c->inc;
    } else if (c->has_sw) {
      out->sw |= c->inc;
    }
  }
  /* hardware TSO needs the PMD to checksum the segments it makes */
  if ((out->hw & INC_OFFLOAD_TSO) &&
      (out->hw & (INC_OFFLOAD_TX_IPV4_CKSUM | INC_OFFLOAD_TX_TCP_CKSUM)) !=
          (INC_OFFLOAD_TX_IPV4_CKSUM | INC_OFFLOAD_TX_TCP_CKSUM)) {
    out->hw &= ~INC_OFFLOAD_TSO;
    out->sw |= INC_OFFLOAD_TSO;
  }
  return 0;
}

const char *inc_offload_describe(const struct inc_offloads *o, char *buf, unsigned len)
{
  size_t i, used = 0;
  if (len == 0) {
    return buf;
  }
  buf[0] = '\0';
  for (i = 0; i < sizeof(caps) / sizeof(caps[0]) && used < len; i++) {
    const char *how = (o->hw & caps[i].inc) ? "hw" : (o->sw & caps[i].inc) ? "sw" : "off";
    int n = snprintf(buf + used, len - used, "%s%s=%s", i ? " " : "", caps[i].name, how);
    if (n < 0) {
      break;
    }
    used += (size_t)n;
  }
  return buf;
}
