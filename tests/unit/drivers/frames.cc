#include "frames.h"

#include <cstring>

namespace drvtest {

static void put16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = (uint8_t)(x >> 8);
  v[at + 1] = (uint8_t)x;
}

static void put32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  put16(v, at, (uint16_t)(x >> 16));
  put16(v, at + 2, (uint16_t)x);
}

static uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2) {
    sum += (uint32_t)((p[i] << 8) | p[i + 1]);
  }
  if (n & 1) {
    sum += (uint32_t)(p[n - 1] << 8);
  }
  return sum;
}

uint16_t inet_cksum(const uint8_t* p, size_t n, uint32_t sum) {
  sum = sum16(p, n, sum);
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return (uint16_t)~sum;
}

static void eth(std::vector<uint8_t>& f, const Mac& dst, const Mac& src, uint16_t type) {
  memcpy(&f[0], dst.b, 6);
  memcpy(&f[6], src.b, 6);
  put16(f, 12, type);
}

static size_t l4_hdr_len(uint8_t proto) {
  return proto == 6 ? 20 : proto == 17 ? 8 : 0;
}

// Writes the L4 header at `at` and its checksum over the pseudo-header sum.
static void l4(std::vector<uint8_t>& f, size_t at, uint8_t proto, uint16_t sport, uint16_t dport,
               size_t l4len, uint32_t phsum, bool good) {
  if (proto == 6) {
    put16(f, at, sport);
    put16(f, at + 2, dport);
    put32(f, at + 4, 1000);       // seq
    put32(f, at + 8, 0);          // ack
    f[at + 12] = 5 << 4;
    f[at + 13] = 0x18;            // PSH|ACK
    put16(f, at + 14, 65535);
  } else if (proto == 17) {
    put16(f, at, sport);
    put16(f, at + 2, dport);
    put16(f, at + 4, (uint16_t)l4len);
  } else {
    return;
  }
  size_t ck = at + (proto == 6 ? 16 : 6);
  uint16_t c = inet_cksum(&f[at], l4len, phsum);
  if (proto == 17 && c == 0) {
    c = 0xffff;
  }
  put16(f, ck, good ? c : (uint16_t)(c ^ 0x5a5a));
}

std::vector<uint8_t> ipv4_frame(const Mac& dst, const Mac& src, uint32_t sip, uint32_t dip,
                                uint8_t proto, uint16_t sport, uint16_t dport,
                                const std::vector<uint8_t>& payload, bool good_ip_cksum,
                                bool good_l4_cksum, uint16_t frag) {
  size_t l4len = l4_hdr_len(proto) + payload.size();
  std::vector<uint8_t> f(14 + 20 + l4len, 0);
  eth(f, dst, src, 0x0800);
  f[14] = 0x45;
  put16(f, 16, (uint16_t)(20 + l4len));
  put16(f, 18, 0x1234);
  put16(f, 20, frag);
  f[22] = 64;
  f[23] = proto;
  put32(f, 26, sip);
  put32(f, 30, dip);
  uint16_t ipc = inet_cksum(&f[14], 20);
  put16(f, 24, good_ip_cksum ? ipc : (uint16_t)(ipc ^ 0x0101));
  if (!payload.empty()) {
    memcpy(&f[14 + 20 + l4_hdr_len(proto)], payload.data(), payload.size());
  }
  uint8_t ph[12] = {0};
  memcpy(ph, &f[26], 8);
  ph[9] = proto;
  ph[10] = (uint8_t)(l4len >> 8);
  ph[11] = (uint8_t)l4len;
  l4(f, 34, proto, sport, dport, l4len, sum16(ph, 12, 0), good_l4_cksum);
  return f;
}

std::vector<uint8_t> ipv6_frame(const Mac& dst, const Mac& src, const uint8_t sip[16],
                                const uint8_t dip[16], uint8_t proto, uint16_t sport,
                                uint16_t dport, const std::vector<uint8_t>& payload) {
  size_t l4len = l4_hdr_len(proto) + payload.size();
  std::vector<uint8_t> f(14 + 40 + l4len, 0);
  eth(f, dst, src, 0x86dd);
  f[14] = 0x60;
  put16(f, 18, (uint16_t)l4len);
  f[20] = proto;
  f[21] = 64;
  memcpy(&f[22], sip, 16);
  memcpy(&f[38], dip, 16);
  if (!payload.empty()) {
    memcpy(&f[54 + l4_hdr_len(proto)], payload.data(), payload.size());
  }
  uint8_t ph[40] = {0};
  memcpy(ph, sip, 16);
  memcpy(ph + 16, dip, 16);
  ph[34] = (uint8_t)(l4len >> 8);
  ph[35] = (uint8_t)l4len;
  ph[39] = proto;
  l4(f, 54, proto, sport, dport, l4len, sum16(ph, 40, 0), true);
  return f;
}

std::vector<uint8_t> icmp_echo(const Mac& dst, const Mac& src, uint32_t sip, uint32_t dip,
                               uint16_t id, uint16_t seq, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> f = ipv4_frame(dst, src, sip, dip, 1, 0, 0, std::vector<uint8_t>(8 + payload.size()));
  size_t at = 34;
  f[at] = 8;  // echo request
  f[at + 1] = 0;
  put16(f, at + 4, id);
  put16(f, at + 6, seq);
  if (!payload.empty()) {
    memcpy(&f[at + 8], payload.data(), payload.size());
  }
  put16(f, at + 2, inet_cksum(&f[at], 8 + payload.size()));
  return f;
}

}  // namespace drvtest
