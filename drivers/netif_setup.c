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
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/priv/nd6_priv.h"
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

/* ---- IPv6 addresses and router ------------------------------------------ */

static int ip6_is_zero(const uint8_t a[16])
{
  static const uint8_t zero[16];
  return memcmp(a, zero, 16) == 0;
}

static int ip6_is_linklocal_bytes(const uint8_t a[16])
{
  return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; /* fe80::/10 (RFC 4291 2.5.6) */
}

/* Why a would not do as a static unicast address of ours, or NULL. */
static const char *ip6_unicast_problem(const uint8_t a[16])
{
  static const uint8_t loopback[16] = {[15] = 1};
  static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};
  if (a[0] == 0xff) {
    return "multicast (ff00::/8)";
  }
  if (memcmp(a, loopback, 16) == 0) {
    return "the loopback address ::1";
  }
  if (memcmp(a, v4mapped, 12) == 0) {
    return "IPv4-mapped (::ffff:0:0/96)";
  }
  if (ip6_is_linklocal_bytes(a)) {
    return "link-local (fe80::/10)";
  }
  return NULL;
}

const char *inc_netif_ip6_check(const struct inc_netif_config *cfg)
{
  unsigned i, j;
  if (cfg == NULL) {
    return "netif: no config";
  }
  for (i = 0; i < INC_NETIF_IP6_ADDRS; i++) {
    const uint8_t *a = cfg->ip6_addr[i];
    if (ip6_is_zero(a)) {
      continue;
    }
    if (a[0] == 0xff) {
      return "netif: an IPv6 address is multicast (ff00::/8); fix: a global unicast or unique-local address";
    }
    if (ip6_unicast_problem(a) != NULL) {
      return ip6_is_linklocal_bytes(a)
                 ? "netif: an IPv6 static address is link-local (fe80::/10); fix: set ip6_linklocal instead"
                 : "netif: an IPv6 address is loopback or IPv4-mapped; fix: a global unicast or unique-local address";
    }
    if (cfg->ip6_prefix_len[i] != 0 && cfg->ip6_prefix_len[i] != 64) {
      return "netif: IPv6 prefix length must be 64 (or 0 for 64): lwIP 2.1.3 treats static addresses as /64 "
             "on link";
    }
    for (j = 0; j < i; j++) {
      if (memcmp(a, cfg->ip6_addr[j], 16) == 0) {
        return "netif: the same IPv6 address is configured twice";
      }
    }
  }
  if (!ip6_is_zero(cfg->ip6_gw)) {
    const uint8_t *g = cfg->ip6_gw;
    int onlink = 0;
    if (g[0] == 0xff || (ip6_unicast_problem(g) != NULL && !ip6_is_linklocal_bytes(g))) {
      return "netif: the IPv6 router is multicast, loopback or IPv4-mapped; fix: its link-local or on-link "
             "global address";
    }
    if (ip6_is_linklocal_bytes(g)) {
      if (!cfg->ip6_linklocal) {
        return "netif: a link-local IPv6 router needs a link-local address of ours; fix: set ip6_linklocal";
      }
      onlink = 1;
    }
    for (i = 0; i < INC_NETIF_IP6_ADDRS && !onlink; i++) {
      if (!ip6_is_zero(cfg->ip6_addr[i]) && memcmp(cfg->ip6_addr[i], g, 8) == 0) {
        onlink = 1;
        if (memcmp(cfg->ip6_addr[i], g, 16) == 0) {
          return "netif: the IPv6 router is one of our own addresses";
        }
      }
    }
    if (!onlink) {
      return "netif: the IPv6 router is not on link (not in the /64 of one of our addresses); fix: its "
             "link-local address, or an address in one of our /64s";
    }
  }
  return NULL;
}

/* Enters nif->ip6_gw in lwIP's default router list (RFC 4861 6.3.4 keeps one
 * learnt from RAs; this one is configured): a neighbour cache entry marked
 * as a router (lwIP never frees those: it keeps probing an unreachable
 * router) and a router entry with an infinite lifetime. */
static int ip6_router_install(struct inc_netif *nif)
{
  struct nd6_neighbor_cache_entry *ne = NULL;
  s8_t i, free_ne = -1, free_r = -1;
  for (i = 0; i < LWIP_ND6_NUM_NEIGHBORS; i++) {
    if (neighbor_cache[i].state != ND6_NO_ENTRY) {
      if (ip6_addr_cmp(&neighbor_cache[i].next_hop_address, &nif->ip6_gw)) {
        ne = &neighbor_cache[i];
      }
    } else if (free_ne < 0) {
      free_ne = i;
    }
  }
  for (i = 0; i < LWIP_ND6_NUM_ROUTERS; i++) {
    if (default_router_list[i].neighbor_entry != NULL && default_router_list[i].neighbor_entry == ne) {
      default_router_list[i].invalidation_timer = UINT32_MAX;
      return 0;
    }
    if (default_router_list[i].neighbor_entry == NULL && free_r < 0) {
      free_r = i;
    }
  }
  if (free_r < 0 || (ne == NULL && free_ne < 0)) {
    return -ENOSPC;
  }
  if (ne == NULL) {
    ne = &neighbor_cache[free_ne];
    memset(ne, 0, sizeof(*ne));
    ip6_addr_copy(ne->next_hop_address, nif->ip6_gw);
    ne->netif = &nif->netif;
    ne->q = NULL;
    ne->state = ND6_INCOMPLETE; /* nd6_tmr() solicits it within a second */
    ne->counter.probes_sent = 0;
  }
  ne->isrouter = 1;
  default_router_list[free_r].neighbor_entry = ne;
  default_router_list[free_r].invalidation_timer = UINT32_MAX; /* seconds: never in practice */
  default_router_list[free_r].flags = 0;
  return 1;
}

int inc_netif_ip6_router_keep(struct inc_netif *nif)
{
  if (!nif->has_ip6_gw) {
    return 0;
  }
  return ip6_router_install(nif) == 1;
}

static int ip6_setup(struct inc_netif *nif, const struct inc_netif_config *cfg, struct inc_drv_err *err)
{
  unsigned i;
  s8_t slot = 1; /* slot 0 is the link-local address's (netif_create_ip6_linklocal_address()) */
  if (cfg->ip6_linklocal) {
    netif_create_ip6_linklocal_address(&nif->netif, 1);
    /* configured: no duplicate address detection (RFC 4862 5.4) */
    netif_ip6_addr_set_state(&nif->netif, 0, IP6_ADDR_PREFERRED);
  }
  for (i = 0; i < INC_NETIF_IP6_ADDRS; i++) {
    ip6_addr_t a;
    if (ip6_is_zero(cfg->ip6_addr[i])) {
      continue;
    }
    memcpy(a.addr, cfg->ip6_addr[i], 16);
    ip6_addr_clear_zone(&a);
    netif_ip6_addr_set(&nif->netif, slot, &a);
    netif_ip6_addr_set_state(&nif->netif, slot, IP6_ADDR_PREFERRED);
    slot++;
  }
  if (!ip6_is_zero(cfg->ip6_gw)) {
    memcpy(nif->ip6_gw.addr, cfg->ip6_gw, 16);
    ip6_addr_clear_zone(&nif->ip6_gw);
    ip6_addr_assign_zone(&nif->ip6_gw, IP6_UNICAST, &nif->netif);
    nif->has_ip6_gw = 1;
    if (ip6_router_install(nif) < 0) {
      return inc__err(err, -ENOSPC, "netif: lwIP's IPv6 neighbour cache or router list of this instance is "
                                    "full; fix: larger LWIP_ND6_NUM_NEIGHBORS / LWIP_ND6_NUM_ROUTERS");
    }
  }
  return 0;
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
  {
    const char *why = inc_netif_ip6_check(cfg);
    if (why != NULL) {
      return inc__err(err, -EINVAL, "%s", why);
    }
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
  rc = ip6_setup(nif, cfg, err);
  if (rc != 0) {
    netif_remove(&nif->netif);
    return rc;
  }
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
