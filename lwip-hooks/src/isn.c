/*
 * Initial sequence numbers (lwIP's LWIP_HOOK_TCP_ISN), as RFC 6528 asks:
 *   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 * with M a 4-microsecond timer and F SipHash-2-4 (Aumasson and Bernstein,
 * 2012) keyed with 128 random bits per instance. lwIP's own default is 6510
 * plus a 500 ms tick, the same for every connection opened within a tick.
 */
#include "lwip/opt.h" /* first: Inception's lwipopts.h before lwIP's defaults */

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "inc_lwip_hooks.h"
#include "inc_lwip_instance.h"
#include "lwip/ip_addr.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND            \
  do {                      \
    v0 += v1;               \
    v1 = ROTL(v1, 13);      \
    v1 ^= v0;               \
    v0 = ROTL(v0, 32);      \
    v2 += v3;               \
    v3 = ROTL(v3, 16);      \
    v3 ^= v2;               \
    v0 += v3;               \
    v3 = ROTL(v3, 21);      \
    v3 ^= v0;               \
    v2 += v1;               \
    v1 = ROTL(v1, 17);      \
    v1 ^= v2;               \
    v2 = ROTL(v2, 32);      \
  } while (0)

/* SipHash-2-4 of len bytes (a multiple of 8 here) under key k[2]. */
static uint64_t siphash24(const uint64_t k[2], const uint8_t *in, size_t len)
{
  uint64_t v0 = 0x736f6d6570736575ULL ^ k[0], v1 = 0x646f72616e646f6dULL ^ k[1];
  uint64_t v2 = 0x6c7967656e657261ULL ^ k[0], v3 = 0x7465646279746573ULL ^ k[1];
  uint64_t b = (uint64_t)len << 56, m;
  size_t i;
  for (i = 0; i + 8 <= len; i += 8) {
    memcpy(&m, in + i, 8);
    v3 ^= m;
    SIPROUND;
    SIPROUND;
    v0 ^= m;
  }
  v3 ^= b;
  SIPROUND;
  SIPROUND;
  v0 ^= b;
  v2 ^= 0xff;
  SIPROUND;
  SIPROUND;
  SIPROUND;
  SIPROUND;
  return v0 ^ v1 ^ v2 ^ v3;
}

u32_t inc__lwip_tcp_isn(const ip_addr_t *local_ip, u16_t local_port, const ip_addr_t *remote_ip, u16_t remote_port)
{
  struct inc_lwip_instance *inst = inc_lwip_instance_self();
  uint8_t in[40];
  struct timespec ts;
  uint64_t m4us;
  memset(in, 0, sizeof(in));
  if (IP_IS_V6(local_ip)) {
    memcpy(in, ip_2_ip6(local_ip)->addr, 16);
    memcpy(in + 16, ip_2_ip6(remote_ip)->addr, 16);
  } else {
    memcpy(in, &ip_2_ip4(local_ip)->addr, 4);
    memcpy(in + 16, &ip_2_ip4(remote_ip)->addr, 4);
  }
  memcpy(in + 32, &local_port, 2);
  memcpy(in + 34, &remote_port, 2);
  clock_gettime(CLOCK_MONOTONIC, &ts);
  m4us = ((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u) / 4u;
  return (u32_t)(m4us + siphash24(inst != NULL ? inst->isn_key : (const uint64_t[2]){0, 0}, in, sizeof(in)));
}
