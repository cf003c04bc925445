/*
 * Application commands executed on a worker (the owner core of a
 * connection): the worker side of inc_stack_call_run().
 *
 * A command is a body in the application's memory; the message carries a
 * pointer to it. The worker runs it in its loop, with its lwIP instance, and
 * sends the body back as a completion on the sender's lane, which wakes the
 * sender through its eventfd if it sleeps.
 */
#include <errno.h>

#include "inception/stack_call.h"
#include "stack_priv.h"

static void complete(struct inc_worker *w, const struct inc_msg *msg, int status)
{
  struct inc_msg c = inc_msg_completion(msg->ptr, status);
  unsigned e = msg->src & ~INC_CHAN_SRC_APP;
  /* the lane back to the endpoint has one slot per command it may have in
   * flight (inc_stack_call_run() never has more than the lane holds), so this
   * cannot find it full */
  (void)inc_chan_complete_burst(w->stack->mesh, w->index, e, &c, 1);
}

void inc__cmd_exec(struct inc_worker *w, const struct inc_msg *msg)
{
  struct inc_stack_call *call = (struct inc_stack_call *)msg->ptr;
  int status;
  INC__CNT_ADD(w, commands, 1);
  status = call->fn(w, call->arg);
  complete(w, msg, status);
}

void inc__cmd_discard(struct inc_worker *w, const struct inc_msg *msg)
{
  complete(w, msg, -ESHUTDOWN);
}
