/*
 * bench-lockfree: ns per message through lockfree's channels and ns per
 * flow-table lookup, each next to DPDK's rte_ring / rte_hash and a
 * mutex-protected queue / hash table, in the same run.
 *
 *   bench-lockfree [--quick] [--runs N] [--thp] [--cpu-time] [--medians]
 *                  [--only spsc|mpsc|flow]
 *
 * --thp advises the flow table's (caller-provided) memory for transparent
 * huge pages; run with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 to give the
 * heap blocks (cds_lfht's buckets, the mutex table) the same.
 * --cpu-time times the flow runs by the thread's CPU clock (on a loaded
 * machine, leaves out the time the reader waited for a CPU; caches still
 * suffer from the other work). --medians adds a row of medians under each
 * flow row.
 *
 * DPDK's EAL runs without hugepages or devices (--no-huge --no-pci
 * --no-shconf); the benchmark threads are plain pthreads. Figures are the
 * best of N runs (the one least disturbed by other work on the 2 cores); the
 * load average is printed before and after, since that work shows.
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
  return (x > y) - (x < y);
}

double bench_median(const double *v, unsigned n) {
  double c[99];
  for (unsigned i = 0; i < n; i++)
    c[i] = v[i];
  qsort(c, n, sizeof(c[0]), bench_cmp);
  return n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
}

double bench_best(const double *v, unsigned n) {
  double b = v[0];
  for (unsigned i = 1; i < n; i++)
    b = v[i] < b ? v[i] : b;
  return b;
}

static void bench_load(const char *when) {
  double l[3];
  if (getloadavg(l, 3) == 3)
    printf("load average %s: %.2f %.2f %.2f (%ld cpus)\n", when, l[0], l[1], l[2],
           sysconf(_SC_NPROCESSORS_ONLN));
}

int main(int argc, char **argv) {
  struct bench_opts o = {5, 20000000, 2000000, 4, 10000000, 0, 0, 0};
  const char *only = NULL;
  setvbuf(stdout, NULL, _IOLBF, 0); /* rows appear as they are measured */
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      o.runs = 3;
      o.spsc_msgs = 2000000;
      o.mpsc_msgs = 200000;
      o.lookups = 2000000;
    } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else if (strcmp(argv[i], "--thp") == 0) {
      o.thp = 1;
    } else if (strcmp(argv[i], "--cpu-time") == 0) {
      o.cpu_time = 1;
    } else if (strcmp(argv[i], "--medians") == 0) {
      o.medians = 1;
    } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      o.runs = (unsigned)atoi(argv[++i]);
      if (o.runs == 0 || o.runs > 99)
        o.runs = 5;
    } else {
      fprintf(stderr,
              "usage: %s [--quick] [--runs N] [--thp] [--cpu-time] [--medians] "
              "[--only spsc|mpsc|flow]\n",
              argv[0]);
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
  printf("best of %u runs; messages are 16 bytes (struct inc_msg) in every queue\n\n", o.runs);
  if (only == NULL || strcmp(only, "spsc") == 0)
    bench_spsc(&o);
  if (only == NULL || strcmp(only, "mpsc") == 0)
    bench_mpsc(&o);
  if (only == NULL || strcmp(only, "flow") == 0)
    bench_flow(&o);
  bench_load("at end");
  rte_eal_cleanup();
  return 0;
}
