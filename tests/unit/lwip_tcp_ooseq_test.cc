// lwIP's receiver and out-of-order segments that end beyond the receive
// window (upstream-patches/0006, LWIP_TCP_OOSEQ_TRIM_WND): hand-made segments
// into one lwIP instance on this thread, through a netif without a link layer.
//
// Without the patch, lwIP 2.1.3 queues the first out-of-order segment whole,
// and when the hole before it is filled, tcp_receive() fails its assertion
// "tcp_receive: ooseq tcplen > rcv_wnd" (the process aborts): a remote peer
// crashes the stack.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "inc_lwip_instance.h"
#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

namespace {

constexpr uint32_t kLocal = 0x0a000001u;  // 10.0.0.1, host order
constexpr uint32_t kPeer = 0x0a000002u;   // 10.0.0.2
constexpr uint16_t kPort = 7000;
constexpr uint16_t kPeerPort = 40000;
constexpr uint32_t kPeerIsn = 1000000u;
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10;

std::vector<std::vector<uint8_t>>* g_sent;  // packets the instance sent (this thread only)

err_t capture_output(struct netif*, struct pbuf* p, const ip4_addr_t*) {
  std::vector<uint8_t> v(p->tot_len);
  pbuf_copy_partial(p, v.data(), p->tot_len, 0);
  g_sent->push_back(std::move(v));
  return ERR_OK;
}

err_t netif_init_fn(struct netif* n) {
  n->output = capture_output;
  n->mtu = 1500;
  n->name[0] = 't';
  n->name[1] = 'o';
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

uint32_t get32(const uint8_t* b) { return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3]; }

struct Conn {
  struct netif nif {};
  std::vector<std::vector<uint8_t>> sent;
  struct tcp_pcb* listener = nullptr;
  struct tcp_pcb* pcb = nullptr;
  uint64_t delivered = 0;  // bytes handed to the application (never tcp_recved: the window closes)
  bool got_fin = false;
  uint32_t isn = 0;  // the instance's
};

Conn* g_conn;

err_t on_recv(void*, struct tcp_pcb*, struct pbuf* p, err_t) {
  if (p == nullptr) {
    g_conn->got_fin = true;
    return ERR_OK;
  }
  g_conn->delivered += p->tot_len;
  pbuf_free(p);
  return ERR_OK;
}

err_t on_accept(void*, struct tcp_pcb* newpcb, err_t err) {
  if (err != ERR_OK || newpcb == nullptr) return ERR_VAL;
  g_conn->pcb = newpcb;
  tcp_recv(newpcb, on_recv);
  return ERR_OK;
}

// Sends one segment from the peer, with len bytes of payload (a pattern).
void peer_send(Conn& c, uint8_t flags, uint32_t seq, uint32_t ack, size_t len) {
  const size_t total = 20 + 20 + len;
  struct pbuf* p = pbuf_alloc(PBUF_RAW, uint16_t(total), PBUF_RAM);
  ASSERT_NE(p, nullptr);
  uint8_t* b = static_cast<uint8_t*>(p->payload);
  std::memset(b, 0, 40);
  b[0] = 0x45;
  put16(b + 2, uint16_t(total));
  b[8] = 64;
  b[9] = 6;  // TCP
  put32(b + 12, kPeer);
  put32(b + 16, kLocal);
  put16(b + 10, fold(sum16(b, 20, 0)));
  uint8_t* t = b + 20;
  put16(t, kPeerPort);
  put16(t + 2, kPort);
  put32(t + 4, seq);
  put32(t + 8, ack);
  t[12] = 5 << 4;
  t[13] = flags;
  put16(t + 14, 65535);
  for (size_t i = 0; i < len; i++) t[20 + i] = uint8_t(seq + i);
  uint32_t s = sum16(b + 12, 8, 0) + 6 + uint32_t(20 + len);
  put16(t + 16, fold(sum16(t, 20 + len, s)));
  ASSERT_EQ(c.nif.input(p, &c.nif), ERR_OK);
}

class LwipTcpOoseq : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(inc_lwip_instance_init(&inst_), 0);
    g_conn = &c_;
    g_sent = &c_.sent;
    ip4_addr_t a, m, gw;
    ip4_addr_set_u32(&a, PP_HTONL(kLocal));
    ip4_addr_set_u32(&m, PP_HTONL(0xffffff00u));
    ip4_addr_set_zero(&gw);
    ASSERT_NE(netif_add(&c_.nif, &a, &m, &gw, nullptr, netif_init_fn, ip4_input), nullptr);
    netif_set_up(&c_.nif);
    netif_set_link_up(&c_.nif);
    struct tcp_pcb* l = tcp_new();
    ASSERT_NE(l, nullptr);
    ASSERT_EQ(tcp_bind(l, IP4_ADDR_ANY, kPort), ERR_OK);
    c_.listener = tcp_listen(l);
    ASSERT_NE(c_.listener, nullptr);
    tcp_accept(c_.listener, on_accept);
    // handshake without options: no window scaling, rcv_wnd is 65535
    peer_send(c_, kSyn, kPeerIsn, 0, 0);
    ASSERT_EQ(c_.sent.size(), 1u);
    c_.isn = get32(&c_.sent[0][24]);
    peer_send(c_, kAck, kPeerIsn + 1, c_.isn + 1, 0);
    ASSERT_NE(c_.pcb, nullptr);
    ASSERT_EQ(c_.pcb->state, ESTABLISHED);
  }

  void TearDown() override {
    if (c_.pcb != nullptr) tcp_abort(c_.pcb);
    if (c_.listener != nullptr) tcp_close(c_.listener);
    netif_remove(&c_.nif);
    EXPECT_EQ(inc_lwip_instance_detach(&inst_), 0);
    g_conn = nullptr;
    g_sent = nullptr;
  }

  // Fills the receive window in order until only `left` bytes are open.
  void close_window_to(uint32_t left) {
    const uint32_t wnd = c_.pcb->rcv_wnd;
    ASSERT_GT(wnd, left);
    peer_send(c_, kAck | kPsh, c_.pcb->rcv_nxt, c_.isn + 1, wnd - left);
    ASSERT_EQ(c_.pcb->rcv_wnd, left);
  }

  inc_lwip_instance inst_{};
  Conn c_;
};

TEST_F(LwipTcpOoseq, FirstOutOfOrderSegmentBeyondTheWindow_IsTrimmedToIt) {
  close_window_to(535);
  const uint32_t nxt = c_.pcb->rcv_nxt;
  const uint32_t edge = nxt + c_.pcb->rcv_wnd;
  const uint64_t before = c_.delivered;
  // out of order (hole of 100 bytes), 1000 bytes: ends 565 bytes beyond the edge
  peer_send(c_, kAck | kPsh, nxt + 100, c_.isn + 1, 1000);
  ASSERT_NE(c_.pcb->ooseq, nullptr);
  EXPECT_EQ(c_.pcb->ooseq->tcphdr->seqno, nxt + 100);  // host order once received
  EXPECT_EQ(c_.pcb->ooseq->len, edge - (nxt + 100)) << "queued beyond the receive window";
  // the hole is filled: lwIP 2.1.3 asserted "ooseq tcplen > rcv_wnd" here
  peer_send(c_, kAck | kPsh, nxt, c_.isn + 1, 100);
  EXPECT_EQ(c_.pcb->ooseq, nullptr);
  EXPECT_EQ(c_.pcb->rcv_nxt, edge);
  EXPECT_EQ(c_.pcb->rcv_wnd, 0u);
  EXPECT_EQ(c_.delivered - before, 535u);
}

TEST_F(LwipTcpOoseq, OutOfOrderFinBeyondTheWindow_IsDroppedWithTheTrimmedBytes) {
  close_window_to(535);
  const uint32_t nxt = c_.pcb->rcv_nxt;
  const uint32_t edge = nxt + c_.pcb->rcv_wnd;
  peer_send(c_, kAck | kPsh | kFin, nxt + 100, c_.isn + 1, 1000);
  ASSERT_NE(c_.pcb->ooseq, nullptr);
  EXPECT_EQ(TCPH_FLAGS(c_.pcb->ooseq->tcphdr) & TCP_FIN, 0);
  peer_send(c_, kAck | kPsh, nxt, c_.isn + 1, 100);
  EXPECT_EQ(c_.pcb->rcv_nxt, edge);
  EXPECT_EQ(c_.pcb->rcv_wnd, 0u);
  EXPECT_FALSE(c_.got_fin) << "the FIN was beyond the window";
  EXPECT_EQ(c_.pcb->state, ESTABLISHED);
}

TEST_F(LwipTcpOoseq, OutOfOrderSegmentInFrontOfTheQueueAndBeyondTheWindow_IsTrimmed) {
  close_window_to(535);
  const uint32_t nxt = c_.pcb->rcv_nxt;
  const uint32_t edge = nxt + c_.pcb->rcv_wnd;
  peer_send(c_, kAck | kPsh, nxt + 300, c_.isn + 1, 100);  // inside the window
  ASSERT_NE(c_.pcb->ooseq, nullptr);
  // put in front of it, covers it and ends beyond the edge
  peer_send(c_, kAck | kPsh, nxt + 200, c_.isn + 1, 1000);
  for (struct tcp_seg* s = c_.pcb->ooseq; s != nullptr; s = s->next) {
    EXPECT_FALSE(TCP_SEQ_GT(s->tcphdr->seqno + TCP_TCPLEN(s), edge)) << "queued beyond the edge";
  }
  peer_send(c_, kAck | kPsh, nxt, c_.isn + 1, 200);
  EXPECT_EQ(c_.pcb->rcv_nxt, edge);
  EXPECT_EQ(c_.pcb->rcv_wnd, 0u);
}

}  // namespace
