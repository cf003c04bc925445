/*
 * The per-core raw API's UDP sockets (include/inception/raw.h): a UDP pcb of
 * the worker's lwIP instance with a state from the worker's pool (the
 * handle), datagrams delivered zero-copy.
 */
#include <errno.h>
#include <string.h>

#include "api_priv.h"
#include "lwip/ip.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"
#include "raw_priv.h"
#include "stack_priv.h"

#define UDP_MAX_PAYLOAD 65507u /* 65535 - IPv4 header - UDP header */

static void udp_tramp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
  struct inc_raw_udp *u = (struct inc_raw_udp *)arg;
  struct inc_addr src;
  (void)pcb;
  if (u == NULL || u->recv == NULL) {
    pbuf_free(p);
    return;
  }
  inc__addr_from_lwip(addr, &src);
  u->recv(u->arg, u, (struct inc_buf *)p, &src, port);
}

/* u is a live socket of the calling worker */
static int check(const struct inc_raw_udp *u)
{
  struct inc__raw_core *core = inc__raw_self();
  if (u == NULL) {
    return -EINVAL;
  }
  if (core == NULL || u->core != core) {
    return -EPERM;
  }
  return u->live ? 0 : -EBADF;
}

static void u_free(struct inc_raw_udp *u)
{
  struct inc__raw_core *core = u->core;
  if (u->prev != NULL) {
    u->prev->next = u->next;
  } else {
    core->udp_live = u->next;
  }
  if (u->next != NULL) {
    u->next->prev = u->prev;
  }
  u->live = 0;
  inc_pool_free(core->udp_pool, u);
}

int inc_raw_udp_open(struct inc_worker *w, const struct inc_addr *local, uint16_t port, inc_raw_udp_recv_fn recv,
                     void *arg, struct inc_raw_udp **out)
{
  struct inc__raw_core *core;
  struct inc_raw_udp *u;
  ip_addr_t ip;
  u8_t type;
  err_t err;
  int rc = 0;

  core = inc__raw_core_of(w, &rc);
  if (core == NULL) {
    return rc;
  }
  if (out == NULL) {
    return -EINVAL;
  }
  if (local == NULL || local->family == INC_AF_NONE) {
    ip_addr_copy(ip, *IP_ANY_TYPE);
    type = IPADDR_TYPE_ANY;
  } else if (local->family == INC_AF_INET || local->family == INC_AF_INET6) {
    type = local->family == INC_AF_INET ? IPADDR_TYPE_V4 : IPADDR_TYPE_V6;
    inc__addr_to_lwip(local, &ip);
  } else {
    return -EAFNOSUPPORT;
  }
  u = (struct inc_raw_udp *)inc_pool_alloc(core->udp_pool);
  if (u == NULL) {
    return -ENOMEM;
  }
  memset(u, 0, sizeof(*u));
  u->pcb = udp_new_ip_type(type);
  if (u->pcb == NULL) {
    inc_pool_free(core->udp_pool, u);
    return -ENOMEM;
  }
  if (port != 0) {
    err = udp_bind(u->pcb, &ip, port);
    if (err != ERR_OK) {
      udp_remove(u->pcb);
      inc_pool_free(core->udp_pool, u);
      return inc__errno_of(err);
    }
  } else {
    /* the port is chosen by the first connect (one whose replies hash to
     * this worker) or send (lwIP's choice) */
    ip_addr_copy(u->pcb->local_ip, ip);
  }
  u->core = core;
  u->recv = recv;
  u->arg = arg;
  u->live = 1;
  u->next = core->udp_live;
  if (u->next != NULL) {
    u->next->prev = u;
  }
  core->udp_live = u;
  udp_recv(u->pcb, udp_tramp, u);
  *out = u;
  return 0;
}

/* An ephemeral port for a connect to remote:rport whose replies hash to
 * this worker (lwIP's own choice happens before the remote end is known). */
static int bind_home(struct inc_raw_udp *u, const ip_addr_t *remote, uint16_t rport)
{
  struct inc__raw_core *core = u->core;
  struct netif *nif = ip_route(&u->pcb->local_ip, remote);
  const ip_addr_t *src;
  ip_addr_t local;
  unsigned tries;
  if (nif == NULL) {
    return -EHOSTUNREACH;
  }
  src = ip_addr_isany(&u->pcb->local_ip) ? ip_netif_get_local_ip(nif, remote) : &u->pcb->local_ip;
  if (src == NULL) {
    return -EADDRNOTAVAIL;
  }
  ip_addr_copy(local, *src);
  for (tries = 0; tries < INC__EPHEMERAL_PORTS; tries++) {
    uint16_t port = (uint16_t)(INC__EPHEMERAL_FIRST + core->next_udp_port++ % INC__EPHEMERAL_PORTS);
    err_t err;
    if (!inc__port_ok(core->w, &local, remote, rport, port, IP_PROTO_UDP)) {
      continue;
    }
    err = udp_bind(u->pcb, &u->pcb->local_ip, port);
    if (err == ERR_USE) {
      continue;
    }
    return inc__errno_of(err);
  }
  return -EADDRNOTAVAIL;
}

int inc_raw_udp_connect(struct inc_raw_udp *u, const struct inc_addr *remote, uint16_t rport)
{
  ip_addr_t rip;
  int rc = check(u);
  if (rc != 0) {
    return rc;
  }
  if (remote == NULL) {
    udp_disconnect(u->pcb);
    return 0;
  }
  if ((remote->family != INC_AF_INET && remote->family != INC_AF_INET6) || inc_addr_is_any(remote) || rport == 0) {
    return -EINVAL;
  }
  inc__addr_to_lwip(remote, &rip);
  if (!IP_ADDR_PCB_VERSION_MATCH(u->pcb, &rip)) {
    return -EINVAL;
  }
  if (u->pcb->local_port == 0) {
    rc = bind_home(u, &rip, rport);
    if (rc != 0) {
      return rc;
    }
  }
  return inc__errno_of(udp_connect(u->pcb, &rip, rport));
}

static int send_pbuf(struct inc_raw_udp *u, struct pbuf *p, const struct inc_addr *dst, uint16_t dport)
{
  ip_addr_t ip;
  if (dst == NULL) {
    if (!(u->pcb->flags & UDP_FLAGS_CONNECTED)) {
      return -EDESTADDRREQ;
    }
    return inc__errno_of(udp_send(u->pcb, p));
  }
  if ((dst->family != INC_AF_INET && dst->family != INC_AF_INET6) || dport == 0) {
    return -EINVAL;
  }
  inc__addr_to_lwip(dst, &ip);
  if (!IP_ADDR_PCB_VERSION_MATCH(u->pcb, &ip)) {
    return -EINVAL;
  }
  return inc__errno_of(udp_sendto(u->pcb, p, &ip, dport));
}

int inc_raw_udp_sendto(struct inc_raw_udp *u, const void *data, size_t len, const struct inc_addr *dst,
                       uint16_t dport)
{
  struct pbuf *p;
  int rc = check(u);
  if (rc != 0) {
    return rc;
  }
  if (data == NULL && len > 0) {
    return -EINVAL;
  }
  if (len > UDP_MAX_PAYLOAD) {
    return -EMSGSIZE;
  }
  /* PBUF_RAM: from the worker's mbufs (lwip-hooks/inc_lwip_bufs.h) */
  p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
  if (p == NULL) {
    return -ENOMEM;
  }
  if (len > 0) {
    pbuf_take(p, data, (u16_t)len);
  }
  rc = send_pbuf(u, p, dst, dport);
  pbuf_free(p);
  return rc;
}

int inc_raw_udp_sendto_buf(struct inc_raw_udp *u, struct inc_buf *b, const struct inc_addr *dst, uint16_t dport)
{
  int rc = check(u);
  if (rc != 0) {
    return rc;
  }
  if (b == NULL) {
    return -EINVAL;
  }
  if (((struct pbuf *)b)->tot_len > UDP_MAX_PAYLOAD) {
    return -EMSGSIZE;
  }
  /* the headers go into a buffer of their own in front of b's (lwIP cannot
   * grow a received buffer to the front): b's bytes leave by reference */
  return send_pbuf(u, (struct pbuf *)b, dst, dport);
}

int inc_raw_udp_local(const struct inc_raw_udp *u, struct inc_addr *addr, uint16_t *port)
{
  int rc = check(u);
  if (rc != 0) {
    return rc;
  }
  if (addr != NULL) {
    inc__addr_from_lwip(&u->pcb->local_ip, addr);
  }
  if (port != NULL) {
    *port = u->pcb->local_port;
  }
  return 0;
}

int inc_raw_udp_close(struct inc_raw_udp *u)
{
  int rc = check(u);
  if (rc != 0) {
    return rc;
  }
  udp_remove(u->pcb);
  u_free(u);
  return 0;
}

void inc__raw_udp_fini(struct inc__raw_core *core)
{
  struct inc_raw_udp *u;
  while ((u = core->udp_live) != NULL) {
    udp_remove(u->pcb);
    u_free(u);
  }
}
