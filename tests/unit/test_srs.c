/*
 * test_srs.c - the SRS scheme: encoding, decoding, hashing, separators,
 * case, expiry and malformed input. Expected addresses were produced by
 * Mail::SRS (an independent implementation) with the same secret and time.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "srs/srs.h"
#include "unit.h"

#define T 1577836860	/* 2020-01-01, day stamp 2W */
#define DAY 86400

static const char *const secrets[] = { "tops3cr3t", "old-secret" };

static struct srs make_srs(unsigned hash_length, char separator)
{
	return (struct srs){ secrets, 2, hash_length, 4, separator, false, 21 };
}

static const struct {
	const char *sender;
	int64_t now;
	unsigned hash_length;
	char separator;
	int want;
	const char *result;
	const char *why;
} forward_cases[] = {
	{ "test@otherdomain.com", T, 4, '=', SRS_OK,
	  "SRS0=vmyz=2W=otherdomain.com=test@example.com", "the vector of the issue" },
	{ "User.Name@Sub.Example.ORG", T, 4, '=', SRS_OK,
	  "SRS0=6G2X=2W=Sub.Example.ORG=User.Name@example.com", "case kept, hashed lowercase" },
	{ "test@otherdomain.com", T, 4, '+', SRS_OK,
	  "SRS0+vmyz=2W=otherdomain.com=test@example.com", "separator +" },
	{ "test@otherdomain.com", T, 4, '-', SRS_OK,
	  "SRS0-vmyz=2W=otherdomain.com=test@example.com", "separator -" },
	{ "user7@otherdomain.com", T, 4, '=', SRS_OK,
	  "SRS0=5w-l=2W=otherdomain.com=user7@example.com", "base64url: '-' where Mail::SRS has '+'" },
	{ "user14@otherdomain.com", T, 4, '=', SRS_OK,
	  "SRS0=_WnE=2W=otherdomain.com=user14@example.com", "base64url: '_' where Mail::SRS has '/'" },
	{ "test@otherdomain.com", T, 26, '=', SRS_OK,
	  "SRS0=vmyz7BwaV7BFsJiaZTJeJaQF2Y=2W=otherdomain.com=test@example.com", "longest hash" },
	{ "alice@sender.example", 1700000000, 4, '=', SRS_OK,
	  "SRS0=oxVX=G3=sender.example=alice@example.com", "another day" },
	{ "SRS0=vmyz=2W=otherdomain.com=test@fwd.example", T, 4, '=', SRS_OK,
	  "SRS1=bPN0=fwd.example==vmyz=2W=otherdomain.com=test@example.com", "SRS0 becomes SRS1" },
	{ "SRS1=JO9m=example.com==vmyz=2W=otherdomain.com=test@fwd2.example", T, 4, '=', SRS_OK,
	  "SRS1=JO9m=example.com==vmyz=2W=otherdomain.com=test@example.com", "SRS1 stays SRS1" },
	{ "SRS0+vmyz=2W=otherdomain.com=test@fwd.example", T, 4, '=', SRS_OK, NULL,
	  "SRS0 with another separator becomes SRS1" },
	{ "test@EXAMPLE.com", T, 4, '=', SRS_NOT_REWRITTEN, "", "already in the SRS domain" },
	{ "test", T, 4, '=', SRS_E_NO_DOMAIN, "", "no domain" },
	{ "test@", T, 4, '=', SRS_E_NO_DOMAIN, "", "empty domain" },
	{ "@otherdomain.com", T, 4, '=', SRS_E_NO_DOMAIN, "", "empty local part" },
	{ "SRS0=@otherdomain.com", T, 4, '=', SRS_OK, NULL, "an SRS look-alike is an ordinary address" },
};

static void test_forward(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(forward_cases); i++) {
		struct srs srs = make_srs(forward_cases[i].hash_length, forward_cases[i].separator);
		char out[SRS_ADDRESS_MAX];
		int got = srs_forward(&srs, forward_cases[i].sender, "example.com", forward_cases[i].now,
				      out, sizeof(out));

		if (got != forward_cases[i].want)
			fail_msg("case %zu (%s): got %s", i, forward_cases[i].why, srs_result_text(got));
		if (forward_cases[i].result != NULL && strcmp(out, forward_cases[i].result) != 0)
			fail_msg("case %zu (%s):\n got: %s\nwant: %s", i, forward_cases[i].why, out,
				 forward_cases[i].result);
	}
}

static const struct {
	const char *address;
	int64_t now;
	int want;
	const char *result;
	const char *why;
} reverse_cases[] = {
	{ "SRS0=vmyz=2W=otherdomain.com=test@example.com", T + 5 * DAY, SRS_OK,
	  "test@otherdomain.com", "plain" },
	{ "SRS0=VMYZ=2W=otherdomain.com=test@example.com", T, SRS_OK,
	  "test@otherdomain.com", "hash in another case" },
	{ "srs0=vmyz=2w=otherdomain.com=test@EXAMPLE.COM", T, SRS_OK,
	  "test@otherdomain.com", "tag and stamp in lowercase" },
	{ "SRS0+vmyz=2W=otherdomain.com=test@example.com", T, SRS_OK,
	  "test@otherdomain.com", "separator +" },
	{ "SRS0=5w+l=2W=otherdomain.com=user7@example.com", T, SRS_OK,
	  "user7@otherdomain.com", "'+' alphabet (postsrsd 1.x, Mail::SRS)" },
	{ "SRS0=5w-l=2W=otherdomain.com=user7@example.com", T, SRS_OK,
	  "user7@otherdomain.com", "'-' alphabet" },
	{ "SRS0=/WnE=2W=otherdomain.com=user14@example.com", T, SRS_OK,
	  "user14@otherdomain.com", "'/' alphabet" },
	{ "SRS0=qriH=2W=otherdomain.com=test@example.com", T, SRS_OK,
	  "test@otherdomain.com", "signed with the second secret" },
	{ "SRS0=vmyz7BwaV7=2W=otherdomain.com=test@example.com", T, SRS_OK,
	  "test@otherdomain.com", "longer hash: the first hash_length characters count" },
	{ "SRS0=vmy=2W=otherdomain.com=test@example.com", T, SRS_E_HASH_SHORT, "", "hash too short" },
	{ "SRS0=vmyq=2W=otherdomain.com=test@example.com", T, SRS_E_HASH, "", "wrong hash" },
	{ "SRS0=vmyz=2W=otherdomain.com=tesT@example.com", T, SRS_OK,
	  "tesT@otherdomain.com", "the hash covers the lowercased address" },
	{ "SRS0=vmyz=2W=otherdomain.org=test@example.com", T, SRS_E_HASH, "", "tampered domain" },
	{ "SRS0=vmyz=2W=otherdomain.com=test@example.com", T + 21 * DAY, SRS_OK,
	  "test@otherdomain.com", "21 days old: still valid" },
	{ "SRS0=vmyz=2W=otherdomain.com=test@example.com", T + 22 * DAY, SRS_E_EXPIRED, "",
	  "22 days old" },
	{ "SRS0=vmyz=2W=otherdomain.com=test@example.com", T - DAY, SRS_E_EXPIRED, "",
	  "from the future: a whole cycle old" },
	{ "SRS0=vmyz=2!=otherdomain.com=test@example.com", T, SRS_E_TIMESTAMP, "", "bad stamp char" },
	{ "SRS0=vmyz=2WX=otherdomain.com=test@example.com", T, SRS_E_TIMESTAMP, "", "stamp too long" },
	{ "SRS1=bPN0=fwd.example==vmyz=2W=otherdomain.com=test@example.com", T, SRS_OK,
	  "SRS0=vmyz=2W=otherdomain.com=test@fwd.example", "SRS1 back to SRS0" },
	{ "SRS1=bPN1=fwd.example==vmyz=2W=otherdomain.com=test@example.com", T, SRS_E_HASH, "",
	  "SRS1 with a wrong hash" },
	{ "SRS0=vmyz=2W=otherdomain.com@example.com", T, SRS_E_SYNTAX, "", "SRS0 without user" },
	{ "SRS0=vmyz=2W==test@example.com", T, SRS_E_SYNTAX, "", "SRS0 with an empty host" },
	{ "SRS0=@example.com", T, SRS_E_SYNTAX, "", "SRS0 with nothing" },
	{ "SRS1=abcd=host@example.com", T, SRS_E_SYNTAX, "", "SRS1 without the SRS0 part" },
	{ "SRS1=abcd=host=x@example.com", T, SRS_E_SYNTAX, "", "SRS1 part without separator" },
	{ "test@example.com", T, SRS_NOT_SRS, "", "not SRS" },
	{ "SRS2=vmyz=2W=x=y@example.com", T, SRS_NOT_SRS, "", "SRS2 is not a tag" },
	{ "SRS0xvmyz=2W=x=y@example.com", T, SRS_NOT_SRS, "", "no separator after the tag" },
	{ "SRS", T, SRS_NOT_SRS, "", "too short" },
};

static void test_reverse(void **state)
{
	struct srs srs = make_srs(4, '=');

	for (size_t i = 0; i < N_ELEMENTS(reverse_cases); i++) {
		char out[SRS_ADDRESS_MAX];
		int got = srs_reverse(&srs, reverse_cases[i].address, reverse_cases[i].now, out,
				      sizeof(out));

		if (got != reverse_cases[i].want)
			fail_msg("case %zu (%s): got %s", i, reverse_cases[i].why, srs_result_text(got));
		if (strcmp(out, reverse_cases[i].result) != 0)
			fail_msg("case %zu (%s): got %s", i, reverse_cases[i].why, out);
	}
}

static void test_round_trips(void **state)
{
	static const char *const senders[] = {
		"a=b@x.example", "a+tag@x.example", "\"quoted@at\"@x.example", "x@[192.0.2.1]",
		"SRS0=not=really@x.example",
	};
	struct srs srs = make_srs(8, '+');

	for (size_t i = 0; i < N_ELEMENTS(senders); i++) {
		char fwd[SRS_ADDRESS_MAX], back[SRS_ADDRESS_MAX];
		assert_int_equal(srs_forward(&srs, senders[i], "srs.example", T, fwd, sizeof(fwd)), SRS_OK);
		assert_int_equal(srs_reverse(&srs, fwd, T + DAY, back, sizeof(back)), SRS_OK);
		assert_string_equal(back, senders[i]);
	}
}

static void test_classic_alphabet(void **state)
{
	struct srs srs = make_srs(4, '=');
	char out[SRS_ADDRESS_MAX];

	srs.classic_base64 = true;	/* exactly what Mail::SRS writes */
	assert_int_equal(srs_forward(&srs, "user7@otherdomain.com", "example.com", T, out, sizeof(out)), 0);
	assert_string_equal(out, "SRS0=5w+l=2W=otherdomain.com=user7@example.com");
	assert_int_equal(srs_forward(&srs, "user14@otherdomain.com", "example.com", T, out, sizeof(out)), 0);
	assert_string_equal(out, "SRS0=/WnE=2W=otherdomain.com=user14@example.com");
}

static void test_output_too_small(void **state)
{
	struct srs srs = make_srs(4, '=');
	char out[20];

	assert_int_equal(srs_forward(&srs, "test@otherdomain.com", "example.com", T, out, sizeof(out)),
			 SRS_E_TOO_LONG);
	assert_string_equal(out, "");
	assert_int_equal(srs_reverse(&srs, "SRS0=vmyz=2W=otherdomain.com=test@example.com", T, out, 10),
			 SRS_E_TOO_LONG);
	assert_string_equal(out, "");
}

static void test_timestamps(void **state)
{
	char stamp[3];

	srs_timestamp(T, stamp);
	assert_string_equal(stamp, "2W");
	srs_timestamp(0, stamp);
	assert_string_equal(stamp, "AA");
	srs_timestamp(1023LL * DAY, stamp);
	assert_string_equal(stamp, "77");
	/* across the 1024-day wrap: stamped on day 1023, checked on day 1024 */
	assert_int_equal(srs_timestamp_check("77", 2, 1024LL * DAY, 21), SRS_OK);
	assert_int_equal(srs_timestamp_check("77", 2, (1023LL + 22) * DAY, 21), SRS_E_EXPIRED);
	assert_int_equal(srs_timestamp_check("aa", 2, 5 * DAY, 21), SRS_OK);
	assert_int_equal(srs_timestamp_check("A1", 2, T, 21), SRS_E_TIMESTAMP);
	assert_int_equal(srs_timestamp_check("A", 1, T, 21), SRS_E_TIMESTAMP);
}

static void test_hash_equivalence(void **state)
{
	assert_true(srs_hash_equivalent("5w+l", "5W-L", 4));
	assert_true(srs_hash_equivalent("/WnE", "_wne", 4));
	assert_false(srs_hash_equivalent("abcd", "abce", 4));
	assert_false(srs_hash_equivalent("ab.d", "ab.d", 4));	/* not base64 at all */
	assert_true(srs_is_srs_address("srs1-x"));
	assert_false(srs_is_srs_address("SRS0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_classic_alphabet),
		cmocka_unit_test(test_output_too_small),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_hash_equivalence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
