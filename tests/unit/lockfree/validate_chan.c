/*
 * validate_chan: channel validator in the style of ConcurrencyKit's
 * regressions.
 *
 *   validate_chan mesh  <workers> <msgs_per_pair> <ring_size> <max_burst> <mix_single>
 *   validate_chan lanes <workers> <apps> <cmds_per_app> <lane_size> <max_burst> <sleep>
 *
 * Counts are divided by $INC_LF_SCALE (sanitizer builds). Exit status 0 when
 * every message arrived once, in its producer's order, and the counters agree.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lf_stress.h"

static unsigned arg(char **argv, int i) { return (unsigned)strtoul(argv[i], NULL, 0); }

static int usage(void) {
  fprintf(stderr, "usage: validate_chan mesh <workers> <msgs_per_pair> <ring_size> <max_burst> "
                  "<mix_single>\n"
                  "       validate_chan lanes <workers> <apps> <cmds_per_app> <lane_size> "
                  "<max_burst> <sleep>\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc == 7 && strcmp(argv[1], "mesh") == 0) {
    struct lf_mesh_params p = {arg(argv, 2), lf_scaled(arg(argv, 3), 1000), arg(argv, 4),
                               arg(argv, 5), (int)arg(argv, 6), 60000};
    struct lf_mesh_result r;
    lf_stress_mesh(&p, &r);
    const uint64_t expect = (uint64_t)p.workers * (p.workers - 1) * p.msgs_per_pair;
    printf("mesh: workers=%u msgs/pair=%u ring=%u burst<=%u mix=%d rc=%d\n"
           "  sent=%" PRIu64 " received=%" PRIu64 " expected=%" PRIu64 "\n"
           "  out_of_order=%" PRIu64 " duplicates=%" PRIu64 " lost=%" PRIu64
           " wrong_src=%" PRIu64 " wrong_type=%" PRIu64 "\n"
           "  stats: sent=%" PRIu64 " received=%" PRIu64 " refused=%" PRIu64
           " full_events=%" PRIu64 " (senders saw %" PRIu64 " refused)\n",
           p.workers, p.msgs_per_pair, p.ring_size, p.max_burst, p.mix_single, r.rc, r.sent,
           r.received, expect, r.out_of_order, r.duplicates, r.lost, r.wrong_src, r.wrong_type,
           r.stats_sent, r.stats_received, r.stats_refused, r.stats_full_events, r.refused_seen);
    const int ok = r.rc == 0 && r.sent == expect && r.received == expect && r.out_of_order == 0 &&
                   r.duplicates == 0 && r.lost == 0 && r.wrong_src == 0 && r.wrong_type == 0 &&
                   r.stats_sent == expect && r.stats_received == expect &&
                   r.stats_refused == r.refused_seen;
    puts(ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
  }
  if (argc == 8 && strcmp(argv[1], "lanes") == 0) {
    struct lf_lanes_params p = {arg(argv, 2), arg(argv, 3), lf_scaled(arg(argv, 4), 500),
                                arg(argv, 5), arg(argv, 6), (int)arg(argv, 7), 60000};
    struct lf_lanes_result r;
    lf_stress_lanes(&p, &r);
    const uint64_t expect = (uint64_t)p.apps * p.cmds_per_app;
    printf("lanes: workers=%u apps=%u cmds/app=%u lane=%u burst<=%u sleep=%d rc=%d\n"
           "  sent=%" PRIu64 " seen=%" PRIu64 " completions=%" PRIu64 " expected=%" PRIu64 "\n"
           "  out_of_order=%" PRIu64 " wrong_src=%" PRIu64 " dup_completion=%" PRIu64
           " missing=%" PRIu64 " wrong_status=%" PRIu64 " cpl_out_of_order=%" PRIu64 "\n"
           "  waits=%" PRIu64 " wait_timeouts=%" PRIu64 " detach_failures=%" PRIu64 "\n",
           p.workers, p.apps, p.cmds_per_app, p.lane_size, p.max_burst, p.sleep, r.rc,
           r.cmds_sent, r.cmds_seen, r.completions, expect, r.out_of_order, r.wrong_src,
           r.dup_completion, r.missing, r.wrong_status, r.cpl_out_of_order, r.waits,
           r.wait_timeouts, r.detach_failures);
    const int ok = r.rc == 0 && r.cmds_sent == expect && r.cmds_seen == expect &&
                   r.completions == expect && r.out_of_order == 0 && r.wrong_src == 0 &&
                   r.dup_completion == 0 && r.missing == 0 && r.wrong_status == 0 &&
                   r.cpl_out_of_order == 0 && r.wait_timeouts == 0 && r.detach_failures == 0;
    puts(ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
  }
  return usage();
}
