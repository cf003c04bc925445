/*
 * inc_addr: text and sockaddr conversions (inet_pton/inet_ntop underneath)
 * (the bridge to lwIP is addr_lwip.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inception/addr.h"

int inc_addr_parse(struct inc_addr *out, const char *text)
{
  char buf[INC_ADDR_STRLEN];
  const char *pct;
  size_t n;
  if (out == NULL || text == NULL) {
    return -EINVAL;
  }
  memset(out, 0, sizeof(*out));
  if (inet_pton(AF_INET, text, &out->u.v4) == 1) {
    out->family = INC_AF_INET;
    return 0;
  }
  pct = strchr(text, '%');
  n = pct != NULL ? (size_t)(pct - text) : strlen(text);
  if (n >= sizeof(buf)) {
    return -EINVAL;
  }
  memcpy(buf, text, n);
  buf[n] = '\0';
  if (inet_pton(AF_INET6, buf, out->u.v6) != 1) {
    return -EINVAL;
  }
  out->family = INC_AF_INET6;
  if (pct != NULL) {
    char *end;
    unsigned long z = strtoul(pct + 1, &end, 10);
    if (pct[1] == '\0' || *end != '\0' || z > UINT32_MAX) {
      return -EINVAL;
    }
    out->zone = (uint32_t)z;
  }
  return 0;
}

int inc_addr_format(const struct inc_addr *a, char *buf, size_t len)
{
  char tmp[INC_ADDR_STRLEN];
  if (a == NULL || buf == NULL) {
    return -EINVAL;
  }
  if (a->family == INC_AF_INET) {
    inet_ntop(AF_INET, &a->u.v4, tmp, sizeof(tmp));
  } else if (a->family == INC_AF_INET6) {
    size_t n;
    inet_ntop(AF_INET6, a->u.v6, tmp, sizeof(tmp));
    n = strlen(tmp);
    if (a->zone != 0) {
      snprintf(tmp + n, sizeof(tmp) - n, "%%%u", (unsigned)a->zone);
    }
  } else if (a->family == INC_AF_NONE) {
    snprintf(tmp, sizeof(tmp), "*");
  } else {
    return -EINVAL;
  }
  if (strlen(tmp) + 1 > len) {
    return -ENOSPC;
  }
  memcpy(buf, tmp, strlen(tmp) + 1);
  return 0;
}

int inc_addr_equal(const struct inc_addr *a, const struct inc_addr *b)
{
  if (a->family != b->family) {
    return 0;
  }
  if (a->family == INC_AF_INET) {
    return a->u.v4 == b->u.v4;
  }
  if (a->family == INC_AF_INET6) {
    return a->zone == b->zone && memcmp(a->u.v6, b->u.v6, 16) == 0;
  }
  return 1;
}

int inc_addr_is_any(const struct inc_addr *a)
{
  static const uint8_t zero[16];
  if (a->family == INC_AF_INET) {
    return a->u.v4 == 0;
  }
  if (a->family == INC_AF_INET6) {
    return memcmp(a->u.v6, zero, 16) == 0;
  }
  return 1;
}

int inc_addr_from_sockaddr(struct inc_addr *out, uint16_t *port, const struct sockaddr *sa, size_t len)
{
  if (out == NULL || sa == NULL || len < sizeof(sa_family_t)) {
    return -EINVAL;
  }
  memset(out, 0, sizeof(*out));
  if (sa->sa_family == AF_INET) {
    struct sockaddr_in in;
    if (len < sizeof(in)) {
      return -EINVAL;
    }
    memcpy(&in, sa, sizeof(in));
    out->family = INC_AF_INET;
    out->u.v4 = in.sin_addr.s_addr;
    if (port != NULL) {
      *port = ntohs(in.sin_port);
    }
    return 0;
  }
  if (sa->sa_family == AF_INET6) {
    struct sockaddr_in6 in6;
    if (len < sizeof(in6)) {
      return -EINVAL;
    }
    memcpy(&in6, sa, sizeof(in6));
    out->family = INC_AF_INET6;
    memcpy(out->u.v6, &in6.sin6_addr, 16);
    out->zone = in6.sin6_scope_id;
    if (port != NULL) {
      *port = ntohs(in6.sin6_port);
    }
    return 0;
  }
  return -EAFNOSUPPORT;
}

int inc_addr_to_sockaddr(const struct inc_addr *a, uint16_t port, struct sockaddr *sa, size_t *len)
{
  if (a == NULL || sa == NULL || len == NULL) {
    return -EINVAL;
  }
  if (a->family == INC_AF_INET) {
    struct sockaddr_in in;
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    in.sin_addr.s_addr = a->u.v4;
    memcpy(sa, &in, *len < sizeof(in) ? *len : sizeof(in));
    *len = sizeof(in);
    return 0;
  }
  if (a->family == INC_AF_INET6) {
    struct sockaddr_in6 in6;
    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    memcpy(&in6.sin6_addr, a->u.v6, 16);
    in6.sin6_scope_id = a->zone;
    memcpy(sa, &in6, *len < sizeof(in6) ? *len : sizeof(in6));
    *len = sizeof(in6);
    return 0;
  }
  return -EINVAL;
}
