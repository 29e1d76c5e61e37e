/*
 * greylist_key.h - what identifies a greylisting triplet: the origin (the
 * client's network, or the domain SPF authorized the client for), the
 * envelope sender with its per-message variations folded, and the
 * recipient. Pure functions over buffers.
 */
#ifndef LIMRISTEM_MILTER_GREYLIST_KEY_H
#define LIMRISTEM_MILTER_GREYLIST_KEY_H

#include <stddef.h>

#include "common/addr.h"
#include "common/cidr.h"

#define GREYLIST_ORIGIN_MAX (8 + ADDR_DOMAIN_MAX + 1)
/* Room for keys whose every character is escaped (%2f). */
#define GREYLIST_TRIPLET_MAX (16 + GREYLIST_ORIGIN_MAX + 2 * (3 * ADDR_MAX + 1))
#define GREYLIST_REPLY_KEY_MAX (80 + 2 * (3 * ADDR_MAX + 1))

/* The sender as greylisting compares it: lowercase; BATV (prvs=TAG=user,
 * msprvs1=TAG=user, btv1==TAG==user) removed; "+extension" removed; SRS0
 * hash and timestamp and VERP numbers (digit runs between punctuation in
 * the local part: bounce-1234-5@) replaced by '#'; "<>" for the null
 * sender. -1 when out is too small. */
int greylist_normalize_sender(const char *sender, size_t len, char *out, size_t outlen);

/* "net:192.0.2.0/24" (prefix by family), or "spf:example.org" when
 * spf_domain is not NULL. -1 when out is too small. */
int greylist_origin(const struct ip_addr *client, unsigned prefix_v4, unsigned prefix_v6,
		    const char *spf_domain, char *out, size_t outlen);

/* "grey:ORIGIN/SENDER/RCPT", lowercase; '/' and '%' in SENDER and RCPT
 * (a quoted local part may hold them) written as %2f and %25, so that
 * the fields cannot be split another way and no two triplets share a
 * key. -1 when too long. */
int greylist_triplet_key(const char *origin, const char *sender, const char *rcpt, char *out,
			 size_t outlen);

/* PREFIX "reply:EXTERNAL/LOCAL", lowercase but for the prefix, the
 * addresses escaped as in triplet keys: the key of a trusted reply
 * (the milter's and mailadm's). -1 when it does not fit. */
int greylist_reply_key(const char *prefix, const char *external, const char *local, char *out,
		       size_t outlen);

#endif
