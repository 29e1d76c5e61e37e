/*
 * fuzz_policy_request.c - libFuzzer target for policy_request_parse(), and
 * the quota decision over the numbers it hands on.
 *
 * Invariants: a parsed request lies inside the input and ends with an
 * empty line; every attribute is a string (never NULL) no longer than a
 * line; size and recipient_count are 0 when absent and otherwise the
 * digits sent, saturated at POLICY_NUMBER_MAX; a mailbox that is full, or
 * that any size beyond its room would overflow, is refused whatever the
 * size (UBSan checks the arithmetic); parsing never reads past the input
 * (ASan checks that).
 */
#include "autoconfig.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "policyd/checks.h"
#include "policyd/request.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static struct snapshot *mailboxes(void)
{
	static struct snapshot *snap;
	struct account *a;

	if (snap != NULL)
		return snap;
	snap = snapshot_new_empty();
	a = snapshot_add_account(snap, "full@example.org");
	a->quota_bytes = 1000;
	a->used_bytes = 1000;
	a = snapshot_add_account(snap, "room@example.org");
	a->quota_bytes = INT64_MAX;
	a->used_bytes = 1;
	return snap;
}

static bool digits_only(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void check_numbers(const struct policy_request *req)
{
	struct verdict v;

	assert(req->size >= 0 && req->recipient_count >= 0);
	assert(digits_only(req->value[POLICY_SIZE]) && digits_only(req->value[POLICY_RECIPIENT_COUNT]));
	if (req->value[POLICY_SIZE][0] == '\0')
		assert(req->size == 0);
	quota_decide(mailboxes(), "full@example.org", req->size, POLICYD_REJECT, &v);
	assert(v.kind == VERDICT_REJECT);
	quota_decide(mailboxes(), "room@example.org", req->size, POLICYD_REJECT, &v);
	assert((v.kind == VERDICT_REJECT) == (req->size == INT64_MAX));
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const struct policy_limits limits = { 512, 4096 };
	const char *buf = (const char *)data;

	while (size > 0) {
		struct policy_request req;
		ssize_t n = policy_request_parse(buf, size, &limits, &req);

		if (n <= 0)
			break;
		assert((size_t)n <= size && (size_t)n <= limits.max_request);
		assert(buf[n - 1] == '\n');
		for (int a = 0; a < POLICY_ATTR_COUNT; a++)
			assert(req.value[a] != NULL && strlen(req.value[a]) <= limits.max_line);
		check_numbers(&req);
		policy_request_clear(&req);
		buf += n;
		size -= (size_t)n;
	}
	return 0;
}
