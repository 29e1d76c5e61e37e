/*
 * dns_upstream.h - the text form of a DNS upstream ("192.0.2.53",
 * "127.0.0.1:5353", "[2001:db8::53]:53") and libunbound's ("addr@port").
 */
#ifndef LIMRISTEM_DNS_UPSTREAM_H
#define LIMRISTEM_DNS_UPSTREAM_H

#include <stddef.h>

/* NULL when value is a valid upstream, else the reason (for config tables). */
const char *dns_upstream_check(const char *value);
/* Writes libunbound's form to out; 0, or -1 when value is invalid or out small. */
int dns_upstream_to_unbound(const char *value, char *out, size_t outlen);

#endif
