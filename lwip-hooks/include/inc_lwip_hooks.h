/*
 * Inception's redirection of lwIP's hooks (LWIP_HOOK_FILENAME).
 *
 * Every hook here is an upstream lwIP hook or one added by a patch in
 * upstream-patches/ (each documented in lwIP's opt.h), pointed at Inception's
 * implementation in lwip-hooks/. lwIP includes this file from its .c files
 * only, after its own headers, so lwIP's types are known here.
 */
#ifndef INC_LWIP_HOOKS_H
#define INC_LWIP_HOOKS_H

#include "lwip/arch.h"

struct tcp_pcb;
struct udp_pcb;

#ifdef __cplusplus
extern "C" {
#endif

/* lwip-hooks/instance.c */
int inc__lwip_tcp_local_port_ok(const struct tcp_pcb *pcb, u16_t port);
int inc__lwip_udp_local_port_ok(const struct udp_pcb *pcb, u16_t port);

#ifdef __cplusplus
}
#endif

/* upstream-patches/0002: the ephemeral port of an active open is chosen so
 * that the reply's RSS hash lands on the opening core (stack/ installs the
 * policy; without one every free port is accepted, as in plain lwIP). */
#define LWIP_HOOK_TCP_LOCAL_PORT(pcb, port) inc__lwip_tcp_local_port_ok((pcb), (port))
#define LWIP_HOOK_UDP_LOCAL_PORT(pcb, port) inc__lwip_udp_local_port_ok((pcb), (port))

#endif /* INC_LWIP_HOOKS_H */
