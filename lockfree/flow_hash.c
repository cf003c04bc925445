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

uint32_t inc_flow_hash(const struct inc_flow_key *key, uint64_t seed) {
  return inc__flow_hash(key, seed);
}
