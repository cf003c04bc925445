/*
 * Running a function on a worker from any thread: the primitive under
 * Inception's cross-thread APIs (connections live on their owner core, and
 * only that core may touch them).
 *
 * An application thread attaches an endpoint (inc_stack_endpoint_attach()),
 * then calls inc_stack_call_run(): the call travels on the endpoint's lane to the
 * worker's MPSC inbound channel, the worker runs fn with its lwIP instance,
 * and the completion comes back on the lane; the caller sleeps on the lane's
 * eventfd meanwhile (so it can also wait in epoll, poll or libevent on
 * inc_stack_endpoint_fd()).
 */
#ifndef INC_STACK_CALL_H
#define INC_STACK_CALL_H

#include "inception/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct inc_chan_app;

/** A function to run on a worker. Returns 0 or a negative errno. */
typedef int (*inc_stack_call_fn)(struct inc_worker *w, void *arg);

/** A call in flight: the caller's memory until its completion returns. */
struct inc_stack_call {
  inc_stack_call_fn fn;
  void *arg;
  int status;   /**< fn's result, or -ESHUTDOWN if the worker was stopping */
  int done;     /**< set when the completion has been received */
};

/**
 * Attaches the calling thread to the stack (one endpoint per thread).
 * Thread: any thread that is not a worker. Returns: 0, -ENOSPC (all of
 * cfg.app_endpoints in use), -EINVAL.
 */
int inc_stack_endpoint_attach(struct inc_stack *s, struct inc_chan_app **out);

/** Detaches; no call may be in flight. Thread: the endpoint's. Returns: 0. */
int inc_stack_endpoint_detach(struct inc_chan_app *ep);

/** The endpoint's eventfd: readable when completions are waiting (after
 * inc_stack_endpoint_arm()). Put it in epoll, poll or libevent; do not read
 * or close it. */
int inc_stack_endpoint_fd(const struct inc_chan_app *ep);

/**
 * Prepares to sleep on the eventfd: the next completion will signal it.
 * Thread: the endpoint's. Returns: 0 (armed), or -EAGAIN (completions are
 * already waiting: reap them instead of sleeping).
 */
int inc_stack_endpoint_arm(struct inc_chan_app *ep);

/**
 * Sends call to worker w and returns without waiting.
 * Thread: the endpoint's. Ownership: call stays the caller's and must live
 *   until inc_stack_call_reap() reports it done.
 * Returns: 0, -EINVAL (w out of range), -ENOBUFS (the lane is full: reap and
 *   retry).
 */
int inc_stack_call_post(struct inc_chan_app *ep, unsigned w, struct inc_stack_call *call);

/**
 * Takes the completions that arrived (sets done and status in their calls).
 * Thread: the endpoint's. Returns: completions taken.
 */
int inc_stack_call_reap(struct inc_chan_app *ep);

/**
 * Runs fn(arg) on worker w and waits for its result, sleeping on the
 * endpoint's eventfd.
 * Thread: the endpoint's. Blocks: up to timeout_ms (-1: no limit).
 * Returns: fn's result; -ETIMEDOUT (the call is still in flight: keep call
 *   alive and reap it later), -ESHUTDOWN, -EINVAL, -ENOBUFS.
 */
int inc_stack_call_run(struct inc_chan_app *ep, unsigned w, struct inc_stack_call *call, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* INC_STACK_CALL_H */
