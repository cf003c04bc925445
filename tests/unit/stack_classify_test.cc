// Steering's packet classifier (stack/classify.c): what each frame is, and
// which flow it belongs to from the local stack's point of view.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <vector>

#include "classify_priv.h"

namespace {

using Frame = std::vector<uint8_t>;

void put16(Frame& f, size_t at, uint16_t v) {
  f[at] = static_cast<uint8_t>(v >> 8);
  f[at + 1] = static_cast<uint8_t>(v);
}

Frame eth(uint16_t type, size_t payload) {
  Frame f(14 + payload, 0);
  put16(f, 12, type);
  return f;
}

// IPv4 packet from src to dst carrying proto with an l4len-byte payload.
Frame ipv4(uint8_t proto, const char* src, const char* dst, size_t l4len) {
  Frame f = eth(0x0800, 20 + l4len);
  f[14] = 0x45;
  put16(f, 16, static_cast<uint16_t>(20 + l4len));
  f[23] = proto;
  inet_pton(AF_INET, src, &f[26]);
  inet_pton(AF_INET, dst, &f[30]);
  return f;
}

Frame tcp4(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t flags) {
  Frame f = ipv4(6, src, dst, 20);
  put16(f, 34, sport);
  put16(f, 36, dport);
  f[46] = 5 << 4;
  f[47] = flags;
  return f;
}

Frame ipv6(uint8_t next, const char* src, const char* dst, size_t plen) {
  Frame f = eth(0x86dd, 40 + plen);
  f[14] = 0x60;
  put16(f, 18, static_cast<uint16_t>(plen));
  f[20] = next;
  inet_pton(AF_INET6, src, &f[22]);
  inet_pton(AF_INET6, dst, &f[38]);
  return f;
}

inc_pkt_class classify(const Frame& f) {
  inc_pkt_class c;
  inc__classify(f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()), 3, &c);
  return c;
}

// Only the first cap bytes in memory (the first buffer of a chain).
inc_pkt_class classify_cap(const Frame& f, uint32_t cap, uint32_t len) {
  std::vector<uint8_t> head(f.begin(), f.begin() + cap);  // nothing beyond cap to read
  inc_pkt_class c;
  inc__classify(head.data(), cap, len, 3, &c);
  return c;
}

uint32_t v4(const char* a) {
  uint32_t x;
  inet_pton(AF_INET, a, &x);
  return x;
}

TEST(Classify, TcpSegment_KeyIsLocalDestinationAndRemoteSource) {
  inc_pkt_class c = classify(tcp4("198.18.0.2", 40000, "198.18.0.1", 80, 0x02));
  ASSERT_EQ(c.kind, INC_PKT_FLOW);
  inc_flow_key want;
  inc_flow_key_v4(&want, 6, 3, v4("198.18.0.1"), 80, v4("198.18.0.2"), 40000);
  EXPECT_EQ(std::memcmp(&c.key, &want, sizeof(want)), 0);
  EXPECT_EQ(c.tcp_flags, 0x02);
  EXPECT_EQ(c.ip_version, 4);
  EXPECT_EQ(c.l4_off, 34);
}

TEST(Classify, EthernetPaddingAfterIpPacket_IsAccepted) {
  Frame f = tcp4("198.18.0.2", 1, "198.18.0.1", 2, 0x10);
  f.resize(f.size() + 6, 0);  // minimum frame padding
  EXPECT_EQ(classify(f).kind, INC_PKT_FLOW);
}

TEST(Classify, UdpDatagram_HasFlowKey) {
  Frame f = ipv4(17, "198.18.1.9", "198.18.0.1", 8);
  put16(f, 34, 5353);
  put16(f, 36, 53);
  inc_pkt_class c = classify(f);
  ASSERT_EQ(c.kind, INC_PKT_FLOW);
  EXPECT_EQ(c.key.proto, 17);
  EXPECT_EQ(c.key.local_port, 53);
  EXPECT_EQ(c.key.remote_port, 5353);
}

TEST(Classify, Ipv4Fragments_AreFragments) {
  Frame first = tcp4("198.18.0.2", 1, "198.18.0.1", 2, 0);
  put16(first, 20, 0x2000);  // MF
  EXPECT_EQ(classify(first).kind, INC_PKT_FRAGMENT);
  Frame later = ipv4(6, "198.18.0.2", "198.18.0.1", 8);
  put16(later, 20, 0x00b9);  // offset, no MF: the last fragment
  EXPECT_EQ(classify(later).kind, INC_PKT_FRAGMENT);
}

TEST(Classify, IcmpUnreachableQuotingOurSegment_KeysTheQuotedFlow) {
  // a router tells us that our segment 198.18.0.1:50000 -> 198.18.9.9:443 failed
  Frame f = ipv4(1, "198.18.5.5", "198.18.0.1", 8 + 28);
  f[34] = 3;  // destination unreachable
  f[35] = 4;  // fragmentation needed
  size_t q = 42;
  f[q] = 0x45;
  put16(f, q + 2, 40);
  f[q + 9] = 6;
  inet_pton(AF_INET, "198.18.0.1", &f[q + 12]);
  inet_pton(AF_INET, "198.18.9.9", &f[q + 16]);
  put16(f, q + 20, 50000);
  put16(f, q + 22, 443);
  inc_pkt_class c = classify(f);
  ASSERT_EQ(c.kind, INC_PKT_ICMP_ERROR);
  inc_flow_key want;
  inc_flow_key_v4(&want, 6, 3, v4("198.18.0.1"), 50000, v4("198.18.9.9"), 443);
  EXPECT_EQ(std::memcmp(&c.key, &want, sizeof(want)), 0);
}

TEST(Classify, IcmpEchoAndTruncatedQuote_AreLocal) {
  Frame echo = ipv4(1, "198.18.0.2", "198.18.0.1", 8);
  echo[34] = 8;
  EXPECT_EQ(classify(echo).kind, INC_PKT_LOCAL);
  Frame err = ipv4(1, "198.18.0.2", "198.18.0.1", 8 + 10);  // quote too short
  err[34] = 3;
  err[42] = 0x45;
  EXPECT_EQ(classify(err).kind, INC_PKT_LOCAL);
}

TEST(Classify, Arp_IsArp) {
  EXPECT_EQ(classify(eth(0x0806, 28)).kind, INC_PKT_ARP);
  inc_pkt_class c = classify(eth(0x0806, 20));
  EXPECT_EQ(c.kind, INC_PKT_MALFORMED);
  EXPECT_EQ(c.bad, INC_BAD_ARP);
}

TEST(Classify, Ipv6TcpBehindExtensionHeaders_HasFlowKey) {
  Frame f = ipv6(0, "2001:db8::2", "2001:db8::1", 8 + 16 + 20);
  size_t o = 54;
  f[o] = 60;        // hop-by-hop -> destination options
  f[o + 1] = 0;     // 8 bytes
  f[o + 8] = 6;     // destination options -> TCP
  f[o + 9] = 1;     // 16 bytes
  size_t t = o + 24;
  put16(f, t, 1234);
  put16(f, t + 2, 80);
  f[t + 12] = 5 << 4;
  inc_pkt_class c = classify(f);
  ASSERT_EQ(c.kind, INC_PKT_FLOW);
  EXPECT_EQ(c.ip_version, 6);
  EXPECT_EQ(c.key.family, INC_FLOW_IPV6);
  EXPECT_EQ(c.key.local_port, 80);
  EXPECT_EQ(c.key.remote_port, 1234);
  uint8_t local[16];
  inet_pton(AF_INET6, "2001:db8::1", local);
  EXPECT_EQ(std::memcmp(c.key.local_addr, local, 16), 0);
  EXPECT_EQ(c.l4_off, t);
}

TEST(Classify, Ipv6FragmentAndNeighbourDiscovery) {
  Frame frag = ipv6(44, "2001:db8::2", "2001:db8::1", 16);
  frag[54] = 6;
  EXPECT_EQ(classify(frag).kind, INC_PKT_FRAGMENT);
  Frame ns = ipv6(58, "fe80::2", "ff02::1:ff00:1", 24);
  ns[54] = 135;
  EXPECT_EQ(classify(ns).kind, INC_PKT_ND);
}

TEST(Classify, Icmp6PacketTooBigQuotingOurSegment_KeysTheQuotedFlow) {
  Frame f = ipv6(58, "2001:db8::fe", "2001:db8::1", 8 + 40 + 8);
  f[54] = 2;  // packet too big
  size_t q = 62;
  f[q] = 0x60;
  put16(f, q + 4, 8);
  f[q + 6] = 6;
  inet_pton(AF_INET6, "2001:db8::1", &f[q + 8]);
  inet_pton(AF_INET6, "2001:db8::9", &f[q + 24]);
  put16(f, q + 40, 50001);
  put16(f, q + 42, 443);
  inc_pkt_class c = classify(f);
  ASSERT_EQ(c.kind, INC_PKT_ICMP_ERROR);
  EXPECT_EQ(c.key.local_port, 50001);
  EXPECT_EQ(c.key.remote_port, 443);
}

TEST(Classify, MalformedFrames_AreCountedByReason) {
  EXPECT_EQ(classify(Frame(10, 0)).bad, INC_BAD_RUNT);
  EXPECT_EQ(classify(eth(0x0800, 10)).bad, INC_BAD_IP_SHORT);
  Frame v = tcp4("198.18.0.2", 1, "198.18.0.1", 2, 0);
  v[14] = 0x65;
  EXPECT_EQ(classify(v).bad, INC_BAD_IP_VERSION);
  Frame h = tcp4("198.18.0.2", 1, "198.18.0.1", 2, 0);
  h[14] = 0x44;
  EXPECT_EQ(classify(h).bad, INC_BAD_IP_HLEN);
  Frame l = tcp4("198.18.0.2", 1, "198.18.0.1", 2, 0);
  put16(l, 16, 200);
  EXPECT_EQ(classify(l).bad, INC_BAD_IP_LEN);
  Frame d = tcp4("198.18.0.2", 1, "198.18.0.1", 2, 0);
  d[46] = 15 << 4;  // 60-byte TCP header in a 20-byte segment
  EXPECT_EQ(classify(d).bad, INC_BAD_TCP_HLEN);
  Frame u = ipv4(17, "198.18.0.2", "198.18.0.1", 4);
  EXPECT_EQ(classify(u).bad, INC_BAD_L4_SHORT);
  Frame x = ipv6(0, "2001:db8::2", "2001:db8::1", 8);
  x[55] = 4;  // hop-by-hop claims 40 bytes
  EXPECT_EQ(classify(x).bad, INC_BAD_IP6_EXT);
  EXPECT_STREQ(inc__pkt_bad_name(INC_BAD_TCP_HLEN), "tcp_hlen");
}

TEST(Classify, CoalescedSegmentLongerThanItsFirstBuffer_IsAFlow) {
  Frame f = tcp4("198.18.0.2", 1000, "198.18.0.1", 80, 0x10);
  put16(f, 16, 20 + 20 + 2896);  // two MSS of payload in later buffers
  inc_pkt_class c = classify_cap(f, static_cast<uint32_t>(f.size()), 14 + 20 + 20 + 2896);
  ASSERT_EQ(c.kind, INC_PKT_FLOW);
  EXPECT_EQ(c.key.local_port, 80);
}

TEST(Classify, HeadersBeyondTheFirstBuffer_AreLeftToLwip) {
  Frame f = tcp4("198.18.0.2", 1000, "198.18.0.1", 80, 0x10);
  EXPECT_EQ(classify_cap(f, 40, static_cast<uint32_t>(f.size())).kind, INC_PKT_LOCAL);
  EXPECT_EQ(classify_cap(f, 10, static_cast<uint32_t>(f.size())).kind, INC_PKT_LOCAL);
  // but a frame too short as a whole is still malformed
  EXPECT_EQ(classify_cap(f, 10, 10).kind, INC_PKT_MALFORMED);
}

TEST(Classify, OtherEthertypes_AreNotIp) {
  EXPECT_EQ(classify(eth(0x88cc, 40)).kind, INC_PKT_NOT_IP);  // LLDP
}

}  // namespace
