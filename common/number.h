/*
 * number.h - whole numbers from text that anyone may have written.
 *
 * Pure and strict: the whole text must be decimal digits (a '-' first only
 * where negative numbers are allowed), no spaces, no '+', no "0x", no
 * empty string; digits are accumulated with an overflow check, so a number
 * of any length is judged without undefined behaviour. strtoll() and
 * friends skip leading spaces, take a sign and saturate silently, which is
 * why nothing that reads a number from the network, the database, Redis or
 * the command line should use them directly.
 */
#ifndef LIMRISTEM_NUMBER_H
#define LIMRISTEM_NUMBER_H

#include <stddef.h>

enum number_status {
	NUMBER_OK = 0,
	NUMBER_INVALID = -1,		/* empty, or not only digits */
	NUMBER_OUT_OF_RANGE = -2,	/* digits, but below min or above max */
};

/* Parses s[0..len) as a whole number in [min, max]. On NUMBER_OK stores it
 * in *value_r. On NUMBER_OUT_OF_RANGE stores min or max, whichever side
 * the number is on (so a caller may saturate instead of refusing); on
 * NUMBER_INVALID leaves *value_r alone. */
enum number_status number_parse(const char *s, size_t len, long long min, long long max,
				long long *value_r);

/* The same over a NUL-terminated string. */
enum number_status number_parse_str(const char *s, long long min, long long max,
				    long long *value_r);

#endif
