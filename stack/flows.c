/*
 * Which core owns which connection: flow-table entries for this core's TCP
 * connections, kept for exactly as long as lwIP keeps their pcb.
 *
 * lwIP's per-pcb extension arguments (LWIP_TCP_PCB_NUM_EXT_ARGS, upstream
 * lwIP) carry the bookkeeping: a listening pcb gets a passive_open callback,
 * called when a SYN creates a connection (before the SYN|ACK leaves), which
 * records the new flow; every tracked pcb gets a destroy callback, called when
 * lwIP frees it (after TIME_WAIT, on abort, on close of a never-connected
 * pcb), which removes the flow. The ext arg's data is the flow's key, from a
 * per-core pool.
 */
#include <errno.h>
#include <string.h>

#include "lwip/ip_addr.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "stack_priv.h"

static struct inc_worker *self_worker(void)
{
  struct inc_lwip_instance *inst = inc_lwip_instance_self();
  return inst != NULL ? (struct inc_worker *)inst->ctx : NULL;
}

int inc__flow_key_of(const struct inc_worker *w, const struct tcp_pcb *pcb, struct inc_flow_key *key)
{
  const struct inc_stack *s = w->stack;
  unsigned p;
  int port = -1;

  /* the port whose netif carries the pcb's local address */
  for (p = 0; p < s->cfg.n_ports; p++) {
    struct netif *nif = (struct netif *)(uintptr_t)&w->nif[p].netif; /* lwIP takes it non-const */
    if (IP_IS_V4(&pcb->local_ip) && ip4_addr_cmp(ip_2_ip4(&pcb->local_ip), netif_ip4_addr(nif))) {
      port = (int)p;
      break;
    }
    if (IP_IS_V6(&pcb->local_ip) && netif_get_ip6_addr_match(nif, ip_2_ip6(&pcb->local_ip)) >= 0) {
      port = (int)p;
      break;
    }
  }
  if (port < 0) {
    return -ENOENT;
  }
  if (IP_IS_V4(&pcb->local_ip)) {
    inc_flow_key_v4(key, IP_PROTO_TCP, s->cfg.ports[port].port->port_id, ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip)),
                    pcb->local_port, ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)), pcb->remote_port);
  } else {
    inc_flow_key_v6(key, IP_PROTO_TCP, s->cfg.ports[port].port->port_id,
                    (const uint8_t *)ip_2_ip6(&pcb->local_ip)->addr, pcb->local_port,
                    (const uint8_t *)ip_2_ip6(&pcb->remote_ip)->addr, pcb->remote_port);
  }
  return 0;
}

static void flow_destroyed(u8_t id, void *data)
{
  struct inc_worker *w = self_worker();
  struct inc_flow_key *key = (struct inc_flow_key *)data;
  (void)id;
  if (w == NULL || key == NULL) {
    return;
  }
  if (inc_flow_remove(w->stack->flows, w->index, key) == 0) {
    INC__CNT_SUB(w, flows_owned, 1);
  }
  inc_pool_free(w->flow_keys, key);
}

static err_t flow_passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *cpcb)
{
  struct inc_worker *w = self_worker();
  int rc;
  (void)lpcb;
  (void)id;
  if (w == NULL) {
    return ERR_OK;
  }
  rc = inc__flow_track(w, cpcb);
  if (rc == -EEXIST) {
    /* another core owns this 4-tuple (a SYN that raced the steering of its
     * flow): let lwIP drop the new pcb without answering; the owner answers */
    return ERR_ABRT;
  }
  /* no room in this core's flow pool: accept the connection untracked (its
   * packets still reach this core whenever the NIC hashes them here) */
  return ERR_OK;
}

static const struct tcp_ext_arg_callbacks flow_cbs = {flow_destroyed, NULL};
static const struct tcp_ext_arg_callbacks listen_cbs = {NULL, flow_passive_open};

int inc__flow_track(struct inc_worker *w, struct tcp_pcb *pcb)
{
  /* the key is kept for the destroy callback: by then lwIP has cleared the
   * pcb's local port (tcp_pcb_remove()) */
  struct inc_flow_key *key = (struct inc_flow_key *)inc_pool_alloc(w->flow_keys);
  int rc;
  if (key == NULL) {
    return -ENOMEM;
  }
  rc = inc__flow_key_of(w, pcb, key);
  if (rc == 0) {
    rc = inc_flow_insert(w->stack->flows, w->index, key, (uint16_t)w->index);
  }
  if (rc != 0) {
    inc_pool_free(w->flow_keys, key);
    return rc;
  }
  tcp_ext_arg_set_callbacks(pcb, w->ext_arg_id, &flow_cbs);
  tcp_ext_arg_set(pcb, w->ext_arg_id, key);
  INC__CNT_ADD(w, flows_owned, 1);
  INC__CNT_ADD(w, flows_opened, 1);
  return 0;
}

void inc__flow_track_listener(struct inc_worker *w, struct tcp_pcb *lpcb)
{
  /* tcp_listen() copies the ext args of the pcb into the listening pcb */
  tcp_ext_arg_set_callbacks(lpcb, w->ext_arg_id, &listen_cbs);
  tcp_ext_arg_set(lpcb, w->ext_arg_id, NULL);
}

/* ---- active opens --------------------------------------------------------- */

int inc__errno_of(err_t err)
{
  switch (err) {
  case ERR_OK: return 0;
  case ERR_MEM: return -ENOMEM;
  case ERR_BUF: return -ENOBUFS;
  case ERR_TIMEOUT: return -ETIMEDOUT;
  case ERR_RTE: return -EHOSTUNREACH;
  case ERR_INPROGRESS: return -EINPROGRESS;
  case ERR_VAL: return -EINVAL;
  case ERR_WOULDBLOCK: return -EWOULDBLOCK;
  case ERR_USE: return -EADDRINUSE;
  case ERR_ALREADY: return -EALREADY;
  case ERR_ISCONN: return -EISCONN;
  case ERR_CONN: return -ENOTCONN;
  case ERR_IF: return -ENETDOWN;
  case ERR_ABRT: return -ECONNABORTED;
  case ERR_RST: return -ECONNRESET;
  case ERR_CLSD: return -ENOTCONN;
  case ERR_ARG: return -EINVAL;
  default: return -EIO;
  }
}

int inc__tcp_connect(struct inc_worker *w, struct tcp_pcb *pcb, const ip_addr_t *remote, u16_t rport,
                     tcp_connected_fn connected)
{
  err_t err;
  int rc;

  if (pcb->local_port == 0) {
    /* choose the port here rather than in tcp_connect(): the flow must be in
     * the table before the SYN leaves, or a core that receives the SYN|ACK
     * first would not know where it belongs */
    ip_addr_t local;
    const ip_addr_t *src;
    struct netif *nif = ip_route(&pcb->local_ip, remote);
    unsigned tries;
    if (nif == NULL) {
      return -EHOSTUNREACH;
    }
    src = ip_addr_isany(&pcb->local_ip) ? ip_netif_get_local_ip(nif, remote) : &pcb->local_ip;
    if (src == NULL) {
      return -EADDRNOTAVAIL;
    }
    ip_addr_copy(local, *src);
    for (tries = 0; tries < INC__EPHEMERAL_PORTS; tries++) {
      u16_t port = (u16_t)(INC__EPHEMERAL_FIRST + w->next_port % INC__EPHEMERAL_PORTS);
      w->next_port++;
      if (!inc__port_ok(w, &local, remote, rport, port, IP_PROTO_TCP)) {
        continue;
      }
      err = tcp_bind(pcb, &local, port);
      if (err == ERR_USE) {
        continue;
      }
      if (err != ERR_OK) {
        return inc__errno_of(err);
      }
      break;
    }
    if (pcb->local_port == 0) {
      return -EADDRNOTAVAIL; /* every port of the range is taken on this core */
    }
  }
  /* the key needs the remote end, which tcp_connect() would set */
  ip_addr_copy(pcb->remote_ip, *remote);
  pcb->remote_port = rport;
  rc = inc__flow_track(w, pcb);
  if (rc != 0 && rc != -ENOENT) {
    return rc == -EEXIST ? -EADDRINUSE : rc;
  }
  err = tcp_connect(pcb, remote, rport, connected);
  return inc__errno_of(err);
}
