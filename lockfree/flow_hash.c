/*
 * The flow key hash. cds_lfht takes the bucket from the hash's low bits and
 * orders chains by its bit-reversed value, so every bit must depend on every
 * key byte; and it sits on every lookup, so it must be short.
 *
 * The key's ten 32-bit halves are combined pairwise as in NH (the UMAC
 * family): acc += (lo + k0) * (hi + k1), five independent 32x32->64 bit
 * products that the CPU overlaps, with the key schedule k derived from the
 * seed. A final avalanche (xor-shift-multiply with SplitMix64's public-domain
 * constants) spreads every accumulated bit over the 64 bits, which are folded
 * to 32 so that a 32-bit RSS hash can stand in for this one (flow.h).
 */
#include "flow_priv.h"

#define INC__HASH_MUL1 0xbf58476d1ce4e5b9ULL
#define INC__HASH_MUL2 0x94d049bb133111ebULL

/* Odd 32-bit constants (fractional digits of pi), one per key half. */
static const uint32_t inc__hash_k[2 * INC__FLOW_KEY_WORDS] = {
    0x243f6a89u, 0x85a308d3u, 0x13198a2fu, 0x03707345u, 0xa4093823u,
    0x299f31d1u, 0x082efa99u, 0xec4e6c89u, 0x452821e7u, 0x38d01377u,
};

uint32_t inc_flow_hash(const struct inc_flow_key *key, uint64_t seed) {
  const uint32_t s_lo = (uint32_t)seed, s_hi = (uint32_t)(seed >> 32);
  uint64_t acc = seed;
#pragma GCC unroll 5
  for (unsigned i = 0; i < INC__FLOW_KEY_WORDS; i++) {
    const uint64_t w = inc__flow_word(key, i);
    const uint32_t lo = (uint32_t)w + (inc__hash_k[2 * i] ^ s_lo);
    const uint32_t hi = (uint32_t)(w >> 32) + (inc__hash_k[2 * i + 1] ^ s_hi);
    acc += (uint64_t)lo * hi;
  }
  acc ^= acc >> 31;
  acc *= INC__HASH_MUL1;
  acc ^= acc >> 29;
  acc *= INC__HASH_MUL2;
  acc ^= acc >> 32;
  return (uint32_t)acc;
}
