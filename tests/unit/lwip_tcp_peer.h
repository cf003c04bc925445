// A hand-made TCP peer for the tests of the lwIP patches (upstream-patches/):
// one lwIP instance on the calling thread, a netif without a link layer that
// keeps every packet lwIP sends, and crafted IPv4/TCP segments into it.
// Thread: the instance's owner thread only (one peer per thread at a time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lwip/netif.h"
#include "lwip/tcp.h"

namespace lwip_peer {

constexpr uint32_t kLocal = 0x0a000001u;  // 10.0.0.1, host order: lwIP's address
constexpr uint32_t kPeer = 0x0a000002u;   // 10.0.0.2: the crafted peer
constexpr uint16_t kPeerPort = 40000;
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

// A TCP segment lwIP sent, decoded (host order).
struct Segment {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t wnd = 0;  // the raw field, unscaled
  std::vector<uint8_t> payload;
};

struct Peer {
  struct netif nif {};
  std::vector<std::vector<uint8_t>> sent;  // IPv4 packets lwIP sent, oldest first
  uint16_t from_port = kPeerPort;          // the peer's port of the next segments

  // Adds and brings up the netif (10.0.0.1/24) of the calling thread's
  // instance; sent packets go to this peer. Fails the test on error.
  void up();
  // Removes the netif.
  void down();

  struct tcp_pcb* accepted = nullptr;  // the last connection listen()'s listener accepted

  // Opens a listener on port whose accept callback stores each new pcb in
  // `accepted`. Returns it; nullptr (and the test fails) if lwIP refuses.
  struct tcp_pcb* listen(uint16_t port);

  // Sends one segment from the peer (kPeer:from_port) to kLocal:port, with
  // len bytes of payload (byte i is uint8_t(seq + i)), window field wnd and
  // TCP options opts (padded to 4 bytes). Fails the test if lwIP refuses it.
  void send(uint16_t port, uint8_t flags, uint32_t seq, uint32_t ack, size_t len, uint16_t wnd = 65535,
            const std::vector<uint8_t>& opts = {});

  // Decodes sent packet i (the test fails if it is not IPv4/TCP).
  Segment segment(size_t i) const;
};

// TCP options: MSS, window scale (shift), and a NOP.
std::vector<uint8_t> opt_mss(uint16_t mss);
std::vector<uint8_t> opt_wscale(uint8_t shift);
std::vector<uint8_t> operator+(std::vector<uint8_t> a, const std::vector<uint8_t>& b);

}  // namespace lwip_peer
