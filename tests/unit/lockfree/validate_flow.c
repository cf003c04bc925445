/*
 * validate_flow: flow-table validator in the style of ConcurrencyKit's
 * regressions.
 *
 *   validate_flow <writers> <readers> <stable_keys> <churn_keys> <rounds> <resizer> <auto_resize>
 *                 [<burst> <contested> <narrow_hash>]
 *
 * Key counts are divided by $INC_LF_SCALE (sanitizer builds). Exit status 0
 * when no lookup ever returned a wrong owner or missed a stable key, and every
 * removed entry went back to its pool.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lf_stress.h"

static unsigned arg(char **argv, int i) { return (unsigned)strtoul(argv[i], NULL, 0); }

int main(int argc, char **argv) {
  if (argc != 8 && argc != 11) {
    fprintf(stderr, "usage: validate_flow <writers> <readers> <stable_keys> <churn_keys> "
                    "<rounds> <resizer> <auto_resize> [<burst> <contested> <narrow_hash>]\n");
    return 2;
  }
  struct lf_flow_params p = {arg(argv, 1),
                             arg(argv, 2),
                             lf_scaled(arg(argv, 3), 100),
                             lf_scaled(arg(argv, 4), 100),
                             arg(argv, 5),
                             16,
                             (int)arg(argv, 7),
                             (int)arg(argv, 6),
                             60000,
                             argc == 11 ? arg(argv, 8) : 0,
                             argc == 11 ? arg(argv, 9) : 0,
                             argc == 11 ? (int)arg(argv, 10) : 0};
  struct lf_flow_result r;
  lf_stress_flow(&p, &r);
  const uint64_t expect_ops = (uint64_t)p.writers * p.churn_keys * p.rounds;
  printf("flow: writers=%u readers=%u stable=%u churn=%u rounds=%u resizer=%d auto=%d rc=%d\n"
         "  lookups=%" PRIu64 " stable_misses=%" PRIu64 " wrong_owner=%" PRIu64
         " own_misses=%" PRIu64 " ghost_hits=%" PRIu64 "\n"
         "  inserts=%" PRIu64 " removes=%" PRIu64 " expected=%" PRIu64 " unexpected_rc=%" PRIu64
         " nomem_retries=%" PRIu64 " resizes=%" PRIu64 "\n"
         "  count=%" PRIu64 " expected=%" PRIu64 " stats: inserted=%" PRIu64 " removed=%" PRIu64
         " reclaimed=%" PRIu64 " leaked=%" PRIu64 "\n"
         "  burst=%u contested=%u (present %" PRIu64 ") narrow_hash=%d index: mismatches=%" PRIu64
         " overflows=%" PRIu64 " handoffs=%" PRIu64 "\n",
         p.writers, p.readers, p.stable_keys, p.churn_keys, p.rounds, p.resizer, p.auto_resize,
         r.rc, r.lookups, r.stable_misses, r.wrong_owner, r.own_misses, r.ghost_hits, r.inserts,
         r.removes, expect_ops, r.unexpected_rc, r.nomem_retries, r.resizes, r.final_count,
         r.expected_count, r.stats_inserted, r.stats_removed, r.stats_reclaimed, r.leaked,
         p.burst, p.contested, r.contested_present, p.narrow_hash, r.index_mismatch,
         r.stats_index_overflows, r.stats_index_handoffs);
  const int ok = r.rc == 0 && r.stable_misses == 0 && r.wrong_owner == 0 && r.own_misses == 0 &&
                 r.ghost_hits == 0 && r.unexpected_rc == 0 && r.inserts == expect_ops &&
                 r.removes == expect_ops && r.final_count == r.expected_count &&
                 r.stats_removed == r.stats_reclaimed && r.leaked == 0 && r.index_mismatch == 0 &&
                 r.stats_inserted - r.stats_removed == r.final_count &&
                 (p.readers == 0 || r.lookups > 0) && (!p.resizer || r.resizes > 0);
  puts(ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
