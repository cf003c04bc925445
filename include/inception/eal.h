/*
 * Starting DPDK's environment abstraction layer (EAL) for Inception.
 *
 * The application's EAL arguments pass through unchanged. Without any, the
 * documented defaults of drivers_opt.h (INC_EAL_DEFAULT_ARGS) are used; they
 * work on a machine without hugepages or PCI devices:
 *   --no-huge -m 512 --no-pci --no-shconf --no-telemetry
 * To run more worker lcores than the machine has cores, add an lcore map,
 * e.g. lcores = "(0-3)@(0,1)" (four lcores on cores 0 and 1). rte_rings that
 * oversubscribed lcores share must then not use the default MP/MC sync mode
 * (a preempted producer stalls the others); Inception's own pools and rings
 * use RTS/HTS modes.
 *
 * PMDs: Debian's DPDK loads every PMD plugin of its plugin directory
 * (/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0) at init; others need "-d <path>".
 */
#ifndef INC_EAL_H
#define INC_EAL_H

#include "inception/drv_err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct inc_eal_config {
  const char *const *args; /* EAL arguments without a program name; NULL: defaults */
  int n_args;
  const char *lcores;      /* if not NULL, "--lcores=<lcores>" is added */
  const char *prog_name;   /* argv[0] for EAL's messages; NULL: "inception" */
};

/**
 * Initialises the EAL once per process.
 * Thread: the main thread, before any other DPDK call; once (EAL cannot be
 *   initialised twice, even after inc_eal_cleanup()).
 * Ownership: cfg and its strings stay the caller's.
 * RCU: none.
 * Returns: 0; -EINVAL (bad arguments: cfg->n_args < 0, args NULL with
 *   n_args > 0, more than 64 arguments, or EAL rejected them), -EALREADY
 *   (EAL already initialised), -ENOMEM (not enough memory for -m), -EACCES,
 *   or the negative rte_errno of rte_eal_init(). err (may be NULL) names the
 *   problem and the fix.
 */
int inc_eal_init(const struct inc_eal_config *cfg, struct inc_drv_err *err);

/**
 * Releases EAL resources at exit (after every port is closed).
 * Thread: the main thread. RCU: none. Returns: 0 or the negative rte_errno.
 */
int inc_eal_cleanup(void);

#ifdef __cplusplus
}
#endif

#endif /* INC_EAL_H */
