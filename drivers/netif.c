/*
 * The lwIP netif of one port queue (netif.h): set-up, the thread's buffer
 * provider (lwIP's TX pbufs in mbufs), the segmentation-offload hook, and
 * the poll loop. Receive is in netif_rx.c, transmit in netif_tx.c.
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "drivers_priv.h"
#include "fault_priv.h"
#include "inc_lwip_instance.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "netif/ethernet.h"

/* Largest TCP segment (payload + options) built for segmentation offload:
 * a pbuf's 16-bit length must hold it with Ethernet, IP and TCP headers,
 * and its PBUF_RAM block (struct pbuf, headroom, data) must fit a large mbuf. */
#define SEG_MAX_LIMIT (UINT16_MAX - 160)

struct inc_netif *inc_netif_of(struct netif *netif)
{
  if (netif == NULL || netif->linkoutput != inc__netif_linkoutput) {
    return NULL;
  }
  return (struct inc_netif *)netif->state;
}

/* ---- buffer provider (inc_lwip_bufs.h) ---------------------------------- */

void *inc__bufs_alloc(void *ctx, size_t size)
{
  struct inc_netif *nif = (struct inc_netif *)ctx;
  struct rte_mempool *mp = NULL;
  struct rte_mbuf *m;
  if (size <= INC__PBUF_SIZE + rte_pktmbuf_data_room_size(nif->pool)) {
    mp = nif->pool;
  } else if (nif->large != NULL && size <= INC__PBUF_SIZE + rte_pktmbuf_data_room_size(nif->large)) {
    mp = nif->large;
  } else {
    return NULL;
  }
  m = rte_pktmbuf_alloc(mp);
  return m != NULL ? inc__block_of(m) : NULL;
}

void inc__bufs_free(void *ctx, void *mem)
{
  (void)ctx;
  /* the NIC (or a receiver on the software wire) may still hold the mbuf:
   * this drops lwIP's reference only */
  rte_pktmbuf_free_seg(inc__mbuf_of_block(mem));
}

/* upstream-patches/0005: large segments for IPv4 connections whose MSS is
 * the one the MTU gives (the netif derives the segment size from its MTU). */
uint16_t inc__tcp_seg_maxlen(void *ctx, const struct tcp_pcb *pcb, uint16_t mss_len)
{
  struct netif *out;
  struct inc_netif *nif;
  uint16_t optlen, payload, k;
  (void)ctx;
  if (!IP_IS_V4(&pcb->remote_ip)) {
    return mss_len; /* rte_gso segments TCP/IPv4 only */
  }
  out = pcb->netif_idx != NETIF_NO_INDEX ? netif_get_by_index(pcb->netif_idx)
                                         : ip_route(&pcb->local_ip, &pcb->remote_ip);
  nif = inc_netif_of(out);
  if (nif == NULL || nif->seg_max == 0 || pcb->mss != nif->mss4) {
    return mss_len;
  }
  /* Half the large buffers stay for splitting large segments when the
   * windows shrink (tcp_split_unsent_seg() copies the remainder into a new
   * buffer): with none left, a segment too large for the window would wait
   * for ever. */
  if (rte_mempool_avail_count(nif->large) < nif->large->size / 2) {
    return mss_len;
  }
  optlen = (pcb->flags & TF_TIMESTAMP) ? LWIP_TCP_OPT_LEN_TS : 0;
  payload = (uint16_t)(pcb->mss - optlen);
  k = (uint16_t)((nif->seg_max - optlen) / payload);
  return (uint16_t)(k * payload + optlen);
}

/* ---- set-up ------------------------------------------------------------- */

static err_t nif_init_cb(struct netif *netif)
{
  struct inc_netif *nif = (struct inc_netif *)netif->state;
  netif->mtu = nif->port->mtu;
  netif->hwaddr_len = ETH_HWADDR_LEN;
  memcpy(netif->hwaddr, nif->port->mac, ETH_HWADDR_LEN);
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
  netif->output = etharp_output;
  netif->output_ip6 = ethip6_output;
  netif->linkoutput = inc__netif_linkoutput;
  NETIF_SET_CHECKSUM_CTRL(netif, nif->chksum_flags);
  return ERR_OK;
}

int inc_netif_init(struct inc_netif *nif, struct inc_port *port, const struct inc_netif_config *cfg,
                   struct inc_drv_err *err)
{
  ip4_addr_t addr, mask, gw;
  const struct inc_port_queue *pq;
  uint32_t sw;
  int rc;

  if (nif == NULL || port == NULL || cfg == NULL || port->n_queues == 0) {
    return inc__err(err, -EINVAL, "netif: no netif, port or config, or port not initialised; fix: "
                                  "inc_port_init() first");
  }
  if (cfg->queue >= port->n_queues) {
    return inc__err(err, -EINVAL, "netif: queue %u of port %s does not exist (%u queues); fix: one "
                                  "netif per queue, 0..%u",
                    cfg->queue, port->name, port->n_queues, port->n_queues - 1);
  }
  if (inc_lwip_instance_self() == NULL) {
    return inc__err(err, -EINVAL, "netif: this thread has no lwIP instance; fix: call "
                                  "inc_lwip_instance_init() on the worker thread first");
  }
  memset(nif, 0, offsetof(struct inc_netif, pcap_buf));
  pq = &port->q[cfg->queue];
  nif->port = port;
  nif->queue = cfg->queue;
  nif->pool = pq->pool;
  nif->clones = pq->clones;
  nif->large = pq->large;
  nif->mss4 = (uint16_t)(port->mtu - 40);
  if (((port->offloads.hw | port->offloads.sw) & INC_OFFLOAD_TSO) && nif->large != NULL &&
      nif->mss4 == TCP_MSS) {
    nif->seg_max = SEG_MAX_LIMIT;
  }
  /* lwIP computes and checks what the driver does not: the driver owns the
   * IPv4 header and TCP checksums (hardware or software, and after GRO a TCP
   * checksum only the driver could have verified); UDP and ICMP stay lwIP's. */
  sw = NETIF_CHECKSUM_ENABLE_ALL;
  sw &= ~(uint32_t)(NETIF_CHECKSUM_GEN_IP | NETIF_CHECKSUM_GEN_TCP | NETIF_CHECKSUM_CHECK_IP |
                    NETIF_CHECKSUM_CHECK_TCP);
  nif->chksum_flags = sw;
  nif->bufs.alloc = inc__bufs_alloc;
  nif->bufs.free = inc__bufs_free;
  nif->bufs.max_size = INC__PBUF_SIZE + rte_pktmbuf_data_room_size(nif->large != NULL ? nif->large
                                                                                           : nif->pool);
  nif->bufs.tcp_seg_maxlen = inc__tcp_seg_maxlen;
  nif->bufs.ctx = nif;
  if (port->wire != NULL) {
    struct inc_wire_fault f = port->wire->fault[port->wire_side];
    uint16_t q;
    /* each sender core draws its own decisions, repeatably */
    f.seed ^= 0x9e3779b97f4a7c15ULL * (uint64_t)(cfg->queue + 1);
    rc = inc__fault_init(&nif->faults, &f);
    if (rc != 0) {
      return inc__err(err, rc, "netif: wire faults of port %s unusable; fix: see inc_wire_fault", port->name);
    }
    for (q = 0; q < port->n_tx_queues; q++) {
      if (q % port->n_queues == cfg->queue) {
        if (nif->n_tx_owned == 0) {
          nif->first_tx_owned = q;
        }
        nif->n_tx_owned++;
      }
    }
  }
  memcpy(&addr, &cfg->ip4_addr, 4);
  memcpy(&mask, &cfg->ip4_netmask, 4);
  memcpy(&gw, &cfg->ip4_gw, 4);
  if (netif_add(&nif->netif, &addr, &mask, &gw, nif, nif_init_cb, ethernet_input) == NULL) {
    return inc__err(err, -EBUSY, "netif: lwIP refused the netif of port %s queue %u; fix: fewer "
                                 "netifs per instance",
                    port->name, cfg->queue);
  }
  nif->netif.name[0] = cfg->name[0] ? cfg->name[0] : 'd';
  nif->netif.name[1] = cfg->name[1] ? cfg->name[1] : 'p';
#if LWIP_IPV6
  if (cfg->ip6_linklocal) {
    netif_create_ip6_linklocal_address(&nif->netif, 1);
  }
#endif
  if (inc_lwip_bufs_get() == NULL) {
    inc_lwip_bufs_set(&nif->bufs);
    nif->bufs_installed = 1;
  }
  netif_set_up(&nif->netif);
  netif_set_link_up(&nif->netif);
  return 0;
}

int inc_netif_fini(struct inc_netif *nif)
{
  uint16_t i;
  if (nif->cap_on) {
    inc_pcap_close(&nif->pcap);
    nif->cap_on = 0;
  }
  inc__wire_drain(nif);
  for (i = 0; i < nif->n_tx; i++) {
    rte_pktmbuf_free(nif->tx[i]);
  }
  nif->n_tx = 0;
  netif_remove(&nif->netif);
  if (nif->bufs_installed && inc_lwip_bufs_get() == &nif->bufs) {
    inc_lwip_bufs_set(NULL);
  }
  nif->bufs_installed = 0;
  return 0;
}

unsigned inc_netif_poll(struct inc_netif *nif)
{
  struct rte_mbuf *pkts[INC_DRV_BURST];
  unsigned n, i;
  n = inc_netif_rx(nif, pkts, INC_DRV_BURST);
  for (i = 0; i < n; i++) {
    inc_netif_input(nif, pkts[i]);
  }
  inc_netif_flush(nif);
  return n;
}
