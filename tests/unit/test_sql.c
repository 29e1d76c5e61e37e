/*
 * test_sql.c - the migration script splitter, migration file names, and
 * how the database's error numbers are sorted (db.c).
 */
#include "autoconfig.h"

#include "common/db.h"
#include "common/migrate.h"
#include "common/sql_split.h"
#include "unit.h"

static void expect_statements(const char *script, const char *const *want, const unsigned *lines,
			      size_t n)
{
	size_t pos = 0, i = 0;
	unsigned line = 1;
	struct sql_statement st;
	int r;

	while ((r = sql_next_statement(script, strlen(script), &pos, &line, &st)) == 1) {
		if (i >= n)
			fail_msg("extra statement: %.*s", (int)st.len, st.text);
		if (st.len != strlen(want[i]) || memcmp(st.text, want[i], st.len) != 0)
			fail_msg("statement %zu: got [%.*s], want [%s]", i, (int)st.len, st.text, want[i]);
		assert_int_equal(st.line, lines[i]);
		i++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(i, n);
}

static void test_split(void **state)
{
	const char *want1[] = { "CREATE TABLE a (x INT)", "INSERT INTO a VALUES (1)" };
	const unsigned lines1[] = { 2, 4 };
	expect_statements("-- header; not a statement\nCREATE TABLE a (x INT);\n\n"
			  "INSERT INTO a VALUES (1);\n-- trailer\n", want1, lines1, 2);

	const char *want2[] = { "SELECT ';', \"a;b\", `c;d`", "SELECT 'it''s; \\' ok'" };
	const unsigned lines2[] = { 1, 1 };
	expect_statements("SELECT ';', \"a;b\", `c;d`; SELECT 'it''s; \\' ok';", want2, lines2, 2);

	const char *want3[] = { "SELECT 1 /* x; y */ + 2", "SELECT 3" };
	const unsigned lines3[] = { 1, 3 };
	expect_statements("SELECT 1 /* x; y */ + 2;\n# hash comment;\nSELECT 3", want3, lines3, 2);

	const char *want4[] = { "SELECT 'a\nb'", "SELECT 2" };
	const unsigned lines4[] = { 1, 3 };
	expect_statements(";;SELECT 'a\nb';\n SELECT 2 ; ;", want4, lines4, 2);

	expect_statements("  \n-- nothing\n", NULL, NULL, 0);
}

static void test_split_unterminated(void **state)
{
	static const char *bad[] = { "SELECT 'open", "/* never closed", "SELECT 1 /* never" };

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		size_t pos = 0;
		unsigned line = 1;
		struct sql_statement st;
		assert_int_equal(sql_next_statement(bad[i], strlen(bad[i]), &pos, &line, &st), -1);
	}
}

static void test_filenames(void **state)
{
	unsigned v;
	char name[64];

	assert_int_equal(migration_parse_filename("0001_initial.sql", &v, name, sizeof(name)), 0);
	assert_int_equal(v, 1);
	assert_string_equal(name, "initial");
	assert_int_equal(migration_parse_filename("0042_dmarc_reports.sql", &v, name, sizeof(name)), 0);
	assert_int_equal(v, 42);
	assert_int_equal(migration_parse_filename("0000_zero.sql", &v, name, sizeof(name)), -1);
	assert_int_equal(migration_parse_filename("1_short.sql", &v, name, sizeof(name)), -1);
	assert_int_equal(migration_parse_filename("0001_Upper.sql", &v, name, sizeof(name)), -1);
	assert_int_equal(migration_parse_filename("0001_initial.sql~", &v, name, sizeof(name)), -1);
	assert_int_equal(migration_parse_filename("0001_.sql", &v, name, sizeof(name)), -1);
	assert_int_equal(migration_parse_filename("000a_x.sql", &v, name, sizeof(name)), -1);
}

/* What a caller does after each error: reconnect, run the transaction
 * again, or give the statement up. */
static void test_error_classes(void **state)
{
	static const struct {
		unsigned code;
		enum db_error_class want;
		const char *reason;
	} cases[] = {
		{ 0, DB_CLASS_NONE, "other" },
		{ 2006, DB_CLASS_CONNECTION, "connection" },	/* server gone */
		{ 2013, DB_CLASS_CONNECTION, "connection" },	/* lost during a query */
		{ 1927, DB_CLASS_CONNECTION, "connection" },	/* killed */
		{ 1213, DB_CLASS_RETRY, "deadlock" },		/* also Galera certification */
		{ 1205, DB_CLASS_RETRY, "lock_wait_timeout" },
		{ 1020, DB_CLASS_RETRY, "transient" },		/* record changed */
		{ 1290, DB_CLASS_RETRY, "transient" },		/* --read-only */
		{ 1047, DB_CLASS_RETRY, "transient" },		/* Galera node not ready */
		{ 1062, DB_CLASS_PERMANENT, "refused" },	/* duplicate */
		{ 4025, DB_CLASS_PERMANENT, "refused" },	/* CHECK constraint */
		{ 1146, DB_CLASS_PERMANENT, "refused" },	/* no such table */
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		assert_int_equal(db_error_class(cases[i].code), cases[i].want);
		assert_string_equal(db_error_reason(cases[i].code), cases[i].reason);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_unterminated),
		cmocka_unit_test(test_filenames),
		cmocka_unit_test(test_error_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
