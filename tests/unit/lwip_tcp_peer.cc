// The hand-made TCP peer of the lwIP patch tests (lwip_tcp_peer.h).
#include "lwip_tcp_peer.h"

#include <gtest/gtest.h>

#include <cstring>

#include "lwip/ip4.h"
#include "lwip/pbuf.h"

namespace lwip_peer {
namespace {

err_t capture_output(struct netif* n, struct pbuf* p, const ip4_addr_t*) {
  auto* peer = static_cast<Peer*>(n->state);
  std::vector<uint8_t> v(p->tot_len);
  pbuf_copy_partial(p, v.data(), p->tot_len, 0);
  peer->sent.push_back(std::move(v));
  return ERR_OK;
}

err_t netif_init_fn(struct netif* n) {
  n->output = capture_output;
  n->mtu = 1500;
  n->name[0] = 't';
  n->name[1] = 'p';
  return ERR_OK;
}

uint32_t sum16(const uint8_t* b, size_t n, uint32_t s) {
  for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t(b[i]) << 8) | b[i + 1];
  if (n & 1) s += uint32_t(b[n - 1]) << 8;
  return s;
}

uint16_t fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint16_t(~s);
}

void put16(uint8_t* b, uint16_t v) {
  b[0] = uint8_t(v >> 8);
  b[1] = uint8_t(v);
}

void put32(uint8_t* b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b + 2, uint16_t(v));
}

uint16_t get16(const uint8_t* b) { return uint16_t((b[0] << 8) | b[1]); }

uint32_t get32(const uint8_t* b) { return (uint32_t(get16(b)) << 16) | get16(b + 2); }

}  // namespace

void Peer::up() {
  ip4_addr_t a, m, gw;
  ip4_addr_set_u32(&a, PP_HTONL(kLocal));
  ip4_addr_set_u32(&m, PP_HTONL(0xffffff00u));
  ip4_addr_set_zero(&gw);
  ASSERT_NE(netif_add(&nif, &a, &m, &gw, this, netif_init_fn, ip4_input), nullptr);
  netif_set_up(&nif);
  netif_set_link_up(&nif);
}

void Peer::down() { netif_remove(&nif); }

struct tcp_pcb* Peer::listen(uint16_t port) {
  struct tcp_pcb* l = tcp_new();
  EXPECT_NE(l, nullptr);
  if (l == nullptr) return nullptr;
  EXPECT_EQ(tcp_bind(l, IP4_ADDR_ANY, port), ERR_OK);
  struct tcp_pcb* lis = tcp_listen(l);
  EXPECT_NE(lis, nullptr);
  if (lis == nullptr) {
    tcp_close(l);
    return nullptr;
  }
  tcp_arg(lis, this);
  tcp_accept(lis, [](void* arg, struct tcp_pcb* newpcb, err_t err) -> err_t {
    if (err != ERR_OK || newpcb == nullptr) return ERR_VAL;
    static_cast<Peer*>(arg)->accepted = newpcb;
    return ERR_OK;
  });
  return lis;
}

void Peer::send(uint16_t port, uint8_t flags, uint32_t seq, uint32_t ack, size_t len, uint16_t wnd,
                const std::vector<uint8_t>& opts) {
  const size_t optlen = (opts.size() + 3) & ~size_t(3);
  const size_t thl = 20 + optlen;
  const size_t total = 20 + thl + len;
  struct pbuf* p = pbuf_alloc(PBUF_RAW, uint16_t(total), PBUF_RAM);
  ASSERT_NE(p, nullptr);
  uint8_t* b = static_cast<uint8_t*>(p->payload);
  std::memset(b, 0, 20 + thl);
  b[0] = 0x45;
  put16(b + 2, uint16_t(total));
  b[8] = 64;
  b[9] = 6;  // TCP
  put32(b + 12, kPeer);
  put32(b + 16, kLocal);
  put16(b + 10, fold(sum16(b, 20, 0)));
  uint8_t* t = b + 20;
  put16(t, from_port);
  put16(t + 2, port);
  put32(t + 4, seq);
  put32(t + 8, ack);
  t[12] = uint8_t((thl / 4) << 4);
  t[13] = flags;
  put16(t + 14, wnd);
  if (!opts.empty()) std::memcpy(t + 20, opts.data(), opts.size());  // the rest of the padding stays 0 (EOL)
  for (size_t i = 0; i < len; i++) t[thl + i] = uint8_t(seq + i);
  uint32_t s = sum16(b + 12, 8, 0) + 6 + uint32_t(thl + len);
  put16(t + 16, fold(sum16(t, thl + len, s)));
  ASSERT_EQ(nif.input(p, &nif), ERR_OK);
}

Segment Peer::segment(size_t i) const {
  Segment s;
  EXPECT_LT(i, sent.size());
  if (i >= sent.size()) return s;
  const std::vector<uint8_t>& v = sent[i];
  EXPECT_GE(v.size(), 40u);
  if (v.size() < 40) return s;
  const size_t ihl = size_t(v[0] & 0x0f) * 4;
  EXPECT_EQ(v[9], 6) << "not TCP";
  const uint8_t* t = v.data() + ihl;
  const size_t thl = size_t(t[12] >> 4) * 4;
  s.seq = get32(t + 4);
  s.ack = get32(t + 8);
  s.flags = t[13];
  s.wnd = get16(t + 14);
  s.payload.assign(v.begin() + long(ihl + thl), v.begin() + long(get16(v.data() + 2)));
  return s;
}

std::vector<uint8_t> opt_mss(uint16_t mss) { return {2, 4, uint8_t(mss >> 8), uint8_t(mss)}; }

std::vector<uint8_t> opt_wscale(uint8_t shift) { return {1, 3, 3, shift}; }

std::vector<uint8_t> operator+(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace lwip_peer
