/*
 * inc_bench: side-by-side benchmark of TCP stacks on one machine.
 *
 * A *backend* is one TCP stack seen from both ends: it runs a server on K
 * worker threads and gives client threads blocking connection operations.
 * The measurement driver (bench_driver.c) knows nothing about any stack; it
 * only calls the function pointers of struct inc_bench_backend. Output
 * (table, JSON, plots) is apart again (bench_report.c, bench_plot.c).
 *
 * Adding a backend (e.g. Inception): write backend_<name>.c defining one
 * `const struct inc_bench_backend`, list it in bench_backends.c and in
 * tools/bench/CMakeLists.txt. The server side must speak the benchmark
 * protocol of bench_proto.h: feed every received byte to
 * inc_bench_srv_input(), call inc_bench_srv_eof() at end of stream, and send
 * what inc_bench_srv_pending() returns. See docs/bench.md.
 *
 * Errors: every operation returns 0 (or a byte count) on success and a
 * negative errno on failure, as the rest of Inception does.
 */
#ifndef INC_BENCH_H
#define INC_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct inc_bench_pattern;
struct inc_bench_guard;

/** Caller-owned storage of one client connection (the backend chooses what
 *  it keeps in it: a file descriptor, a socket index, a pointer). */
struct inc_bench_conn {
	union {
		int fd;
		void *ptr;
		uint64_t word[4];
	} u;
};

/** What a server is started with. */
struct inc_bench_server_cfg {
	unsigned workers;                         /**< K worker threads (cores) */
	uint16_t port;                            /**< TCP port to listen on */
	const struct inc_bench_pattern *pattern;  /**< payload pattern (bench_proto.h) */
};

/** Server-side accounting, summed over the server's workers. The driver
 *  compares it with what its clients did: every connection accepted and
 *  closed, every request answered, every bulk byte verified. */
struct inc_bench_server_stats {
	uint64_t conns_accepted;
	uint64_t conns_closed;
	uint64_t requests;      /**< 64-byte requests answered */
	uint64_t bulk_streams;  /**< bulk streams received up to their end */
	uint64_t bulk_bytes;    /**< bulk payload bytes received and verified */
	uint64_t errors;        /**< protocol or payload errors, I/O errors */
	char error[160];        /**< first error, "" if none */
};

#define INC_BENCH_MAX_COUNTERS 16

/** Backend-specific counters (link frames, wake-ups, drops, ...). A counter
 *  named "packets" counts packets on the wire in both directions; the
 *  callgrind mode divides instructions by it. */
struct inc_bench_counters {
	unsigned n;
	struct {
		char name[32];
		uint64_t value;
	} c[INC_BENCH_MAX_COUNTERS];
};

struct inc_bench_hist;

/**
 * One client thread's share of a test, for a backend whose clients run on
 * its own threads (client_run): Inception's clients are raw-API callbacks on
 * the worker cores of a client stack, as its applications are. The loop is
 * the driver's (bench_driver.c), message for message: cps connects, sends
 * one 64-byte REQ, verifies the RESP and closes, one connection at a time;
 * rps/lat open `conns` connections and run rounds of `depth` requests on
 * each, waiting for every response of a round before the next; bulk sends a
 * BULK header, streams pattern bytes from offset 0 in writes of at most
 * `bulk_chunk` until the deadline, half-closes and verifies the BULK_ACK.
 */
struct inc_bench_client_job {
	/* in */
	unsigned test;                          /**< enum inc_bench_test (bench_driver.h) */
	unsigned index;                         /**< client thread index (0..K-1) */
	unsigned conns, depth;                  /**< rps/lat */
	size_t bulk_chunk;
	uint64_t deadline_ns;                   /**< inc_bench_now_ns() clock */
	uint64_t fixed_requests;                /**< stop after this many (0: at the deadline) */
	int corrupt;                            /**< flip a bit as the driver's clients do */
	const struct inc_bench_pattern *pattern;
	struct inc_bench_hist *hist;            /**< latencies go here (caller's) */
	/* out */
	uint64_t ops, bytes, conns_opened, requests, streams;
	char error[192];                        /**< why it failed, "" if it did not */
};

/** Process-wide facts a backend may need at setup. */
struct inc_bench_env {
	struct inc_bench_guard *guard;  /**< removes namespaces if we die (bench_sys.h) */
	const char *self_exe;           /**< path of this program, for re-exec */
	pid_t pid;                      /**< our PID, for unique names */
	int verbose;
};

/**
 * One stack under test.
 *
 * Thread: setup, teardown, server_start, server_stop and counters are called
 * from the driver's main thread only, in the order setup, (server_start,
 * client activity, server_stop)*, teardown. client_thread_init/fini and the
 * connection operations are called from client threads, each thread with its
 * own tctx and its own connections, concurrently with other client threads.
 * Ownership: `state` belongs to the backend from setup to teardown; `tctx`
 * from client_thread_init to client_thread_fini; struct inc_bench_conn is
 * storage owned by the caller that the backend fills in connect and releases
 * in close (close is called exactly once per successful connect).
 * Returns: 0 / a byte count, or a negative errno.
 */
struct inc_bench_backend {
	const char *name;     /**< chosen with --backends */
	const char *summary;  /**< one line for --list and the report */

	int (*setup)(const struct inc_bench_env *env, void **state);
	void (*teardown)(void *state);

	/** Start a server with cfg->workers worker threads; returns once it
	 *  accepts connections on cfg->port. */
	int (*server_start)(void *state, const struct inc_bench_server_cfg *cfg);
	/** Stop the server after every client connection was closed: waits
	 *  (bounded) for the workers to see every close, stops them and fills
	 *  *stats. */
	int (*server_stop)(void *state, struct inc_bench_server_stats *stats);

	/** Optional: per client thread set-up (e.g. enter a namespace). */
	int (*client_thread_init)(void *state, unsigned index, void **tctx);
	/** Optional: undo client_thread_init. */
	void (*client_thread_fini)(void *state, void *tctx);

	/** Open a connection to the server (blocking, bounded by a timeout). */
	int (*connect)(void *state, void *tctx, struct inc_bench_conn *conn);
	/** Send all of buf (blocking). */
	int (*send_all)(void *tctx, struct inc_bench_conn *conn, const void *buf, size_t len);
	/** Receive up to len bytes (blocking); 0 at end of stream. */
	ssize_t (*recv)(void *tctx, struct inc_bench_conn *conn, void *buf, size_t len);
	/** Half-close: no more sending (end of a bulk stream). */
	int (*shutdown_wr)(void *tctx, struct inc_bench_conn *conn);
	/** Close and release the connection. */
	int (*close)(void *tctx, struct inc_bench_conn *conn);

	/** Optional, instead of connect..close: run one client thread's share
	 *  of a test (blocking until it ends) on the backend's own threads.
	 *  Returns 0 or a negative errno (job->error says why). */
	int (*client_run)(void *state, void *tctx, struct inc_bench_client_job *job);

	/** Optional: current values of the backend's counters. */
	void (*counters)(void *state, struct inc_bench_counters *out);
	/** Optional: entry point of a helper process the backend starts by
	 *  running this program as `<self_exe> --child <name> args...`;
	 *  argv[0] is the first of args. Returns the exit status. */
	int (*child_main)(int argc, char **argv);
};

/** The backends built into this program, NULL-terminated (bench_backends.c). */
extern const struct inc_bench_backend *const inc_bench_backends[];

/** Find a backend by name. Returns NULL if there is none. */
const struct inc_bench_backend *inc_bench_backend_find(const char *name);

/** Add a counter to *out (ignored when full). */
void inc_bench_counters_add(struct inc_bench_counters *out, const char *name, uint64_t value);

/** Value of a counter, 0 when absent. */
uint64_t inc_bench_counters_get(const struct inc_bench_counters *c, const char *name);

#ifdef __cplusplus
}
#endif

#endif
