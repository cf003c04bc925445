/*
 * Fuzz target for steering's packet classifier (stack/classify.c).
 *
 * LLVMFuzzerTestOneInput is the libFuzzer entry point: build it with
 * `clang -fsanitize=fuzzer,address` for coverage-guided fuzzing. ctest runs
 * it through fuzz_driver.c (seeded mutations, every build, ASan included).
 * Besides the sanitizers' checks, it asserts the classifier's promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct inc_pkt_class c;
  uint8_t *copy;
  size_t cap;
  int kind;
  if (size > 65535) {
    return 0;
  }
  /* the last byte says how much of the frame is in the first buffer (the
   * rest of a chain): only that much is copied, so ASan sees any read past
   * cap */
  cap = size == 0 ? 0 : size - data[size - 1] % (size + 1);
  copy = malloc(cap ? cap : 1);
  if (copy == NULL) {
    return 0;
  }
  memcpy(copy, data, cap);
  kind = inc__classify(copy, (uint32_t)cap, (uint32_t)size, 7, &c);
  if (kind != c.kind || kind > INC_PKT_NOT_IP) {
    abort();
  }
  if (kind == INC_PKT_MALFORMED) {
    if (c.bad == INC_BAD_NONE || c.bad >= INC_BAD_COUNT) {
      abort();
    }
  } else if (c.bad != INC_BAD_NONE) {
    abort();
  }
  if (kind == INC_PKT_FLOW) {
    uint32_t need = c.key.proto == 6 ? 20u : 8u;
    if ((c.key.proto != 6 && c.key.proto != 17) || c.key.port_id != 7 || c.l4_off + need > cap) {
      abort();
    }
  }
  if (kind == INC_PKT_ICMP_ERROR && ((c.key.proto != 6 && c.key.proto != 17) || c.l4_off >= size)) {
    abort();
  }
  free(copy);
  return 0;
}
