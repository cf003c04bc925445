/*
 * What the parts of api/ share (private): conversions between the public
 * inc_addr and lwIP's ip_addr_t.
 */
#ifndef INC_API_PRIV_H
#define INC_API_PRIV_H

#include "inception/addr.h"
#include "lwip/ip_addr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* inc_addr -> ip_addr_t (an unset family becomes IPADDR_ANY_TYPE's any).
 * Returns 0 or -EAFNOSUPPORT. Thread: any. */
int inc__addr_to_lwip(const struct inc_addr *a, ip_addr_t *out);
/* ip_addr_t -> inc_addr. Thread: any. */
void inc__addr_from_lwip(const ip_addr_t *a, struct inc_addr *out);

#ifdef __cplusplus
}
#endif

#endif /* INC_API_PRIV_H */
