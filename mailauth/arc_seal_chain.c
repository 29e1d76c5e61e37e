/*
 * arc_seal_chain.c - scan of the ARC fields a message already carries,
 * for the sealer (see arc_seal_chain.h).
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "mailauth/arc_seal_chain.h"
#include "mailauth/dkim_tags.h"

const char *const arc_seal_field_names[ARC_SEAL_FIELDS] = {
	"ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal",
};

int arc_seal_field_of(const struct dkim_canon_header *h)
{
	for (int f = 0; f < ARC_SEAL_FIELDS; f++)
		if (dkim_canon_name_matches(h->name, h->name_len, arc_seal_field_names[f],
				       strlen(arc_seal_field_names[f])))
			return f;
	return -1;
}

/* Digits of i= as a number (capped), or 0 when they are not digits. */
static unsigned digits_value(const char *s, size_t len)
{
	unsigned v = 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > ARC_SEAL_CHAIN_INSTANCE_CAP)
			v = ARC_SEAL_CHAIN_INSTANCE_CAP;
	}
	return v;
}

/* i= of an AMS or AS (and whether cv=fail), 0 when unreadable. */
static unsigned sig_instance(const struct dkim_canon_header *h, bool *cv_fail_r)
{
	struct dkim_tag_list list;
	const char *why;

	*cv_fail_r = false;
	if (dkim_tags_parse(h->value, h->value_len, &list, &why) < 0)
		return 0;
	const struct dkim_tag *i = dkim_tags_find(&list, "i");
	const struct dkim_tag *cv = dkim_tags_find(&list, "cv");
	*cv_fail_r = cv != NULL && cv->value_len == 4 && strncasecmp(cv->value, "fail", 4) == 0;
	return i != NULL ? digits_value(i->value, i->value_len) : 0;
}

/* i= of an AAR, 0 when unreadable. Over 50 counts as the cap. */
static unsigned aar_instance(const struct dkim_canon_header *h)
{
	const char *why;
	unsigned instance;
	size_t pos = dkim_tags_skip_fws(h->value, h->value_len, 0);

	if (arc_aar_instance(h->value, h->value_len, &instance, &why) == 0)
		return instance;
	if (pos + 2 < h->value_len && h->value[pos] == 'i' && h->value[pos + 1] == '=') {
		size_t start = pos + 2, end = start;
		while (end < h->value_len && end - start < 4 && h->value[end] >= '0' && h->value[end] <= '9')
			end++;
		if (digits_value(h->value + start, end - start) > ARC_INSTANCE_MAX)
			return ARC_SEAL_CHAIN_INSTANCE_CAP;
	}
	return 0;
}

void arc_seal_chain_scan(const struct dkim_canon_header *headers, size_t count,
			 struct arc_seal_chain *chain_r)
{
	unsigned newest_seal = 0;
	bool sound = true;

	memset(chain_r, 0, sizeof(*chain_r));
	for (size_t i = 0; i <= ARC_INSTANCE_MAX; i++)
		for (int f = 0; f < ARC_SEAL_FIELDS; f++)
			chain_r->set[i][f] = -1;
	for (size_t k = 0; k < count; k++) {
		int f = arc_seal_field_of(&headers[k]);
		bool cv_fail = false;
		unsigned instance;

		if (f < 0)
			continue;
		chain_r->any = true;
		instance = f == ARC_SEAL_AAR ? aar_instance(&headers[k]) : sig_instance(&headers[k], &cv_fail);
		if (instance == 0 || instance > ARC_INSTANCE_MAX || chain_r->set[instance][f] >= 0)
			sound = false;
		else
			chain_r->set[instance][f] = (long)k;
		if (instance > chain_r->highest)
			chain_r->highest = instance;
		if (f == ARC_SEAL_AS && instance > 0 && instance > newest_seal) {
			newest_seal = instance;
			chain_r->newest_cv_fail = cv_fail;
		} else if (f == ARC_SEAL_AS && instance > 0 && instance == newest_seal) {
			chain_r->newest_cv_fail |= cv_fail;
		}
	}
	for (unsigned i = 1; sound && i <= chain_r->highest; i++)
		for (int f = 0; f < ARC_SEAL_FIELDS; f++)
			if (chain_r->set[i][f] < 0)
				sound = false;
	chain_r->complete = sound && chain_r->highest > 0;
}
