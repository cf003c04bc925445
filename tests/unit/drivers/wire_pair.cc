#include "wire_pair.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

#include "lwip/etharp.h"
#include "lwip/timeouts.h"

namespace drvtest {

std::string WirePair::create(const std::string& name, const WireOpts& o) {
  inc_drv_err err{};
  inc_wire_config wc{};
  wc.name = name.c_str();
  wc.kind = INC_WIRE_RING;
  wc.queues_a = o.qa;
  wc.queues_b = o.qb;
  wc.fault_ab = o.ab;
  wc.fault_ba = o.ba;
  if (inc_wire_create(&w, &wc, &err) != 0) {
    return err.msg;
  }
  inc_port_config pa{};
  pa.port_id = w.port_a;
  pa.n_queues = o.qa;
  pa.n_tx_queues = o.qb;
  pa.offload_want = o.want_a;
  pa.offload_deny = o.deny_a;
  pa.mbufs = o.mbufs;
  pa.clones = o.clones;
  pa.socket_id = -1;
  if (inc_port_init(&a, &pa, &err) != 0) {
    return err.msg;
  }
  inc_port_config pb = pa;
  pb.port_id = w.port_b;
  pb.n_queues = o.qb;
  pb.n_tx_queues = o.qa;
  pb.offload_want = o.want_b;
  pb.offload_deny = o.deny_b;
  pb.rss_key = o.key_b;
  pb.rss_key_len = o.key_b ? 40 : 0;
  if (inc_port_init(&b, &pb, &err) != 0) {
    return err.msg;
  }
  if (inc_wire_attach(&w, &a, &b, nullptr, &err) != 0 || inc_port_start(&a, &err) != 0 ||
      inc_port_start(&b, &err) != 0) {
    return err.msg;
  }
  up = true;
  return "";
}

int WirePair::destroy() {
  if (!up) {
    return 0;
  }
  up = false;
  int ra = inc_port_close(&a);
  int rb = inc_port_close(&b);
  inc_wire_destroy(&w);
  return ra != 0 ? ra : rb;
}

std::unique_ptr<inc_netif> make_netif(inc_port* port, uint16_t queue, uint32_t ip) {
  auto nif = std::make_unique<inc_netif>();
  inc_netif_config c{};
  c.queue = queue;
  c.ip4_addr = htonl(ip);
  c.ip4_netmask = htonl(0xffffff00u);
  inc_drv_err err{};
  if (inc_netif_init(nif.get(), port, &c, &err) != 0) {
    fprintf(stderr, "make_netif: %s\n", err.msg);
    return nullptr;
  }
  return nif;
}

void static_arp(uint32_t ip, const uint8_t mac[6]) {
  ip4_addr_t a;
  eth_addr e;
  a.addr = htonl(ip);
  memcpy(e.addr, mac, 6);
  etharp_add_static_entry(&a, &e);
}

unsigned poll_once(inc_netif* nif) {
  unsigned n = inc_netif_poll(nif);
  sys_check_timeouts();
  return n;
}

}  // namespace drvtest
