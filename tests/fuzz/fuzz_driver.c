/*
 * Runs a libFuzzer-style target (LLVMFuzzerTestOneInput) without libFuzzer:
 * seed frames, then seeded random mutations of them (bit flips, byte sets,
 * truncation, extension, random bytes). A crash or abort fails the test.
 *
 * usage: fuzz_driver <iterations> <seed>
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rng {
  uint64_t s;
};

static uint64_t next(struct rng *r)
{
  r->s ^= r->s << 13; /* xorshift64 */
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return r->s;
}

/* Seeds: IPv4/TCP, IPv4/UDP, IPv4 ICMP error quoting TCP, ARP, IPv6/TCP with
 * a hop-by-hop header, IPv6 ICMPv6 error, IPv6 fragment. */
static size_t seed_frame(unsigned which, uint8_t *f)
{
  memset(f, 0, 128);
  switch (which % 7) {
  case 0: /* IPv4 TCP */
    f[12] = 0x08; f[14] = 0x45; f[17] = 40; f[23] = 6; f[46] = 0x50; f[47] = 0x02;
    return 54;
  case 1: /* IPv4 UDP */
    f[12] = 0x08; f[14] = 0x45; f[17] = 28; f[23] = 17;
    return 42;
  case 2: /* ICMP error quoting TCP */
    f[12] = 0x08; f[14] = 0x45; f[17] = 56; f[23] = 1; f[34] = 3;
    f[42] = 0x45; f[45] = 40; f[51] = 6;
    return 70;
  case 3: /* ARP */
    f[12] = 0x08; f[13] = 0x06;
    return 42;
  case 4: /* IPv6 hop-by-hop + TCP */
    f[12] = 0x86; f[13] = 0xdd; f[14] = 0x60; f[19] = 28; f[20] = 0; f[54] = 6; f[74] = 0x50;
    return 82;
  case 5: /* ICMPv6 packet too big quoting TCP */
    f[12] = 0x86; f[13] = 0xdd; f[14] = 0x60; f[19] = 56; f[20] = 58; f[54] = 2;
    f[62] = 0x60; f[67] = 8; f[68] = 6;
    return 110;
  default: /* IPv6 fragment */
    f[12] = 0x86; f[13] = 0xdd; f[14] = 0x60; f[19] = 16; f[20] = 44; f[54] = 6;
    return 70;
  }
}

int main(int argc, char **argv)
{
  unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
  struct rng r = {argc > 2 ? strtoull(argv[2], NULL, 10) | 1u : 0x9e3779b97f4a7c15ULL};
  uint8_t buf[512];
  unsigned long i;

  for (i = 0; i < 7; i++) {
    size_t n = seed_frame((unsigned)i, buf);
    LLVMFuzzerTestOneInput(buf, n);
  }
  for (i = 0; i < iters; i++) {
    size_t n = seed_frame((unsigned)(next(&r) % 7), buf);
    unsigned k, muts = 1 + (unsigned)(next(&r) % 8);
    for (k = 0; k < muts; k++) {
      uint64_t v = next(&r);
      if (n == 0) {
        n = 1 + (size_t)(v % 16); /* regrow an emptied input */
        memset(buf, (int)(v >> 8), n);
        continue;
      }
      switch (v % 5) {
      case 0: buf[(v >> 8) % n] ^= (uint8_t)(1u << ((v >> 20) % 8)); break;
      case 1: buf[(v >> 8) % n] = (uint8_t)(v >> 32); break;
      case 2: n = (size_t)((v >> 8) % (n + 1)); break;
      case 3: {
        size_t grow = (size_t)((v >> 8) % 64);
        if (n + grow <= sizeof(buf)) {
          memset(buf + n, (int)(v >> 40), grow);
          n += grow;
        }
        break;
      }
      default: buf[(v >> 8) % n] = 0xff; break;
      }
    }
    LLVMFuzzerTestOneInput(buf, n);
  }
  printf("fuzz_driver: %lu inputs, no crash, every invariant held\n", iters + 7);
  return 0;
}
