/*
 * bench-lockfree: ns per message through lockfree's channels and ns per
 * flow-table lookup, each next to DPDK's rte_ring / rte_hash and a
 * mutex-protected queue / hash table, in the same run.
 *
 *   bench-lockfree [--quick] [--runs N]
 *
 * DPDK's EAL runs without hugepages or devices (--no-huge --no-pci
 * --no-shconf); the benchmark threads are plain pthreads. Figures are the
 * median of N runs; the load average is printed before and after, since
 * other work on the machine shows in the numbers.
 */
#include "bench_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

void bench_pin(unsigned cpu) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % (unsigned)(n > 0 ? n : 1), &set);
  (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int bench_cmp(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double bench_median(double *v, unsigned n) {
  qsort(v, n, sizeof(*v), bench_cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void bench_load(const char *when) {
  double l[3];
  if (getloadavg(l, 3) == 3)
    printf("load average %s: %.2f %.2f %.2f (%ld cpus)\n", when, l[0], l[1], l[2],
           sysconf(_SC_NPROCESSORS_ONLN));
}

int main(int argc, char **argv) {
  struct bench_opts o = {5, 20000000, 2000000, 4, 20000000};
  setvbuf(stdout, NULL, _IOLBF, 0); /* rows appear as they are measured */
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      o.runs = 3;
      o.spsc_msgs = 2000000;
      o.mpsc_msgs = 200000;
      o.lookups = 2000000;
    } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      o.runs = (unsigned)atoi(argv[++i]);
      if (o.runs == 0 || o.runs > 99)
        o.runs = 5;
    } else {
      fprintf(stderr, "usage: %s [--quick] [--runs N]\n", argv[0]);
      return 2;
    }
  }
  char *eal[] = {argv[0], "--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "--lcores=0@0",
                 "--log-level=error", NULL};
  if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
    fprintf(stderr, "bench-lockfree: rte_eal_init failed\n");
    return 1;
  }
  bench_load("at start");
  printf("median of %u runs; messages are 16 bytes (struct inc_msg) in every queue\n\n", o.runs);
  bench_spsc(&o);
  bench_mpsc(&o);
  bench_flow(&o);
  bench_load("at end");
  rte_eal_cleanup();
  return 0;
}
