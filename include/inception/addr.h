/*
 * Addresses on Inception's public APIs: one small value type for IPv4 and
 * IPv6, with conversions to and from the C library's sockaddr and text.
 * lwIP's ip_addr_t never appears in a public header.
 *
 * Thread: every function here is pure (any thread, no state).
 */
#ifndef INC_ADDR_H
#define INC_ADDR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sockaddr;

enum inc_addr_family {
  INC_AF_NONE = 0, /**< unset: "any address" where one may be omitted */
  INC_AF_INET = 4,
  INC_AF_INET6 = 6,
};

/** An IPv4 or IPv6 address (network byte order), with the IPv6 zone (the
 * scope id of a link-local address, 0 otherwise). */
struct inc_addr {
  uint8_t family; /**< enum inc_addr_family */
  uint8_t pad[3];
  uint32_t zone;
  union {
    uint32_t v4;    /**< network byte order */
    uint8_t v6[16];
  } u;
};

/** Longest text inc_addr_format() writes, with its NUL. */
#define INC_ADDR_STRLEN 64

/** The IPv4 address a.b.c.d. */
static inline struct inc_addr inc_addr_ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
  struct inc_addr x;
  unsigned i;
  for (i = 0; i < sizeof(x); i++) {
    ((unsigned char *)&x)[i] = 0;
  }
  x.family = INC_AF_INET;
  ((uint8_t *)&x.u.v4)[0] = a;
  ((uint8_t *)&x.u.v4)[1] = b;
  ((uint8_t *)&x.u.v4)[2] = c;
  ((uint8_t *)&x.u.v4)[3] = d;
  return x;
}

/**
 * Parses "198.18.0.1", "2001:db8::1" or "fe80::1%3" (numeric only).
 * Returns: 0, or -EINVAL (not an address).
 */
int inc_addr_parse(struct inc_addr *out, const char *text);

/**
 * Writes the address as text (with "%zone" for a zoned IPv6 address).
 * Returns: 0, or -ENOSPC (len too small: INC_ADDR_STRLEN is enough), -EINVAL.
 */
int inc_addr_format(const struct inc_addr *a, char *buf, size_t len);

/** 1 if equal (family, address and zone), 0 otherwise. */
int inc_addr_equal(const struct inc_addr *a, const struct inc_addr *b);

/** 1 if the address is the unspecified one (0.0.0.0, ::) or unset. */
int inc_addr_is_any(const struct inc_addr *a);

/**
 * Reads a struct sockaddr_in or sockaddr_in6 (port in host byte order).
 * Returns: 0, -EAFNOSUPPORT (another family), -EINVAL (len too short).
 */
int inc_addr_from_sockaddr(struct inc_addr *out, uint16_t *port, const struct sockaddr *sa, size_t len);

/**
 * Writes a struct sockaddr_in or sockaddr_in6 (port in host byte order);
 * *len is the buffer's size on entry and the address's size on return (as
 * getsockname(2); a short buffer gets a truncated address).
 * Returns: 0, -EINVAL.
 */
int inc_addr_to_sockaddr(const struct inc_addr *a, uint16_t port, struct sockaddr *sa, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* INC_ADDR_H */
