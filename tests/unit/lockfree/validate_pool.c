/*
 * validate_pool: pool validator in the style of ConcurrencyKit's regressions.
 *
 *   validate_pool <remote_threads> <objects> <allocations>
 *
 * Allocations are divided by $INC_LF_SCALE (sanitizer builds). Exit status 0
 * when no object was handed out twice or changed while held, and the counters
 * agree with what the threads did.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lf_stress.h"

static unsigned arg(char **argv, int i) { return (unsigned)strtoul(argv[i], NULL, 0); }

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: validate_pool <remote_threads> <objects> <allocations>\n");
    return 2;
  }
  struct lf_pool_params p = {arg(argv, 1), arg(argv, 2), lf_scaled(arg(argv, 3), 1000), 60000};
  struct lf_pool_result r;
  lf_stress_pool(&p, &r);
  printf("pool: remotes=%u objects=%u allocations=%u rc=%d\n"
         "  allocs=%" PRIu64 " null_allocs=%" PRIu64 " local_frees=%" PRIu64
         " remote_frees=%" PRIu64 "\n"
         "  double_alloc=%" PRIu64 " corrupt=%" PRIu64 " stats_mismatch=%" PRIu64
         " in_use_after=%" PRIu64 " high_water=%" PRIu64 " failures=%" PRIu64 "\n",
         p.remotes, p.objects, p.ops, r.rc, r.allocs, r.null_allocs, r.local_frees,
         r.remote_frees, r.double_alloc, r.corrupt, r.stats_mismatch, r.in_use_after,
         r.high_water, r.failures);
  const int ok = r.rc == 0 && r.allocs == p.ops && r.double_alloc == 0 && r.corrupt == 0 &&
                 r.stats_mismatch == 0 && r.in_use_after == 0 &&
                 r.local_frees + r.remote_frees == r.allocs;
  puts(ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
