/*
 * What the three examples (inc-echo, inc-httpd, inc-client) share: option
 * parsing, the EAL, the network they run on, the stacks and the API
 * contexts, and the deterministic bytes every transfer is checked against.
 *
 * Two networks:
 *   wire (default)  two Inception stacks in this process joined by the
 *                   software RSS wire (net_ring): the server stack
 *                   (198.18.0.1, 2001:2::1) and the client stack (198.18.0.2,
 *                   2001:2::2); the program runs both ends and exits.
 *   tap (--tap IF)  one stack on a DPDK net_tap port attached to the existing
 *                   (multi_queue) tap device IF, with the --ip/--ip6
 *                   addresses; Linux is the peer on the other side. Run the
 *                   program in the tap's network namespace.
 *
 * Thread: everything here runs on the program's main thread (the EAL's main
 * lcore, the control plane), except ex_body_fill()/ex_body_check() (any).
 */
#ifndef INC_EX_COMMON_H
#define INC_EX_COMMON_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "inception/addr.h"
#include "inception/conn.h"
#include "inception/port.h"
#include "inception/stack.h"
#include "inception/wire.h"

/* Options some programs take: ex_parse() accepts only those in `accept`. */
#define EX_OPT_REQUESTS 0x01u /* --requests N */
#define EX_OPT_CONNS 0x02u    /* --conns C */
#define EX_OPT_BYTES 0x04u    /* --bytes N */
#define EX_OPT_SERVER 0x08u   /* --server ADDR (client, tap mode) */
#define EX_OPT_SIZES 0x10u    /* --sizes LIST */
#define EX_OPT_PROTO 0x20u    /* --proto http|echo */
#define EX_OPT_DURATION 0x40u /* --duration S (servers on tap) */

#define EX_MAX_SIZES 16

struct ex_opts {
  const char *prog;
  unsigned workers;     /* per stack, 1..4 (net_tap takes at most 4 queue pairs) */
  uint16_t port;        /* the service's TCP port */
  int port_given;       /* --port was given (else port is the program's default) */
  const char *tap;      /* NULL: the software wire */
  struct inc_addr ip4;  /* tap: our IPv4 address (family NONE: none) */
  unsigned ip4_len;
  struct inc_addr ip6;  /* tap: our IPv6 address */
  unsigned ip6_len;
  struct inc_addr server; /* client on tap: the server to talk to */
  unsigned requests;    /* requests (or echo rounds) the client makes in all */
  unsigned conns;       /* client connections at once */
  uint64_t bytes;       /* echo: bytes per connection */
  uint64_t sizes[EX_MAX_SIZES]; /* HTTP: body sizes asked for (/bytes/N), in turn */
  unsigned n_sizes;
  int proto_echo;       /* client: echo instead of HTTP */
  double duration;      /* server on tap: seconds to run; 0: until SIGINT/SIGTERM */
  int quiet;
};

/** What a program tells ex_parse(). */
struct ex_prog {
  const char *name;      /* "inc-httpd" */
  const char *summary;   /* one paragraph for --help */
  const char *extra;     /* option lines of its own options for --help */
  unsigned accept;       /* EX_OPT_* */
  uint16_t default_port;
  unsigned default_requests, default_conns;
  uint64_t default_bytes;
};

/**
 * Parses argv into o (defaults from p). Prints --help to stdout and exits 0;
 * on a bad option prints one clear line and the usage hint to stderr.
 * Returns: 0, or -1 (bad usage: exit 2).
 */
int ex_parse(int argc, char **argv, const struct ex_prog *p, struct ex_opts *o);

enum ex_side { EX_SERVER = 0, EX_CLIENT = 1 };

/** The network, the stacks and the API contexts of one run. */
struct ex_env {
  const struct ex_opts *o;
  struct inc_wire wire;
  struct inc_port port[2]; /* wire: [EX_SERVER] end A, [EX_CLIENT] end B; tap: [0] */
  int n_ports;
  struct inc_stack *stack[2];
  void *stack_mem[2];
  struct inc_api *api[2];
  void *api_mem[2];
  char run_dir[96];
};

/** The EAL and the ports (wire pair or tap). Returns: 0, or -1 (message printed). */
int ex_env_init(struct ex_env *e, const struct ex_opts *o);

/**
 * Starts the stack of a side (tap mode: the only one, on the tap, whatever
 * the side) with the application's worker callbacks (cb may be NULL), and
 * an API context (inception/conn.h) if with_api.
 * Returns: 0, or -1 (message printed).
 */
int ex_stack_start(struct ex_env *e, enum ex_side side, const struct inc_stack_callbacks *cb, int with_api);

/** The server's address in wire mode (198.18.0.1 or 2001:2::1). */
struct inc_addr ex_wire_server_addr(int family);

/**
 * Stops everything started (API contexts, stacks, ports, wire, EAL) and
 * checks that every mbuf came back to its pool.
 * Returns: 0, or -1 (a leak or a close error: message printed).
 */
int ex_env_fini(struct ex_env *e);

/** Set by SIGINT / SIGTERM once ex_signals() ran. */
extern volatile sig_atomic_t ex_stop_requested;
void ex_signals(void);

/**
 * Blocks, in the calling thread, SIGIO and the real-time signals (and
 * SIGINT/SIGTERM if stop_too). Call it on every thread that uses the
 * sequential or sockets API: DPDK's net_tap PMD has the kernel signal its
 * receive queues' activity (F_SETSIG: a real-time signal, seen as SIGRT_3;
 * the workers, which do not block it, take it), and a signal that interrupts an API call's wait
 * makes inc_stack_call_run() return -EINTR while the call is still in
 * flight (see the report of issue 6's examples). The main thread calls it
 * after ex_env_init() (the EAL's threads exist then, with SIGIO open).
 */
void ex_block_signals(int stop_too);

double ex_now(void);

/* ---- the deterministic bytes --------------------------------------------- */

/*
 * The stream of stream id: records of 16 bytes, record k being the 15
 * lower-case hex digits of (id << 40) + k and a newline. The body of
 * GET /bytes/N is the first N bytes of stream 0 (what `awk 'BEGIN { for (k = 0;
 * ; k++) printf "%015x\n", k }' | head -c N` prints).
 */
void ex_body_fill(uint32_t id, uint64_t off, uint8_t *p, size_t n);
/** Returns: the index of the first byte that differs, or n if all match. */
size_t ex_body_check(uint32_t id, uint64_t off, const uint8_t *p, size_t n);

#endif /* INC_EX_COMMON_H */
