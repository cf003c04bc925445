/*
 * Ports: creation, queues, pools, RSS, offload negotiation (port.h).
 * Capture switching is in capture.c.
 */
#include "inception/port.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "drivers_priv.h"
#include "inception/wire.h"

#ifndef INC_DPDK_PMD_DIR
#define INC_DPDK_PMD_DIR "/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0"
#endif

/* ---- pools -------------------------------------------------------------- */

struct map_scan {
  uintptr_t first, prev;
  uint32_t stride;
  uint32_t n;
  int regular;
};

/* net_tap's start message carries at most RTE_MP_MAX_FD_NUM (8) fds */
#define INC__TAP_MAX_FDS 8u

static void scan_obj(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
  struct map_scan *s = (struct map_scan *)arg;
  uintptr_t a = (uintptr_t)obj;
  (void)mp;
  (void)idx;
  if (s->n == 0) {
    s->first = a;
  } else if (s->n == 1) {
    s->stride = (uint32_t)(a - s->prev);
  } else if (a - s->prev != s->stride) {
    s->regular = 0;
  }
  s->prev = a;
  s->n++;
}

/* A pool of n mbufs with Inception's private area and a data room of room
 * bytes. RTS ring ops: safe when lcores outnumber cores (a preempted thread
 * does not stall the others, unlike the default MP/MC ring). In IOVA-as-VA
 * mode objects need not be IOVA-contiguous per page, so they are packed
 * (and lie at a fixed stride, which the address lookup relies on). */
static struct rte_mempool *pool_create(const char *name, unsigned n, uint16_t room, int socket,
                                       struct inc_port_pool_map *map)
{
  struct rte_pktmbuf_pool_private pp;
  struct rte_mempool *mp;
  struct map_scan scan = {0, 0, 0, 0, 1};
  unsigned flags = rte_eal_iova_mode() == RTE_IOVA_VA ? RTE_MEMPOOL_F_NO_IOVA_CONTIG : 0;
  unsigned cache = n / 4 < INC_DRV_MBUF_CACHE ? n / 4 : INC_DRV_MBUF_CACHE;
  int rc;

  mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) + INC__MBUF_PRIV_SIZE + room, cache,
                                sizeof(struct rte_pktmbuf_pool_private), socket, flags);
  if (mp == NULL) {
    return NULL;
  }
  rc = rte_mempool_set_ops_byname(mp, "ring_mt_rts", NULL);
  if (rc != 0) {
    rte_mempool_free(mp);
    rte_errno = -rc;
    return NULL;
  }
  memset(&pp, 0, sizeof(pp));
  pp.mbuf_data_room_size = room;
  pp.mbuf_priv_size = INC__MBUF_PRIV_SIZE;
  rte_pktmbuf_pool_init(mp, &pp);
  rc = rte_mempool_populate_default(mp);
  if (rc < 0 || (unsigned)rc != n) {
    rte_mempool_free(mp);
    rte_errno = rc < 0 ? -rc : ENOMEM;
    return NULL;
  }
  rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
  rte_mempool_obj_iter(mp, scan_obj, &scan);
  map->mp = mp;
  map->hdr = mp->header_size;
  if (scan.regular && scan.n == n && scan.stride != 0) {
    map->first = scan.first;
    map->stride = scan.stride;
    map->end = scan.first + (uintptr_t)scan.stride * n;
  } else {
    /* irregular layout: buffers lwIP references are copied, not found */
    map->first = map->end = 0;
    map->stride = 0;
  }
  return mp;
}

static struct rte_mbuf *map_lookup(const struct inc_port_pool_map *map, uintptr_t a)
{
  struct rte_mbuf *m;
  uintptr_t buf;
  if (map->stride == 0 || a < map->first || a >= map->end) {
    return NULL;
  }
  m = (struct rte_mbuf *)(map->first + (a - map->first) / map->stride * map->stride);
  buf = (uintptr_t)m->buf_addr;
  if (m->pool != map->mp || RTE_MBUF_CLONED(m) || a < buf || a >= buf + m->buf_len) {
    return NULL;
  }
  return m;
}

static struct rte_mbuf *port_lookup(const struct inc_port *port, uintptr_t a)
{
  uint16_t q;
  int i;
  for (q = 0; q < port->n_queues; q++) {
    for (i = 0; i < 3; i++) {
      struct rte_mbuf *m = map_lookup(&port->q[q].map[i], a);
      if (m != NULL) {
        return m;
      }
    }
  }
  return NULL;
}

struct rte_mbuf *inc__port_mbuf_of_addr(const struct inc_port *port, const void *addr)
{
  struct rte_mbuf *m = port_lookup(port, (uintptr_t)addr);
  if (m == NULL && port->wire != NULL) {
    /* on the software wire, received buffers come from the peer's pools */
    const struct inc_port *peer = port->wire->end[port->wire_side ^ 1];
    if (peer != NULL && peer != port) {
      m = port_lookup(peer, (uintptr_t)addr);
    }
  }
  return m;
}

static void pools_free(struct inc_port *port)
{
  uint16_t q;
  for (q = 0; q < INC_DRV_MAX_QUEUES; q++) {
    rte_mempool_free(port->q[q].pool);
    rte_mempool_free(port->q[q].clones);
    rte_mempool_free(port->q[q].large);
    port->q[q].pool = port->q[q].clones = port->q[q].large = NULL;
  }
}

/* Every mbuf of the port's pools is back (none held by lwIP or a peer)? */
static int pools_full(const struct inc_port *port)
{
  uint16_t q;
  for (q = 0; q < INC_DRV_MAX_QUEUES; q++) {
    const struct inc_port_queue *pq = &port->q[q];
    if ((pq->pool && !rte_mempool_full(pq->pool)) || (pq->clones && !rte_mempool_full(pq->clones)) ||
        (pq->large && !rte_mempool_full(pq->large))) {
      return 0;
    }
  }
  return 1;
}

unsigned inc_port_mbufs_in_use(const struct inc_port *port)
{
  unsigned n = 0;
  uint16_t q;
  if (port == NULL) {
    return 0;
  }
  for (q = 0; q < INC_DRV_MAX_QUEUES; q++) {
    const struct inc_port_queue *pq = &port->q[q];
    n += pq->pool != NULL ? rte_mempool_in_use_count(pq->pool) : 0;
    n += pq->clones != NULL ? rte_mempool_in_use_count(pq->clones) : 0;
    n += pq->large != NULL ? rte_mempool_in_use_count(pq->large) : 0;
  }
  return n;
}

static int pools_create(struct inc_port *port, const struct inc_port_config *cfg, int socket,
                        struct inc_drv_err *err)
{
  unsigned n_mbufs = cfg->mbufs ? cfg->mbufs : INC_DRV_MBUFS;
  unsigned n_clones = cfg->clones ? cfg->clones : INC_DRV_CLONES;
  int n_large = cfg->large_mbufs == 0 ? INC_DRV_LARGE_MBUFS : cfg->large_mbufs < 0 ? 0 : cfg->large_mbufs;
  uint32_t tag = rte_rand() & 0xffffff;
  uint16_t q;

  if (!(port->offloads.hw & INC_OFFLOAD_TSO) && !(port->offloads.sw & INC_OFFLOAD_TSO)) {
    n_large = 0; /* no large segments are built */
  }
  for (q = 0; q < port->n_queues; q++) {
    struct inc_port_queue *pq = &port->q[q];
    char name[RTE_MEMPOOL_NAMESIZE];
    snprintf(name, sizeof(name), "inc%06x_%u_%um", tag, port->port_id, q);
    pq->pool = pool_create(name, n_mbufs, INC_DRV_MBUF_DATAROOM, socket, &pq->map[0]);
    snprintf(name, sizeof(name), "inc%06x_%u_%uc", tag, port->port_id, q);
    pq->clones = pq->pool ? pool_create(name, n_clones, 0, socket, &pq->map[1]) : NULL;
    if (pq->pool == NULL || pq->clones == NULL) {
      goto fail;
    }
    if (n_large > 0) {
      snprintf(name, sizeof(name), "inc%06x_%u_%ul", tag, port->port_id, q);
      pq->large = pool_create(name, (unsigned)n_large, UINT16_MAX, socket, &pq->map[2]);
      if (pq->large == NULL) {
        goto fail;
      }
    }
  }
  return 0;
fail:
  pools_free(port);
  return inc__err(err, -ENOMEM,
                  "port %s: cannot create the mbuf pools of %u queues (%u mbufs, %u clones, %d "
                  "large per queue): %s; fix: give the EAL more memory (-m) or ask for fewer "
                  "mbufs (inc_port_config.mbufs/clones/large_mbufs)",
                  port->name, port->n_queues, n_mbufs, n_clones, n_large, rte_strerror(rte_errno));
}

/* ---- device creation ---------------------------------------------------- */

/* Is there a PMD plugin whose driver name is a prefix of devname (how the
 * vdev bus matches drivers)? Writes the driver name. */
static int pmd_known(const char *devname, char *drv, size_t drvlen)
{
  char cand[64];
  size_t len = strlen(devname), i;
  if (len >= sizeof(cand)) {
    return 0;
  }
  for (i = len; i > 0; i--) {
    char path[256];
    if (i != len && devname[i] != '_' && !(devname[i] >= '0' && devname[i] <= '9')) {
      continue;
    }
    memcpy(cand, devname, i);
    cand[i] = '\0';
    snprintf(path, sizeof(path), "%s/librte_%s.so", INC_DPDK_PMD_DIR, cand);
    if (access(path, F_OK) == 0) {
      snprintf(drv, drvlen, "%s", cand);
      return 1;
    }
  }
  return 0;
}

static const char *vdev_arg_hint(const char *drv)
{
  if (strcmp(drv, "net_tap") == 0) {
    return "net_tap takes iface=<tap name, at most 15 characters; a multi_queue tap made "
           "beforehand with `ip tuntap add mode tap multi_queue name <iface>` is attached>, "
           "mac=<xx:xx:xx:xx:xx:xx|fixed>, remote=<iface>";
  }
  if (strcmp(drv, "net_memif") == 0) {
    return "net_memif takes role=server|client, socket=<path>, socket-abstract=yes|no, "
           "id=<interface id>, bsize=<buffer size>, rsize=<log2 of ring size>";
  }
  if (strcmp(drv, "net_ring") == 0) {
    return "net_ring takes nodeaction=<name>:<numa node>:CREATE|ATTACH; in one process use "
           "a software wire (inc_wire_create) instead";
  }
  return "see the PMD's guide (doc.dpdk.org/guides/nics) for its arguments";
}

static const char *queue_hint(const char *drv)
{
  if (strcmp(drv, "net_tap") == 0) {
    return "net_tap opens one queue of the tap per DPDK queue (at most 16 each way); the tap "
           "must be multi_queue (`ip tuntap add mode tap multi_queue name <iface>`)";
  }
  if (strcmp(drv, "net_ring") == 0) {
    return "a net_ring port has as many queues as rings it was made with; make the software "
           "wire with more queues (inc_wire_config.queues_a/queues_b)";
  }
  if (strcmp(drv, "net_memif") == 0) {
    return "memif queues are set by the device's configuration on both sides";
  }
  return "use a device with more queues, or fewer workers on this port";
}

static int vdev_create(struct inc_port *port, const char *devargs, struct inc_drv_err *err)
{
  char name[64], drv[64];
  const char *comma = strchr(devargs, ',');
  size_t nlen = comma != NULL ? (size_t)(comma - devargs) : strlen(devargs);
  struct inc__logcap cap;
  int rc;

  if (nlen == 0 || nlen >= sizeof(name)) {
    return inc__err(err, -EINVAL,
                    "port: device \"%s\" has no usable name; fix: give \"<driver><n>[,args]\", "
                    "e.g. \"net_tap0,iface=tap0\"",
                    devargs);
  }
  memcpy(name, devargs, nlen);
  name[nlen] = '\0';
  inc__logcap_begin(&cap);
  rc = rte_vdev_init(name, comma != NULL ? comma + 1 : NULL);
  inc__logcap_end(&cap);
  if (rc != 0) {
    if (rc == -EEXIST) {
      return inc__err(err, -EEXIST,
                      "port: device %s already exists; fix: give each device a unique name "
                      "(e.g. with the process id) or use its port_id",
                      name);
    }
    if (!pmd_known(name, drv, sizeof(drv))) {
      return inc__err(err, -ENODEV,
                      "port: no PMD provides device \"%s\" (no driver whose name starts it, no "
                      "plugin librte_<driver>.so in %s); fix: check the device name (net_tap0, "
                      "net_memif0, ...) or load the PMD's plugin with the EAL argument "
                      "-d <path to librte_net_<pmd>.so>",
                      name, INC_DPDK_PMD_DIR);
    }
    return inc__err(err, -EINVAL, "port: PMD %s refused device \"%s\" with arguments \"%s\"%s%s%s; fix: %s",
                    drv, name, comma != NULL ? comma + 1 : "", cap.last[0] ? "; DPDK said: \"" : "",
                    cap.last, cap.last[0] ? "\"" : "", vdev_arg_hint(drv));
  }
  if (rte_eth_dev_get_port_by_name(name, &port->port_id) != 0) {
    rte_vdev_uninit(name);
    return inc__err(err, -ENODEV,
                    "port: device %s was created but is not an ethdev; fix: use a network PMD "
                    "(net_*)",
                    name);
  }
  port->vdev = 1;
  return 0;
}

/* ---- configuration ------------------------------------------------------ */

static uint64_t rx_bits(uint32_t hw)
{
  uint64_t b = 0;
  if (hw & INC_OFFLOAD_RX_IPV4_CKSUM) b |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
  if (hw & INC_OFFLOAD_RX_TCP_CKSUM) b |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
  if (hw & INC_OFFLOAD_RX_UDP_CKSUM) b |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
  if (hw & INC_OFFLOAD_LRO) b |= RTE_ETH_RX_OFFLOAD_TCP_LRO;
  return b;
}

static uint64_t tx_bits(uint32_t hw)
{
  uint64_t b = 0;
  if (hw & INC_OFFLOAD_TX_IPV4_CKSUM) b |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
  if (hw & INC_OFFLOAD_TX_TCP_CKSUM) b |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  if (hw & INC_OFFLOAD_TX_UDP_CKSUM) b |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  if (hw & INC_OFFLOAD_TSO) b |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
  if (hw & INC_OFFLOAD_MULTI_SEGS) b |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  return b;
}

static int check_config(const struct inc_port_config *cfg, struct inc_drv_err *err)
{
  if (cfg->n_queues == 0 || cfg->n_queues > INC_DRV_MAX_QUEUES ||
      cfg->n_tx_queues > INC_DRV_MAX_QUEUES) {
    return inc__err(err, -EINVAL,
                    "port: %u queues asked; fix: between 1 and INC_DRV_MAX_QUEUES (%d), one per "
                    "worker",
                    cfg->n_queues, INC_DRV_MAX_QUEUES);
  }
  if (cfg->rss_key != NULL && cfg->rss_key_len != 40 && cfg->rss_key_len != 52) {
    return inc__err(err, -EINVAL, "port: RSS key of %u bytes; fix: 40 or 52 bytes", cfg->rss_key_len);
  }
  if (cfg->mtu != 0 && (cfg->mtu < 576 || cfg->mtu > 9000)) {
    return inc__err(err, -EINVAL, "port: MTU %u; fix: between 576 and 9000", cfg->mtu);
  }
  if ((cfg->offload_want | cfg->offload_deny) & ~INC_OFFLOAD_ALL) {
    return inc__err(err, -EINVAL, "port: unknown offload bits %#x; fix: use INC_OFFLOAD_* only",
                    (cfg->offload_want | cfg->offload_deny) & ~INC_OFFLOAD_ALL);
  }
  return 0;
}

static int configure(struct inc_port *port, const struct inc_port_config *cfg,
                     const struct rte_eth_dev_info *di, struct inc_drv_err *err)
{
  struct rte_eth_conf conf;
  uint8_t key[INC_RSS_KEY_MAX];
  uint8_t key_len = cfg->rss_key_len ? cfg->rss_key_len : (di->hash_key_size ? di->hash_key_size : 40);
  struct inc__logcap cap;
  int rc;

  if (key_len != 40 && key_len != 52) {
    key_len = 40;
  }
  memcpy(key, cfg->rss_key != NULL ? cfg->rss_key : inc_rss_symmetric_key, key_len);
  memset(&conf, 0, sizeof(conf));
  conf.rxmode.mtu = port->mtu;
  conf.rxmode.offloads = port->rx_offloads;
  conf.txmode.offloads = port->tx_offloads;
  if (port->offloads.hw & INC_OFFLOAD_LRO) {
    conf.rxmode.max_lro_pkt_size = di->max_lro_pkt_size < UINT16_MAX ? di->max_lro_pkt_size : UINT16_MAX;
  }
  if (port->rss_hw) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = key;
    conf.rx_adv_conf.rss_conf.rss_key_len = key_len;
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & di->flow_type_rss_offloads;
  }
  inc__logcap_begin(&cap);
  rc = rte_eth_dev_configure(port->port_id, port->n_queues, port->n_tx_queues, &conf);
  inc__logcap_end(&cap);
  if (rc != 0) {
    return inc__err(err, rc,
                    "port %s (%s): rte_eth_dev_configure failed (%s)%s%s%s; fix: check the MTU "
                    "(%u, PMD range %u..%u) and queue counts",
                    port->name, port->driver, rte_strerror(-rc), cap.last[0] ? "; DPDK said: \"" : "",
                    cap.last, cap.last[0] ? "\"" : "", port->mtu, di->min_mtu, di->max_mtu);
  }
  rc = inc_rss_conf_init(&port->rss, key, key_len, port->n_queues,
                         port->rss_hw && di->reta_size ? di->reta_size : INC_DRV_RETA_SIZE);
  if (rc != 0) {
    return inc__err(err, rc, "port %s: RSS configuration (RETA of %u entries) unusable; fix: a PMD "
                             "with a RETA of at most %u entries",
                    port->name, di->reta_size, INC_RSS_RETA_MAX);
  }
  return 0;
}

static int queues_setup(struct inc_port *port, const struct inc_port_config *cfg,
                        const struct rte_eth_dev_info *di, int socket, struct inc_drv_err *err)
{
  uint16_t nrx = cfg->rx_desc ? cfg->rx_desc : INC_DRV_RX_DESC;
  uint16_t ntx = cfg->tx_desc ? cfg->tx_desc : INC_DRV_TX_DESC;
  struct rte_eth_rxconf rxc = di->default_rxconf;
  struct rte_eth_txconf txc = di->default_txconf;
  uint16_t q;
  int rc;

  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port->port_id, &nrx, &ntx);
  if (rc != 0) {
    return inc__err(err, rc, "port %s: descriptor counts not usable (%s); fix: use the defaults",
                    port->name, rte_strerror(-rc));
  }
  rxc.offloads = port->rx_offloads;
  txc.offloads = port->tx_offloads;
  for (q = 0; q < port->n_queues; q++) {
    rc = rte_eth_rx_queue_setup(port->port_id, q, nrx, (unsigned)socket, &rxc, port->q[q].pool);
    if (rc != 0) {
      return inc__err(err, rc, "port %s (%s): RX queue %u setup failed (%s); fix: fewer "
                               "descriptors or more mbufs",
                      port->name, port->driver, q, rte_strerror(-rc));
    }
  }
  for (q = 0; q < port->n_tx_queues; q++) {
    rc = rte_eth_tx_queue_setup(port->port_id, q, ntx, (unsigned)socket, &txc);
    if (rc != 0) {
      return inc__err(err, rc, "port %s (%s): TX queue %u setup failed (%s); fix: fewer "
                               "descriptors",
                      port->name, port->driver, q, rte_strerror(-rc));
    }
  }
  return 0;
}

int inc_port_init(struct inc_port *port, const struct inc_port_config *cfg, struct inc_drv_err *err)
{
  struct rte_eth_dev_info di;
  char desc[320];
  int rc, socket, rss_capa;

  if (port == NULL || cfg == NULL) {
    return inc__err(err, -EINVAL, "port: no port or no config; fix: pass both");
  }
  rc = check_config(cfg, err);
  if (rc != 0) {
    return rc;
  }
  memset(port, 0, sizeof(*port));
  if (cfg->devargs != NULL) {
    rc = vdev_create(port, cfg->devargs, err);
    if (rc != 0) {
      return rc;
    }
  } else {
    if (!rte_eth_dev_is_valid_port(cfg->port_id)) {
      return inc__err(err, -ENODEV,
                      "port: no ethdev port %u (%u ports exist); fix: create the device first "
                      "(cfg.devargs, --vdev, or inc_wire_create)",
                      cfg->port_id, rte_eth_dev_count_avail());
    }
    port->port_id = cfg->port_id;
  }
  rte_eth_dev_get_name_by_port(port->port_id, port->name);
  rc = rte_eth_dev_info_get(port->port_id, &di);
  if (rc != 0) {
    rc = inc__err(err, rc, "port %s: cannot read device info (%s); fix: check the device",
                  port->name, rte_strerror(-rc));
    goto fail;
  }
  snprintf(port->driver, sizeof(port->driver), "%s", di.driver_name);
  /* net_tap (22.11) refuses a TSO packet when segment size plus all headers,
   * Ethernet included, exceed the MTU, and then stops the whole burst */
  port->tso_counts_l2 = strcmp(port->driver, "net_tap") == 0;
  port->n_queues = cfg->n_queues;
  port->n_tx_queues = cfg->n_tx_queues ? cfg->n_tx_queues : cfg->n_queues;
  port->mtu = cfg->mtu ? cfg->mtu : INC_DRV_MTU;
  if (port->n_queues > di.max_rx_queues || port->n_tx_queues > di.max_tx_queues) {
    int rx_short = port->n_queues > di.max_rx_queues;
    rc = inc__err(err, -ERANGE,
                  "port %s (%s): the PMD offers at most %u %s queues but %u were asked (one per "
                  "worker); fix: run at most %u workers on this port, or: %s",
                  port->name, port->driver, rx_short ? di.max_rx_queues : di.max_tx_queues,
                  rx_short ? "RX" : "TX", rx_short ? port->n_queues : port->n_tx_queues,
                  rx_short ? di.max_rx_queues : di.max_tx_queues, queue_hint(port->driver));
    goto fail;
  }
  if (port->tso_counts_l2 && port->n_queues + port->n_tx_queues > INC__TAP_MAX_FDS) {
    /* DPDK 22.11's net_tap copies one fd per RX and per TX queue into
     * rte_mp_msg.fds[RTE_MP_MAX_FD_NUM] when it starts, without a bound:
     * more than 4 queue pairs smash its stack in rte_eth_dev_start() */
    rc = inc__err(err, -ERANGE,
                  "port %s (net_tap): %u RX + %u TX queues, but this DPDK's net_tap crashes when it "
                  "starts with more than %u queues in all; fix: run at most %u workers on a tap port",
                  port->name, port->n_queues, port->n_tx_queues, INC__TAP_MAX_FDS, INC__TAP_MAX_FDS / 2);
    goto fail;
  }
  if (port->mtu > di.max_mtu || port->mtu < di.min_mtu) {
    rc = inc__err(err, -EINVAL, "port %s (%s): MTU %u outside the PMD's range %u..%u; fix: choose an "
                                "MTU in that range",
                  port->name, port->driver, port->mtu, di.min_mtu, di.max_mtu);
    goto fail;
  }
  rss_capa = port->n_queues > 1 && di.flow_type_rss_offloads != 0 && di.reta_size > 0;
  inc_offload_negotiate(di.rx_offload_capa, di.tx_offload_capa, rss_capa,
                        cfg->offload_want ? cfg->offload_want : INC_OFFLOAD_ALL, cfg->offload_deny,
                        &port->offloads);
  port->rss_hw = (port->offloads.hw & INC_OFFLOAD_RSS) != 0;
  port->rx_offloads = rx_bits(port->offloads.hw);
  port->tx_offloads = tx_bits(port->offloads.hw);
  if (di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) {
    port->rx_offloads |= RTE_ETH_RX_OFFLOAD_SCATTER; /* frames beyond one mbuf arrive chained */
  }
  socket = cfg->socket_id >= 0 ? cfg->socket_id : rte_eth_dev_socket_id(port->port_id);
  if (socket < 0) {
    socket = 0;
  }
  rc = pools_create(port, cfg, socket, err);
  if (rc != 0) {
    goto fail;
  }
  rc = configure(port, cfg, &di, err);
  if (rc == 0) {
    rc = queues_setup(port, cfg, &di, socket, err);
  }
  if (rc != 0) {
    goto fail_pools;
  }
  {
    struct rte_ether_addr mac;
    if (rte_eth_macaddr_get(port->port_id, &mac) == 0) {
      memcpy(port->mac, mac.addr_bytes, 6);
    }
  }
  INC_LOG(INFO, "port %s (%s): %u RX / %u TX queues, MTU %u, RSS %s, offloads: %s\n", port->name,
          port->driver, port->n_queues, port->n_tx_queues, port->mtu,
          port->rss_hw ? "by the PMD (symmetric key)" : "not by the PMD",
          inc_offload_describe(&port->offloads, desc, sizeof(desc)));
  return 0;
fail_pools:
  rte_eth_dev_close(port->port_id);
  pools_free(port);
  if (port->vdev) {
    rte_vdev_uninit(port->name);
  }
  port->vdev = 0;
  return rc;
fail:
  if (port->vdev) {
    rte_vdev_uninit(port->name);
    port->vdev = 0;
  }
  return rc;
}

static void reta_apply(struct inc_port *port)
{
  struct rte_eth_rss_reta_entry64 conf[INC_RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
  uint16_t size = port->rss.reta_size, i;
  int rc;
  if (!port->rss_hw || size % RTE_ETH_RETA_GROUP_SIZE != 0) {
    return;
  }
  memset(conf, 0, sizeof(conf));
  for (i = 0; i < size; i++) {
    conf[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
    conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = port->rss.reta[i];
  }
  rc = rte_eth_dev_rss_reta_update(port->port_id, conf, size);
  if (rc != 0) {
    /* keep what the PMD has: steering needs the table that is really used */
    rc = rte_eth_dev_rss_reta_query(port->port_id, conf, size);
    if (rc == 0) {
      for (i = 0; i < size; i++) {
        port->rss.reta[i] = conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
      }
    }
    INC_LOG(WARNING, "port %s: RETA update refused; %s\n", port->name,
            rc == 0 ? "using the PMD's table" : "the PMD's table is unknown");
  }
}

int inc_port_start(struct inc_port *port, struct inc_drv_err *err)
{
  struct inc__logcap cap;
  int rc;
  inc__logcap_begin(&cap);
  rc = rte_eth_dev_start(port->port_id);
  inc__logcap_end(&cap);
  if (rc != 0) {
    return inc__err(err, rc, "port %s (%s): start failed (%s)%s%s%s; fix: see DPDK's message",
                    port->name, port->driver, rte_strerror(-rc), cap.last[0] ? "; DPDK said: \"" : "",
                    cap.last, cap.last[0] ? "\"" : "");
  }
  port->started = 1;
  reta_apply(port);
  rc = rte_eth_dev_set_link_up(port->port_id);
  if (rc != 0 && rc != -ENOTSUP) {
    INC_LOG(WARNING, "port %s: link up: %s\n", port->name, rte_strerror(-rc));
  }
  return 0;
}

int inc_port_close(struct inc_port *port)
{
  int rc = 0;
  if (port->started) {
    rte_eth_dev_stop(port->port_id);
    port->started = 0;
  }
  rte_eth_dev_close(port->port_id);
  if (port->vdev) {
    rte_vdev_uninit(port->name);
    port->vdev = 0;
  }
  if (!pools_full(port)) {
    /* freeing would pull memory from under whoever still holds mbufs */
    INC_LOG(ERR, "port %s: mbufs still held at close (lwIP pbufs not freed, or a peer still "
                 "holds frames); the pools are left allocated\n",
            port->name);
    return -EBUSY;
  }
  pools_free(port);
  return rc;
}
