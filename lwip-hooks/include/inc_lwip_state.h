/*
 * Inception: where lwIP's state lives.
 *
 * Included first by Inception's lwipopts.h (and, for lwIP's own unit suite in
 * the "redirected" configuration, by the compiler's -include), before lwIP's
 * arch.h supplies its defaults. It redirects the storage-class macro of
 * upstream-patches/0001 so that every mutable global and static of lwIP's core
 * is thread-local: each thread that calls lwip_init() owns one complete lwIP
 * instance, and Inception runs one such thread per worker core.
 *
 * lwIP is linked statically into the application, so the initial-exec model
 * applies: each access is a single %fs-relative load, no __tls_get_addr call.
 */
#ifndef INC_LWIP_STATE_H
#define INC_LWIP_STATE_H

#define LWIP_STATE_STORAGE __thread __attribute__((tls_model("initial-exec")))

/* The address of a thread-local variable is not an address constant: lwIP
 * fills tcp_pcb_lists[] and its pool tables at init time instead. */
#define LWIP_STATE_ADDRESS_IS_CONSTANT 0

#endif /* INC_LWIP_STATE_H */
