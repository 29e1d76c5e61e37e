/*
 * number.c - strict, overflow-free parsing of whole numbers (see number.h).
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/number.h"

enum number_status number_parse(const char *s, size_t len, long long min, long long max,
				long long *value_r)
{
	bool negative = len > 0 && s[0] == '-';
	size_t i = negative ? 1 : 0;
	/* the magnitude, accumulated unsigned; past the limit it only counts
	 * as "too large", which needs no further digits' value */
	uint64_t magnitude = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	bool too_large = false;

	if (i == len)
		return NUMBER_INVALID;
	for (; i < len; i++) {
		unsigned digit = (unsigned char)s[i] - '0';

		if (digit > 9)
			return NUMBER_INVALID;
		if (too_large)
			continue;
		if (magnitude > (limit - digit) / 10)
			too_large = true;
		else
			magnitude = magnitude * 10 + digit;
	}
	if (negative && magnitude == 0 && !too_large)
		return NUMBER_INVALID;	/* "-0" */
	if (negative) {
		long long v = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(long long)magnitude;

		if (too_large || v < min) {
			*value_r = min;
			return NUMBER_OUT_OF_RANGE;
		}
		if (v > max) {
			*value_r = max;
			return NUMBER_OUT_OF_RANGE;
		}
		*value_r = v;
		return NUMBER_OK;
	}
	if (too_large || (long long)magnitude > max) {
		*value_r = max;
		return NUMBER_OUT_OF_RANGE;
	}
	if ((long long)magnitude < min) {
		*value_r = min;
		return NUMBER_OUT_OF_RANGE;
	}
	*value_r = (long long)magnitude;
	return NUMBER_OK;
}

enum number_status number_parse_str(const char *s, long long min, long long max,
				    long long *value_r)
{
	return number_parse(s, strlen(s), min, max, value_r);
}
