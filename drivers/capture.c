/*
 * pcap capture of a port's queues, switched at run time (port.h): the control
 * thread posts a request in the queue's slot, the queue's worker applies it
 * at its next poll and owns the file while capturing.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "drivers_priv.h"
#include "inception/port.h"

static int range(const struct inc_port *port, uint16_t queue, uint16_t *first, uint16_t *last)
{
  if (queue == INC_PORT_ALL_QUEUES) {
    *first = 0;
    *last = (uint16_t)(port->n_queues - 1);
    return 0;
  }
  if (queue >= port->n_queues) {
    return -EINVAL;
  }
  *first = *last = queue;
  return 0;
}

static int pending(struct inc_port_capture *c)
{
  /* acquire pairs with the release store of applied in inc__capture_apply():
   * once equal, the worker no longer reads path/on */
  return __atomic_load_n(&c->applied, __ATOMIC_ACQUIRE) != __atomic_load_n(&c->requested, __ATOMIC_RELAXED);
}

static int post(struct inc_port *port, uint16_t queue, const char *prefix, struct inc_drv_err *err)
{
  uint16_t first, last, q;
  if (range(port, queue, &first, &last) != 0) {
    return inc__err(err, -EINVAL, "capture: queue %u of port %s does not exist (%u queues)", queue,
                    port->name, port->n_queues);
  }
  for (q = first; q <= last; q++) {
    if (pending(&port->q[q].capture)) {
      return inc__err(err, -EBUSY,
                      "capture: the previous switch of port %s queue %u is not applied yet; fix: "
                      "let its worker poll (inc_port_capture_wait) before switching again",
                      port->name, q);
    }
  }
  for (q = first; q <= last; q++) {
    struct inc_port_capture *c = &port->q[q].capture;
    if (prefix != NULL) {
      int n = snprintf(c->path, sizeof(c->path), "%s-p%u-q%u.pcapng", prefix, port->port_id, q);
      if (n < 0 || (size_t)n >= sizeof(c->path)) {
        return inc__err(err, -EINVAL, "capture: path prefix \"%s\" too long; fix: under %zu characters",
                        prefix, sizeof(c->path) - 24);
      }
      c->on = 1;
    } else {
      c->on = 0;
    }
    /* release pairs with the acquire load in inc__capture_apply(): path and
     * on are visible to the worker before the new generation is */
    __atomic_store_n(&c->requested, __atomic_load_n(&c->requested, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
  }
  return 0;
}

int inc_port_capture_start(struct inc_port *port, uint16_t queue, const char *prefix,
                           struct inc_drv_err *err)
{
  if (port == NULL || prefix == NULL) {
    return inc__err(err, -EINVAL, "capture: no port or no path prefix");
  }
  return post(port, queue, prefix, err);
}

int inc_port_capture_stop(struct inc_port *port, uint16_t queue)
{
  if (port == NULL) {
    return -EINVAL;
  }
  return post(port, queue, NULL, NULL);
}

int inc_port_capture_wait(struct inc_port *port, uint16_t queue, unsigned timeout_ms)
{
  uint16_t first, last, q;
  uint64_t deadline = inc__now_ns() + (uint64_t)timeout_ms * 1000000u;
  if (port == NULL || range(port, queue, &first, &last) != 0) {
    return -EINVAL;
  }
  for (q = first; q <= last; q++) {
    while (pending(&port->q[q].capture)) {
      if (inc__now_ns() > deadline) {
        return -ETIMEDOUT;
      }
      usleep(100);
    }
  }
  return 0;
}

void inc__capture_apply(struct inc_netif *nif)
{
  struct inc_port_capture *c = &nif->port->q[nif->queue].capture;
  /* acquire pairs with the release store of requested in post() */
  uint32_t req = __atomic_load_n(&c->requested, __ATOMIC_ACQUIRE);
  if (req == nif->cap_gen) {
    return;
  }
  if (nif->cap_on) {
    if (inc_pcap_close(&nif->pcap) != 0) {
      nif->cnt.cap_errors++;
    }
    nif->cap_on = 0;
  }
  if (c->on) {
    char ifname[80];
    struct inc_pcap_config pc;
    snprintf(ifname, sizeof(ifname), "%s/q%u", nif->port->name, nif->queue);
    memset(&pc, 0, sizeof(pc));
    pc.path = c->path;
    pc.if_name = ifname;
    pc.buf = nif->pcap_buf;
    pc.buf_len = sizeof(nif->pcap_buf);
    int rc = inc_pcap_open(&nif->pcap, &pc);
    if (rc == 0) {
      nif->cap_on = 1;
    } else {
      nif->cnt.cap_errors++;
      INC_LOG(ERR, "capture: cannot create %s: %s\n", c->path, strerror(-rc));
    }
  }
  nif->cap_gen = req;
  /* release pairs with the acquire load in pending(): the worker is done
   * with path and on */
  __atomic_store_n(&c->applied, req, __ATOMIC_RELEASE);
}

void inc__capture_frames(struct inc_netif *nif, struct rte_mbuf *const *pkts, unsigned n,
                         enum inc_pcap_dir dir)
{
  uint64_t now = inc__wall_ns();
  unsigned i;
  for (i = 0; i < n; i++) {
    struct inc_pcap_seg segs[16];
    const struct rte_mbuf *s = pkts[i];
    unsigned k = 0;
    uint32_t len = 0;
    for (; s != NULL && k < 16; s = s->next) {
      segs[k].data = rte_pktmbuf_mtod(s, const void *);
      segs[k].len = s->data_len;
      len += s->data_len;
      k++;
    }
    if (inc_pcap_write(&nif->pcap, now, segs, k, len, dir) == 0) {
      nif->cnt.cap_written++;
    } else {
      nif->cnt.cap_errors++;
    }
  }
}
