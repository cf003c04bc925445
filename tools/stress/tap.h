/*
 * The stress harness's --tap mode (tools/stress): Linux is the server.
 *
 * tap_peer_start() creates a network namespace incstress<pid> with a
 * multi_queue tap device incst<pid> in it (198.18.7.2/24, Linux's side) and
 * forks a child that enters the namespace and serves the harness's session
 * protocol (mix.h) with Linux's TCP (linux_server.c), verifying every byte
 * and answering with the expected pattern. The client stack opens the same
 * tap with DPDK's net_tap (tap_peer_enter() around the port's init and
 * close: its queues are opened in the namespace) at 198.18.7.1/24.
 *
 * The child is also the guardian: when the harness closes its end of a pipe
 * (tap_peer_stop()) or dies, even by SIGKILL, the child stops its server and
 * deletes the tap and the namespace. Namespaces of dead harnesses are
 * removed at the next start. Root only; addresses in 198.18.0.0/15 only.
 */
#ifndef INC_STRESS_TAP_H
#define INC_STRESS_TAP_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TAP_OUR_IP4 0xc6120701u   /* 198.18.7.1: the client stack */
#define TAP_LINUX_IP4 0xc6120702u /* 198.18.7.2: Linux's server */
#define TAP_MAX_THREADS 4u

/* Counters of the Linux server, in memory shared by the harness and the
 * child (MAP_SHARED): written by the server's threads with relaxed atomic
 * adds, read by the harness at any time. */
struct tap_peer_shared {
  _Atomic uint64_t accepted, done, bytes; /* sessions accepted / verified whole at the client's FIN; bytes verified */
  _Atomic uint64_t corrupt;               /* wrong bytes, headers or lengths, or a session cut short */
  _Atomic int ready;                      /* 1: listening; -errno: the server could not start */
  _Atomic int stopping;                   /* set by the harness: cut sessions are not errors */
};

struct tap_peer {
  char ns[32], tap[16];
  pid_t child;                /* -1: none */
  int pipe_w;                 /* the harness's end: closed, the child cleans up */
  int saved_ns;               /* the harness's namespace while entered (-1: not) */
  int created;                /* the namespace exists and no child owns it yet */
  struct tap_peer_shared *sh; /* MAP_SHARED */
};

/* Creates the namespace and the tap, forks the server (threads threads on
 * TCP port `port`) and waits until it listens. Call before the EAL starts
 * (no other thread exists). Thread: the main thread. Returns 0, -ENOTSUP
 * when this machine cannot have it (not root, no network namespaces, no tun
 * device), or another negative errno (a message on stderr in both cases;
 * nothing left behind). */
int tap_peer_start(struct tap_peer *p, unsigned threads, uint16_t port);

/* The calling thread enters the namespace / goes back. Returns 0 or a
 * negative errno. */
int tap_peer_enter(struct tap_peer *p);
void tap_peer_leave(struct tap_peer *p);

/* Ends the server and waits until the child has deleted the tap and the
 * namespace (close the DPDK port first). Safe to call twice. */
void tap_peer_stop(struct tap_peer *p);

/* The Linux server (linux_server.c), run by the child inside the namespace:
 * serves until *stop; sets sh->ready. Returns 0 or a negative errno. */
int tap_linux_serve(struct tap_peer_shared *sh, unsigned threads, uint16_t port, const _Atomic int *stop);

#ifdef __cplusplus
}
#endif

#endif
