/*
 * System helpers of the benchmark: clock, running commands, network
 * namespaces and the cleanup guardian.
 *
 * The guardian is a small process forked at start-up (before any thread)
 * that outlives us: it holds the names of the namespaces we created and
 * deletes the ones still registered when our end of its pipe closes, which
 * happens on a normal exit, on a crash and on any signal, SIGKILL included.
 * It ignores terminal signals and sits in its own session, so Ctrl-C or a
 * test timeout that kills our process group does not kill it first.
 *
 * Thread: inc_bench_guard_* and inc_bench_netns_create/delete from the main
 * thread; the rest from any thread.
 */
#ifndef INC_BENCH_SYS_H
#define INC_BENCH_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Returns: CLOCK_MONOTONIC in nanoseconds. */
uint64_t inc_bench_now_ns(void);

/** Run argv[0] (searched in PATH) with argv and wait for it. quiet: send
 *  its stdout and stderr to /dev/null.
 *  Returns: 0 if it exited with status 0, -ECHILD otherwise, or the
 *  negative errno of a failed spawn. */
int inc_bench_run_cmd(const char *const argv[], int quiet);

struct inc_bench_guard {
	int fd;     /* write end of the guardian's pipe, -1 when stopped */
	pid_t pid;
};

/** Fork the guardian. Call before creating any thread.
 *  Returns: 0 or a negative errno. */
int inc_bench_guard_start(struct inc_bench_guard *g);

/** Register a namespace to delete if we die; unregister it. */
int inc_bench_guard_add_netns(struct inc_bench_guard *g, const char *name);
int inc_bench_guard_remove_netns(struct inc_bench_guard *g, const char *name);

/** Close the pipe and wait for the guardian (it deletes what is still
 *  registered). */
void inc_bench_guard_stop(struct inc_bench_guard *g);

/** Create network namespace `name` (registered with the guardian first),
 *  bring its loopback up and open it into *fd.
 *  Returns: 0 or a negative errno (nothing is left behind on failure). */
int inc_bench_netns_create(struct inc_bench_guard *g, const char *name, int *fd);

/** Close fd (if >= 0), delete the namespace and unregister it. */
void inc_bench_netns_delete(struct inc_bench_guard *g, const char *name, int fd);

/** Move the calling thread into the namespace open as fd.
 *  Returns: 0 or a negative errno. */
int inc_bench_netns_enter(int fd);

/** Write value to path (a /proc/sys/net file) as seen inside the namespace
 *  open as fd, from a short-lived helper thread.
 *  Returns: 0 or a negative errno. */
int inc_bench_netns_write(int fd, const char *path, const char *value);

/** Packet counters of interface ifname inside the namespace open as fd.
 *  Returns: 0 or a negative errno. */
int inc_bench_netns_dev_packets(int fd, const char *ifname, uint64_t *rx, uint64_t *tx);

/** Path of this program (readlink of /proc/self/exe) into buf.
 *  Returns: 0 or a negative errno. */
int inc_bench_self_exe(char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
