/*
 * spf_syntax.h - RFC 7208 record and explanation syntax, checked in full
 * before libspf2 sees them, and the text libspf2 is given instead.
 *
 * libspf2 1.2.10 accepts much that RFC 7208 12 forbids (a:museum,
 * a:111.222.33.44, exists:, exp=, redirect twice, %(ir), ip4:1.2.3.4/032,
 * macro letters c, r, t outside explanations ...) and rejects some of
 * what it allows (modifier names with '.'); 4.6 says any syntax error
 * anywhere in a record is a permerror. So the whole grammar is checked
 * here, and libspf2 gets an equivalent record it handles correctly:
 *   - unknown modifiers dropped (6: they have no effect);
 *   - redirect= moved last, or dropped when the record has "all"
 *     (6.1; libspf2 evaluates it where it stands);
 *   - ip4:X/0 and ip6:X/0 as two /1 networks (libspf2 cannot store a
 *     zero prefix length);
 *   - a and mx with a /0 prefix length: the /0 dropped and the domain
 *     tagged (SPF_TAG_ZERO_*), so that our DNS layer (spf_dns.c) answers
 *     the address lookups of that term with the client's own address
 *     whenever the name has any address of that family, which is what
 *     /0 means (RFC 7208 5.3, 5.4);
 *   - in explanations, spaces as "%_" (libspf2 turns a space into '%' and
 *     garbles the macro after it).
 *
 * Pure functions over NUL-terminated strings; fuzzed by
 * tests/fuzz/fuzz_spf_record.c.
 */
#ifndef LIMRISTEM_SPF_SYNTAX_H
#define LIMRISTEM_SPF_SYNTAX_H

#include "common/strbuf.h"

/* Longest term (mechanism or modifier) handed to libspf2: libspf2 1.2.10
 * compiles each term into a 511-byte buffer and underflows near its end
 * (CVE-2023-42118, unfixed in Debian 12); compiled, a term takes up to
 * about 2.4 times its text ("x%{d}x%{d}..."). A longer term is a
 * permerror. */
#define SPF_TERM_MAX 200

/* Longest explanation text handed to libspf2: its macro compiler writes
 * into a 511-byte stack buffer without checking, and "x%{d}" repeated
 * over 215 characters smashes the stack (measured on Debian 12's
 * 1.2.10-7.2). A longer text gives the default explanation. */
#define SPF_EXPLANATION_TEXT_MAX 160

/* Tags in front of the domain of an a or mx term that had a /0 length,
 * for IPv4, IPv6 or both ("a:example.org/0//0" becomes
 * "a:\001b.example.org"). They cannot occur in a record, which is
 * printable; libspf2 copies them through macro expansion untouched. */
#define SPF_TAG_ZERO_IP4 "\0014."
#define SPF_TAG_ZERO_IP6 "\0016."
#define SPF_TAG_ZERO_BOTH "\001b."
#define SPF_TAG_LEN 3

/* The margin of the CVE-2023-42118 screen, checked by the compiler.
 *
 * libspf2 1.2.10 compiles a term's domain-spec (or a modifier's value, or
 * an explanation) into blocks of at most SPF_MAX_MECH_LEN = 511 bytes
 * (SPF_MAX_MOD_LEN is the same); a string block's 4-byte header is not
 * counted against that room, so compiled data past 511 - 4 = 507 bytes
 * underflows its arithmetic.
 *
 * What a text of n characters compiles to, at most: blocks are 4-byte
 * aligned; a literal of k characters is a 4-byte header and k bytes
 * padded to 4 (8 bytes for 1 character), a macro ("%{d}", 4 characters
 * or more) a 4-byte block, a CIDR length ("/0" to "//128") a 4-byte
 * block. The costliest text per character is "x%{d}" repeated: 12 bytes
 * for every 5 characters; any text of n characters stays within
 * 12 * (n + 4) / 5 bytes (the + 4 for a last, short group). The term's
 * name and its ':' ("a:", 2 characters at least) compile to nothing.
 * The longest term handed to libspf2 is SPF_TERM_MAX characters, plus a
 * tag where a /0 length was dropped (spf_syntax.c). */
#define LIBSPF2_TERM_DATA_SAFE (511 - 4)
#define SPF_COMPILED_BYTES_MAX(chars) (12 * ((chars) + 4) / 5)
_Static_assert(SPF_COMPILED_BYTES_MAX(SPF_TERM_MAX + SPF_TAG_LEN - 2) <= LIBSPF2_TERM_DATA_SAFE,
	       "SPF_TERM_MAX lets libspf2's term compiler underflow (CVE-2023-42118)");
/* An explanation: a space becomes "%_", one literal byte for 2 characters,
 * so the bound over the original text holds. */
_Static_assert(SPF_COMPILED_BYTES_MAX(SPF_EXPLANATION_TEXT_MAX) <= LIBSPF2_TERM_DATA_SAFE,
	       "SPF_EXPLANATION_TEXT_MAX lets libspf2's macro compiler overflow");

/* Checks record ("v=spf1 ...", printable ASCII); on success appends the
 * record for libspf2 to out and returns 0, else returns -1 with *why_r a
 * static sentence. */
int spf_syntax_record(const char *record, struct strbuf *out, const char **why_r);

/* Checks an explanation text (6.2: macros, with c, r and t allowed, and
 * spaces); on success appends it for libspf2 to out and returns 0. */
int spf_syntax_explanation(const char *text, struct strbuf *out, const char **why_r);

#endif
