/*
 * The flow key hash. cds_lfht takes the bucket from the hash's low bits and
 * orders chains by its bit-reversed value, so every bit must depend on every
 * key byte. Each 64-bit word of the key is folded in with a multiply and a
 * xor-shift (the multiplier and shifts are those of SplitMix64's finaliser,
 * which are public-domain constants), then the 64-bit state is folded to 32
 * bits so that a 32-bit RSS hash can stand in for it (flow.h).
 */
#include "flow_priv.h"

#define INC__HASH_INIT 0x9e3779b97f4a7c15ULL /* 2^64 / golden ratio */
#define INC__HASH_MUL1 0xbf58476d1ce4e5b9ULL
#define INC__HASH_MUL2 0x94d049bb133111ebULL

uint32_t inc_flow_hash(const struct inc_flow_key *key, uint64_t seed) {
  uint64_t h = seed ^ INC__HASH_INIT;
  for (unsigned i = 0; i < INC__FLOW_KEY_WORDS; i++) {
    h ^= inc__flow_word(key, i);
    h *= INC__HASH_MUL1;
    h ^= h >> 29;
  }
  h ^= h >> 32;
  h *= INC__HASH_MUL2;
  h ^= h >> 31;
  return (uint32_t)(h ^ (h >> 32));
}
