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
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip_tcp_peer.h"

namespace {

using namespace lwip_peer;

constexpr uint16_t kPort = 7000;
constexpr uint32_t kPeerIsn = 1000000u;

struct Conn {
  Peer peer;
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
  c.peer.send(kPort, flags, seq, ack, len);
}

class LwipTcpOoseq : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(inc_lwip_instance_init(&inst_), 0);
    g_conn = &c_;
    c_.peer.up();
    struct tcp_pcb* l = tcp_new();
    ASSERT_NE(l, nullptr);
    ASSERT_EQ(tcp_bind(l, IP4_ADDR_ANY, kPort), ERR_OK);
    c_.listener = tcp_listen(l);
    ASSERT_NE(c_.listener, nullptr);
    tcp_accept(c_.listener, on_accept);
    // handshake without options: no window scaling, rcv_wnd is 65535
    peer_send(c_, kSyn, kPeerIsn, 0, 0);
    ASSERT_EQ(c_.peer.sent.size(), 1u);
    c_.isn = c_.peer.segment(0).seq;
    peer_send(c_, kAck, kPeerIsn + 1, c_.isn + 1, 0);
    ASSERT_NE(c_.pcb, nullptr);
    ASSERT_EQ(c_.pcb->state, ESTABLISHED);
  }

  void TearDown() override {
    if (c_.pcb != nullptr) tcp_abort(c_.pcb);
    if (c_.listener != nullptr) tcp_close(c_.listener);
    c_.peer.down();
    EXPECT_EQ(inc_lwip_instance_detach(&inst_), 0);
    g_conn = nullptr;
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
