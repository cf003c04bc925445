/*
 * The software RSS wire (wire.h): each frame goes to the receive queue the
 * receiver's RSS configuration picks, through the fault injector.
 */
#include "inception/wire.h"

#include <errno.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "drivers_priv.h"
#include "fault_priv.h"
#include "inception/port.h"

/* ---- control plane ------------------------------------------------------ */

static void rings_free(struct inc_wire *w)
{
  int d;
  uint16_t q;
  for (d = 0; d < 2; d++) {
    for (q = 0; q < INC_DRV_MAX_QUEUES; q++) {
      rte_ring_free(w->rings[d][q]);
      w->rings[d][q] = NULL;
    }
  }
}

/* Multi-producer (RTS: no stall when a producer is preempted) and single
 * consumer (the queue's worker). */
static int rings_make(struct inc_wire *w, int dir, uint16_t n, struct inc_drv_err *err)
{
  uint16_t q;
  for (q = 0; q < n; q++) {
    char name[64];
    if (snprintf(name, sizeof(name), "incw_%s_%d_%u", w->name, dir, q) >= (int)RTE_RING_NAMESIZE) {
      return inc__err(err, -EINVAL, "wire %s: ring name %s too long; fix: a shorter wire name", w->name, name);
    }
    w->rings[dir][q] = rte_ring_create(name, w->ring_size, SOCKET_ID_ANY, RING_F_MP_RTS_ENQ | RING_F_SC_DEQ);
    if (w->rings[dir][q] == NULL) {
      return inc__err(err, -rte_errno, "wire %s: cannot create ring %s (%s); fix: %s", w->name, name,
                      rte_strerror(rte_errno),
                      rte_errno == EEXIST ? "use a wire name not in use in this process"
                                          : "give the EAL more memory (-m) or use smaller rings");
    }
  }
  return 0;
}

static int create_ring_ports(struct inc_wire *w, struct inc_drv_err *err)
{
  char name[40];
  int pa, pb;
  snprintf(name, sizeof(name), "%sa", w->name);
  pa = rte_eth_from_rings(name, w->rings[1], w->queues_a, w->rings[0], w->queues_b, SOCKET_ID_ANY);
  if (pa < 0) {
    return inc__err(err, -rte_errno, "wire %s: cannot create net_ring port %s (%s); fix: %s", w->name,
                    name, rte_strerror(rte_errno),
                    rte_errno == EEXIST ? "use a wire name not in use" : "check that the net_ring PMD is loaded");
  }
  snprintf(name, sizeof(name), "%sb", w->name);
  pb = rte_eth_from_rings(name, w->rings[0], w->queues_b, w->rings[1], w->queues_a, SOCKET_ID_ANY);
  if (pb < 0) {
    char a[48];
    snprintf(a, sizeof(a), "net_ring_%sa", w->name);
    rte_vdev_uninit(a);
    return inc__err(err, -rte_errno, "wire %s: cannot create net_ring port %s (%s)", w->name, name,
                    rte_strerror(rte_errno));
  }
  w->port_a = (uint16_t)pa;
  w->port_b = (uint16_t)pb;
  return 0;
}

static int create_memif_port(struct inc_wire *w, const struct inc_wire_config *cfg, struct inc_drv_err *err)
{
  char name[48], args[320];
  struct inc__logcap cap;
  int rc;
  if (cfg->memif_socket == NULL || strlen(cfg->memif_socket) > 200) {
    return inc__err(err, -EINVAL, "wire %s: memif needs a socket path (at most 200 characters); fix: "
                                  "set memif_socket to the same path in both processes",
                    w->name);
  }
  snprintf(name, sizeof(name), "net_memif_%s", w->name);
  snprintf(args, sizeof(args), "role=%s,socket=%s,socket-abstract=no,id=0",
           cfg->memif_server ? "server" : "client", cfg->memif_socket);
  inc__logcap_begin(&cap);
  rc = rte_vdev_init(name, args);
  inc__logcap_end(&cap);
  if (rc != 0) {
    return inc__err(err, -EINVAL, "wire %s: net_memif device %s,%s refused%s%s%s; fix: check the socket "
                                  "path's directory, remove a stale socket file, and check that no other "
                                  "process is the %s",
                    w->name, name, args, cap.last[0] ? "; DPDK said: \"" : "", cap.last,
                    cap.last[0] ? "\"" : "", cfg->memif_server ? "server" : "client");
  }
  if (rte_eth_dev_get_port_by_name(name, &w->port_a) != 0) {
    rte_vdev_uninit(name);
    return inc__err(err, -ENODEV, "wire %s: memif device %s has no port", w->name, name);
  }
  w->port_b = w->port_a;
  return 0;
}

int inc_wire_create(struct inc_wire *w, const struct inc_wire_config *cfg, struct inc_drv_err *err)
{
  int rc;
  if (w == NULL || cfg == NULL || cfg->name == NULL || cfg->name[0] == '\0' || strlen(cfg->name) > 16) {
    return inc__err(err, -EINVAL, "wire: needs a name of 1 to 16 characters");
  }
  if (cfg->queues_a == 0 || cfg->queues_b == 0 || cfg->queues_a > INC_DRV_MAX_QUEUES ||
      cfg->queues_b > INC_DRV_MAX_QUEUES) {
    return inc__err(err, -EINVAL, "wire %s: %u and %u queues; fix: 1 to %d on each end", cfg->name,
                    cfg->queues_a, cfg->queues_b, INC_DRV_MAX_QUEUES);
  }
  if (inc__fault_check(&cfg->fault_ab) != 0 || inc__fault_check(&cfg->fault_ba) != 0) {
    return inc__err(err, -EINVAL, "wire %s: fault settings out of range; fix: loss and duplicate "
                                  "0..100 %%, reorder window at most %d, delay at most 10 s",
                    cfg->name, INC_DRV_WIRE_MAX_HELD / 2);
  }
  if (cfg->kind != INC_WIRE_RING && cfg->kind != INC_WIRE_MEMIF) {
    return inc__err(err, -EINVAL, "wire %s: unknown kind %d", cfg->name, (int)cfg->kind);
  }
  memset(w, 0, sizeof(*w));
  w->kind = cfg->kind;
  snprintf(w->name, sizeof(w->name), "%s", cfg->name);
  w->queues_a = cfg->queues_a;
  w->queues_b = cfg->queues_b;
  w->fault[0] = cfg->fault_ab;
  w->fault[1] = cfg->fault_ba;
  w->ring_size = cfg->ring_size ? cfg->ring_size : INC_DRV_WIRE_RING;
  if (w->ring_size & (w->ring_size - 1)) {
    return inc__err(err, -EINVAL, "wire %s: ring size %u; fix: a power of two", w->name, w->ring_size);
  }
  if (w->kind == INC_WIRE_RING) {
    rc = rings_make(w, 0, w->queues_b, err);
    if (rc == 0) {
      rc = rings_make(w, 1, w->queues_a, err);
    }
    if (rc == 0) {
      rc = create_ring_ports(w, err);
    }
  } else {
    rc = rings_make(w, 0, w->queues_b, err); /* staging toward memif's single-producer queues */
    if (rc == 0) {
      rc = create_memif_port(w, cfg, err);
    }
  }
  if (rc != 0) {
    rings_free(w);
    return rc;
  }
  w->created = 1;
  return 0;
}

int inc_wire_attach(struct inc_wire *w, struct inc_port *a, struct inc_port *b,
                    const struct inc_rss_conf *peer_rss, struct inc_drv_err *err)
{
  if (w == NULL || !w->created || a == NULL || a->port_id != w->port_a || a->n_queues != w->queues_a ||
      a->n_tx_queues != w->queues_b) {
    return inc__err(err, -EINVAL, "wire: end A must be the wire's port %u with %u RX and %u TX queues; "
                                  "fix: inc_port_init(cfg.port_id = port_a, n_queues = queues_a, "
                                  "n_tx_queues = queues_b)",
                    w ? w->port_a : 0, w ? w->queues_a : 0, w ? w->queues_b : 0);
  }
  if (w->kind == INC_WIRE_RING) {
    if (b == NULL || b->port_id != w->port_b || b->n_queues != w->queues_b || b->n_tx_queues != w->queues_a) {
      return inc__err(err, -EINVAL, "wire %s: end B must be port %u with %u RX and %u TX queues", w->name,
                      w->port_b, w->queues_b, w->queues_a);
    }
    w->peer[0] = b->rss; /* A's frames land on B's queues */
    w->peer[1] = a->rss;
    w->end[1] = b;
    b->wire = w;
    b->wire_side = 1;
  } else if (peer_rss != NULL) {
    if (peer_rss->n_queues != w->queues_b) {
      return inc__err(err, -EINVAL, "wire %s: the peer's RSS has %u queues, the wire %u", w->name,
                      peer_rss->n_queues, w->queues_b);
    }
    w->peer[0] = *peer_rss;
  } else {
    inc_rss_conf_init(&w->peer[0], NULL, 40, w->queues_b, INC_DRV_RETA_SIZE);
  }
  w->end[0] = a;
  a->wire = w;
  a->wire_side = 0;
  return 0;
}

int inc_wire_destroy(struct inc_wire *w)
{
  char name[48];
  /* the ports are closed (inc_port_close); their devices go now */
  if (w->kind == INC_WIRE_RING) {
    snprintf(name, sizeof(name), "net_ring_%sa", w->name);
    rte_vdev_uninit(name);
    snprintf(name, sizeof(name), "net_ring_%sb", w->name);
    rte_vdev_uninit(name);
  } else {
    snprintf(name, sizeof(name), "net_memif_%s", w->name);
    rte_vdev_uninit(name);
  }
  rings_free(w);
  w->created = 0;
  return 0;
}

unsigned inc_wire_drain(struct inc_wire *w)
{
  unsigned n = 0;
  int d;
  uint16_t q;
  if (w == NULL) {
    return 0;
  }
  for (d = 0; d < 2; d++) {
    for (q = 0; q < INC_DRV_MAX_QUEUES; q++) {
      void *m = NULL;
      while (w->rings[d][q] != NULL && rte_ring_dequeue(w->rings[d][q], &m) == 0) {
        rte_pktmbuf_free((struct rte_mbuf *)m);
        n++;
      }
    }
  }
  return n;
}

/* ---- data path ---------------------------------------------------------- */

static uint16_t dest_queue(const struct inc_wire *w, int side, const struct rte_mbuf *m)
{
  return inc_rss_queue_of_frame(&w->peer[side], rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
}

/* Puts a run of frames for one receive queue on the wire. */
static unsigned send_run(struct inc_netif *nif, uint16_t dest, struct rte_mbuf **pkts, unsigned n)
{
  struct inc_wire *w = nif->port->wire;
  uint32_t lens[INC_DRV_BURST];
  unsigned sent, i;
  for (i = 0; i < n; i++) {
    lens[i] = pkts[i]->pkt_len;
  }
  if (w->kind == INC_WIRE_RING) {
    sent = rte_eth_tx_burst(nif->port->port_id, dest, pkts, (uint16_t)n);
  } else {
    sent = rte_ring_enqueue_burst(w->rings[0][dest], (void *const *)pkts, n, NULL);
  }
  for (i = 0; i < sent; i++) {
    nif->cnt.tx_bytes += lens[i];
  }
  nif->cnt.tx_packets += sent;
  for (i = sent; i < n; i++) {
    rte_pktmbuf_free(pkts[i]); /* the receive queue is full: lost on the wire */
    nif->cnt.tx_dropped++;
  }
  return sent;
}

/* Sends frames in order, grouped by destination queue. */
static unsigned deliver(struct inc_netif *nif, struct rte_mbuf **pkts, unsigned n)
{
  struct inc_wire *w = nif->port->wire;
  struct rte_mbuf *run[INC_DRV_BURST];
  unsigned i, k = 0, sent = 0;
  uint16_t cur = 0;
  for (i = 0; i < n; i++) {
    uint16_t d = dest_queue(w, nif->port->wire_side, pkts[i]);
    if (k > 0 && (d != cur || k == INC_DRV_BURST)) {
      sent += send_run(nif, cur, run, k);
      k = 0;
    }
    cur = d;
    run[k++] = pkts[i];
  }
  if (k > 0) {
    sent += send_run(nif, cur, run, k);
  }
  return sent;
}

/* A duplicate that shares no header with the original: the receivers of the
 * two may each rewrite headers (coalescing does). */
static struct rte_mbuf *duplicate(struct inc_netif *nif, struct rte_mbuf *m)
{
  struct rte_mbuf *d = rte_pktmbuf_alloc(nif->pool);
  if (d == NULL) {
    return NULL;
  }
  memcpy(rte_pktmbuf_mtod(d, void *), rte_pktmbuf_mtod(m, const void *), m->data_len);
  d->data_len = m->data_len;
  d->pkt_len = m->pkt_len;
  d->nb_segs = m->nb_segs;
  if (m->next != NULL) {
    d->next = rte_pktmbuf_clone(m->next, nif->clones);
    if (d->next == NULL) {
      rte_pktmbuf_free(d);
      return NULL;
    }
  }
  return d;
}

static void hold(struct inc_netif *nif, struct rte_mbuf *m, uint64_t now)
{
  if (inc__fault_hold(&nif->faults, m, now) != 0) {
    void *out[1];
    /* full: the earliest frame goes now */
    if (inc__fault_release(&nif->faults, now, out, 1, 1) == 1) {
      deliver(nif, (struct rte_mbuf **)out, 1);
    }
    if (inc__fault_hold(&nif->faults, m, now) != 0) {
      rte_pktmbuf_free(m);
      nif->cnt.tx_dropped++;
    }
  }
}

static unsigned release_due(struct inc_netif *nif, uint64_t now)
{
  void *out[INC_DRV_BURST];
  unsigned n, sent = 0;
  while ((n = inc__fault_release(&nif->faults, now, out, INC_DRV_BURST, 0)) > 0) {
    sent += deliver(nif, (struct rte_mbuf **)out, n);
  }
  return sent;
}

/* memif: the staging rings of the queues this core owns go into memif. */
static unsigned drain_staging(struct inc_netif *nif)
{
  struct inc_wire *w = nif->port->wire;
  unsigned total = 0;
  uint16_t j;
  if (w->kind != INC_WIRE_MEMIF) {
    return 0;
  }
  for (j = nif->first_tx_owned; j < nif->port->n_tx_queues; j = (uint16_t)(j + nif->port->n_queues)) {
    struct rte_mbuf *buf[INC_DRV_BURST];
    unsigned n = rte_ring_dequeue_burst(w->rings[0][j], (void **)buf, INC_DRV_BURST, NULL);
    unsigned sent, i;
    if (n == 0) {
      continue;
    }
    sent = rte_eth_tx_burst(nif->port->port_id, j, buf, (uint16_t)n);
    for (i = sent; i < n; i++) {
      rte_pktmbuf_free(buf[i]);
      nif->cnt.tx_dropped++;
    }
    total += sent;
  }
  return total;
}

unsigned inc__wire_tx(struct inc_netif *nif, struct rte_mbuf **pkts, unsigned n)
{
  unsigned sent = 0, i;
  if (!nif->faults.active) {
    sent = n > 0 ? deliver(nif, pkts, n) : 0;
  } else {
    uint64_t now = inc__now_ns();
    for (i = 0; i < n; i++) {
      unsigned v = inc__fault_decide(&nif->faults);
      if (v & INC__FAULT_DROP) {
        rte_pktmbuf_free(pkts[i]);
        continue;
      }
      if (v & INC__FAULT_DUP) {
        struct rte_mbuf *d = duplicate(nif, pkts[i]);
        if (d != NULL) {
          hold(nif, d, now);
        }
      }
      hold(nif, pkts[i], now);
    }
    sent = release_due(nif, now);
  }
  drain_staging(nif);
  return sent;
}

void inc__wire_drain(struct inc_netif *nif)
{
  void *out[INC_DRV_BURST];
  unsigned n, i;
  if (nif->port == NULL || nif->port->wire == NULL) {
    return;
  }
  while ((n = inc__fault_drain(&nif->faults, out, INC_DRV_BURST)) > 0) {
    for (i = 0; i < n; i++) {
      rte_pktmbuf_free((struct rte_mbuf *)out[i]);
    }
  }
}
