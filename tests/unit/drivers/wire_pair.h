// A software RSS wire with both ends configured and started (test support).
#ifndef INC_TEST_WIRE_PAIR_H
#define INC_TEST_WIRE_PAIR_H

#include <cstdint>
#include <memory>
#include <string>

#include "inception/netif.h"
#include "inception/port.h"
#include "inception/wire.h"

namespace drvtest {

struct WireOpts {
  uint16_t qa = 1, qb = 1;
  inc_wire_fault ab{}, ba{};
  uint32_t want_a = 0, want_b = 0;  // 0: all offloads
  uint32_t deny_a = 0, deny_b = 0;
  const uint8_t* key_b = nullptr;   // B's RSS key (NULL: symmetric)
  uint32_t mbufs = 4095, clones = 4095;
};

struct WirePair {
  inc_wire w{};
  inc_port a{}, b{};
  bool up = false;
  // Creates, configures, attaches and starts both ends. Returns "" or an error.
  std::string create(const std::string& name, const WireOpts& o);
  // Closes both ports and frees the wire; returns 0 or the first error.
  int destroy();
  ~WirePair() { destroy(); }
};

// A netif on a port's queue, added on the calling thread (which owns an lwIP
// instance). IPv4 a.b.c.d/24 given in host order.
std::unique_ptr<inc_netif> make_netif(inc_port* port, uint16_t queue, uint32_t ip_host_order);

// A static ARP entry in the calling thread's lwIP instance (ip in host order).
void static_arp(uint32_t ip, const uint8_t mac[6]);

// Runs one poll of the netif plus lwIP's timers.
// Returns the frames received.
unsigned poll_once(inc_netif* nif);

}  // namespace drvtest

#endif
