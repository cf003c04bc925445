/*
 * The tap mode of the servers: announce the addresses, wait for SIGINT /
 * SIGTERM (or --duration), print a line of totals.
 */
#ifndef INC_EX_SERVE_H
#define INC_EX_SERVE_H

#include "ex_common.h"

/** Prints "<prog>: ready: ..." (the line a test waits for) and waits for a
 * signal or the duration. report(arg) prints a progress line every 5 s when
 * not quiet (may be NULL). */
void ex_serve_wait(const struct ex_opts *o, void (*report)(void *arg), void *arg);

#endif
