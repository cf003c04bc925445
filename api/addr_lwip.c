/*
 * The private bridge between inc_addr and lwIP's ip_addr_t (apart from
 * addr.c: lwIP's byte-order macros clash with the C library's).
 */
#include <errno.h>
#include <string.h>

#include "api_priv.h"

int inc__addr_to_lwip(const struct inc_addr *a, ip_addr_t *out)
{
  if (a == NULL || a->family == INC_AF_NONE) {
    ip_addr_copy(*out, *IP_ANY_TYPE);
    return 0;
  }
  if (a->family == INC_AF_INET) {
    ip_addr_set_ip4_u32_val(*out, a->u.v4);
    return 0;
  }
  if (a->family == INC_AF_INET6) {
    uint32_t w[4];
    memcpy(w, a->u.v6, 16);
    IP_ADDR6(out, w[0], w[1], w[2], w[3]);
    ip6_addr_set_zone(ip_2_ip6(out), (u8_t)a->zone);
    return 0;
  }
  return -EAFNOSUPPORT;
}

void inc__addr_from_lwip(const ip_addr_t *a, struct inc_addr *out)
{
  memset(out, 0, sizeof(*out));
  if (IP_IS_V6(a) && !IP_IS_ANY_TYPE_VAL(*a)) {
    out->family = INC_AF_INET6;
    memcpy(out->u.v6, ip_2_ip6(a)->addr, 16);
    out->zone = ip6_addr_zone(ip_2_ip6(a));
  } else if (IP_IS_ANY_TYPE_VAL(*a)) {
    out->family = INC_AF_NONE;
  } else {
    out->family = INC_AF_INET;
    out->u.v4 = ip4_addr_get_u32(ip_2_ip4(a));
  }
}
