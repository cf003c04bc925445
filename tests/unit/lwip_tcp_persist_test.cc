// lwIP's persist timer when the send window reopens to a multiple of 64 KiB
// (upstream-patches/0007, LWIP_TCP_PERSIST_SPLIT_WND): one lwIP instance on
// this thread, a hand-made peer, segments larger than the MSS
// (upstream-patches/0005, as with a netif that segments TCP itself).
//
// A segment of 3 MSS is lost; the retransmission timeout sets cwnd to one MSS,
// and tcp_output() cannot cut the segment down for lack of memory. The peer
// closes its window (the persist timer starts, and stops the retransmission
// timer), then reopens it to 64 or 128 KiB. When the persist timer fires,
// lwIP 2.1.3 splits the head at (u16_t)snd_wnd, which is 0: the assertion
// "Can't split segment into length 0" fails (the process aborts). With the
// patch, it splits at what fits cwnd; once memory is back, every byte goes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "inc_lwip_bufs.h"
#include "inc_lwip_instance.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip_tcp_peer.h"

namespace {

using namespace lwip_peer;

constexpr uint16_t kPort = 7001;
constexpr uint32_t kPeerIsn = 5000000u;
constexpr uint16_t kMss = 1460;
constexpr size_t kHead = 8 * kMss;  // the largest segment tcp_write() may build

// The thread's buffer provider: the C library, refusing blocks larger than
// refuse_above while that is not 0 (lwIP sees an empty pool).
struct Provider {
  inc_lwip_bufs bufs{};
  size_t refuse_above = 0;
  unsigned refused = 0;
  long live = 0;
};

void* provider_alloc(void* ctx, size_t size) {
  auto* pv = static_cast<Provider*>(ctx);
  if (pv->refuse_above != 0 && size > pv->refuse_above) {
    pv->refused++;
    return nullptr;
  }
  auto* b = static_cast<char*>(std::malloc(size + INC_LWIP_BUF_HDR));
  if (b == nullptr) return nullptr;
  pv->live++;
  return b + INC_LWIP_BUF_HDR;
}

void provider_free(void* ctx, void* mem) {
  static_cast<Provider*>(ctx)->live--;
  std::free(static_cast<char*>(mem) - INC_LWIP_BUF_HDR);
}

uint16_t seg_maxlen(void*, const struct tcp_pcb*, uint16_t) { return uint16_t(kHead); }

class LwipTcpPersist : public ::testing::Test {
 protected:
  void SetUp() override {
    pv_.bufs.alloc = provider_alloc;
    pv_.bufs.free = provider_free;
    pv_.bufs.max_size = 1u << 20;
    pv_.bufs.tcp_seg_maxlen = seg_maxlen;
    pv_.bufs.ctx = &pv_;
    ASSERT_EQ(inc_lwip_bufs_set(&pv_.bufs), 0);
    ASSERT_EQ(inc_lwip_instance_init(&inst_), 0);
    peer_.up();
    listener_ = peer_.listen(kPort);
    ASSERT_NE(listener_, nullptr);
    // MSS 1460, window scale 4: the peer's windows are fields << 4
    peer_.send(kPort, kSyn, kPeerIsn, 0, 0, 65535, opt_mss(kMss) + std::vector<uint8_t>{1} + opt_wscale(4));
    ASSERT_EQ(peer_.sent.size(), 1u);
    const Segment synack = peer_.segment(0);
    ASSERT_EQ(synack.flags, kSyn | kAck);
    isn_ = synack.seq;
    // the handshake's ACK opens 8192 << 4 = 128 KiB
    peer_.send(kPort, kAck, kPeerIsn + 1, isn_ + 1, 0, 8192);
    pcb_ = peer_.accepted;
    ASSERT_NE(pcb_, nullptr);
    ASSERT_EQ(pcb_->state, ESTABLISHED);
    ASSERT_EQ(pcb_->snd_wnd, 131072u);
    data_.resize(kHead);
    for (size_t i = 0; i < kHead; i++) data_[i] = uint8_t(i * 7 + 3);
  }

  void TearDown() override {
    if (pcb_ != nullptr) tcp_abort(pcb_);
    if (listener_ != nullptr) tcp_close(listener_);
    peer_.down();
    EXPECT_EQ(inc_lwip_instance_detach(&inst_), 0);
    EXPECT_EQ(inc_lwip_bufs_set(nullptr), 0);
    EXPECT_EQ(pv_.live, 0) << "blocks not given back";
  }

  void lose_close_reopen(uint16_t reopen);

  // Appends every payload byte lwIP sent since packet `from` to `got`, in
  // sequence order from isn_ + 1 (each byte checked against data_).
  void collect(size_t from, std::vector<uint8_t>& got) {
    for (size_t i = from; i < peer_.sent.size(); i++) {
      const Segment s = peer_.segment(i);
      if (s.payload.empty()) continue;
      ASSERT_EQ(s.seq, isn_ + 1 + got.size()) << "out of order or resent";
      got.insert(got.end(), s.payload.begin(), s.payload.end());
    }
  }

  inc_lwip_instance inst_{};
  Provider pv_;
  Peer peer_;
  struct tcp_pcb* listener_ = nullptr;
  struct tcp_pcb* pcb_ = nullptr;
  uint32_t isn_ = 0;
  std::vector<uint8_t> data_;
};

// Runs the scenario above with the peer reopening its window to field
// reopen (scaled by 16), then checks that every byte arrives in order.
void LwipTcpPersist::lose_close_reopen(uint16_t reopen) {
  const size_t big = pcb_->cwnd;  // the initial cwnd: 3 MSS
  ASSERT_GT(big, size_t(kMss));
  ASSERT_LE(big, kHead);
  ASSERT_EQ(tcp_write(pcb_, data_.data(), uint16_t(big), TCP_WRITE_FLAG_COPY), ERR_OK);
  ASSERT_EQ(tcp_output(pcb_), ERR_OK);
  ASSERT_EQ(pcb_->unsent, nullptr);
  ASSERT_NE(pcb_->unacked, nullptr);
  ASSERT_EQ(pcb_->unacked->len, big) << "one segment larger than the MSS";

  // lost: the retransmission timeout fires, and the head's split is refused
  pv_.refuse_above = 1024;
  for (int tick = 0; tick < 40 && pcb_->unacked != nullptr; tick++) tcp_slowtmr();
  ASSERT_EQ(pcb_->unacked, nullptr) << "no retransmission timeout";
  ASSERT_NE(pcb_->unsent, nullptr);
  ASSERT_EQ(pcb_->unsent->len, big) << "the split was not refused";
  ASSERT_LT(pcb_->cwnd, big);
  EXPECT_GT(pv_.refused, 0u);

  // the peer sends a byte, then closes its window (a later sequence number
  // than the last window update: RFC 9293's SND.WL1 rule), then reopens it
  uint32_t pseq = kPeerIsn + 1;
  peer_.send(kPort, kAck | kPsh, pseq, isn_ + 1, 1, 8192);
  pseq += 1;
  peer_.send(kPort, kAck, pseq, isn_ + 1, 0, 0);
  ASSERT_EQ(pcb_->snd_wnd, 0u);
  EXPECT_GT(pcb_->persist_backoff, 0) << "zero window: the persist timer runs";
  peer_.send(kPort, kAck, pseq, isn_ + 1, 0, reopen);
  ASSERT_EQ(pcb_->snd_wnd, uint32_t(reopen) << 4);
  ASSERT_EQ(pcb_->unsent->len, big) << "the split was not refused";

  // the persist timer fires after 3 slow ticks, and its split is refused too
  // (it then waits 6 ticks more): lwIP 2.1.3 asserts first, for 128 KiB
  const size_t mark = peer_.sent.size();
  for (int tick = 0; tick < 8 && pcb_->persist_backoff < 2; tick++) tcp_slowtmr();
  EXPECT_EQ(pcb_->persist_backoff, 2) << "the persist timer did not fire";
  pv_.refuse_above = 0;

  // memory is back: the next slow tick's tcp_output() (the poll timer) or the
  // persist timer sends what fits cwnd
  std::vector<uint8_t> got;
  for (int tick = 0; tick < 20 && got.empty(); tick++) {
    tcp_slowtmr();
    collect(mark, got);
  }
  ASSERT_FALSE(got.empty()) << "nothing sent after the window reopened: stalled";
  EXPECT_LE(got.size(), size_t(pcb_->cwnd)) << "more than the congestion window";
  EXPECT_EQ(pcb_->persist_backoff, 0) << "data in flight: the persist timer stops";

  // the peer acknowledges what arrives, its window open: all of it comes
  for (int round = 0; round < 16 && got.size() < big; round++) {
    const size_t m = peer_.sent.size();
    peer_.send(kPort, kAck, pseq, isn_ + 1 + uint32_t(got.size()), 0, reopen);
    collect(m, got);
  }
  ASSERT_EQ(got.size(), big);
  EXPECT_EQ(std::memcmp(got.data(), data_.data(), big), 0) << "payload differs";
  peer_.send(kPort, kAck, pseq, isn_ + 1 + uint32_t(big), 0, reopen);
  EXPECT_EQ(pcb_->unsent, nullptr);
  EXPECT_EQ(pcb_->unacked, nullptr);
}

TEST_F(LwipTcpPersist, WindowReopensTo64KiB_PersistTimerDoesNotSplitAtZero) {
  lose_close_reopen(4096);  // 65536 bytes: (u16_t) gives 0
}

TEST_F(LwipTcpPersist, WindowReopensTo128KiB_PersistTimerDoesNotSplitAtZero) {
  lose_close_reopen(8192);  // 131072 bytes: (u16_t) gives 0 too
}

}  // namespace
