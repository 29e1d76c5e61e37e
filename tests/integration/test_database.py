"""Migrations apply to an empty MariaDB and re-running changes nothing;
the schema refuses rows that break its rules; the client reconnects."""

import os
import unittest

import harness


def schema_snapshot(stack):
    tables = stack.mysql_root("SHOW TABLES", stack.db_name).split()
    parts = [stack.mysql_root("SHOW CREATE TABLE `%s`" % t, stack.db_name) for t in sorted(tables)]
    parts.append(stack.mysql_root("SELECT version, name, checksum, applied_at FROM schema_version",
                                  stack.db_name))
    return "\n".join(parts)


class MigrationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = harness.stack()
        if "mariadb" not in cls.stack.services:
            cls.stack.start_mariadb()
        cls.migrations = os.path.join(cls.stack.srcdir, "sql", "migrations")

    def setUp(self):
        self.stack.reset_database()
        self.conf = self.stack.config()

    def test_apply_then_nothing_changes(self):
        r = harness.probe(self.conf, "migrate", self.migrations)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        count = len([f for f in os.listdir(self.migrations) if f.endswith(".sql")])
        self.assertEqual(r.stdout.strip(), "applied=%d version=%d" % (count, count))
        before = schema_snapshot(self.stack)
        self.assertIn("CREATE TABLE `accounts`", before)
        r = harness.probe(self.conf, "migrate", self.migrations)
        self.assertEqual(r.stdout.strip(), "applied=0 version=%d" % count)
        self.assertEqual(schema_snapshot(self.stack), before)

    def test_newer_database_refused(self):
        harness.probe(self.conf, "migrate", self.migrations)
        self.stack.mysql_root("INSERT INTO schema_version (version, name, checksum) "
                              "VALUES (9999, 'future', REPEAT('0', 64))", self.stack.db_name)
        r = harness.probe(self.conf, "migrate", self.migrations)
        self.assertEqual(r.returncode, 1)
        self.assertIn("schema is at version 9999, newer than this program knows", r.stdout)

    def test_broken_migration_names_file_and_line(self):
        d = os.path.join(self.stack.dir, "bad-migrations")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "0001_broken.sql"), "w") as f:
            f.write("-- fine\nCREATE TABLE t (x INT);\n\nCREATE TABLE t (x INT);\n")
        r = harness.probe(self.conf, "migrate", d)
        self.assertEqual(r.returncode, 1)
        self.assertIn(os.path.join(d, "0001_broken.sql") + ":4: Table 't' already exists", r.stdout)


class ConstraintTest(unittest.TestCase):
    """Rows that break the schema's rules are refused by the server, seen
    through our prepared-statement client."""

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.stack()
        cls.conf = cls.stack.fresh_database()
        cls.sql("INSERT INTO domains (name) VALUES (?)", "example.org")

    @classmethod
    def sql(cls, statement, *params):
        return harness.probe(cls.conf, "sql", statement, *params)

    def refused(self, errno, statement, *params):
        r = self.sql(statement, *params)
        self.assertEqual(r.returncode, 1, "accepted: %s %s" % (statement, params))
        self.assertIn("result=refused errno=%d " % errno, r.stdout)
        return r.stdout

    def test_duplicate_domain(self):
        self.refused(1062, "INSERT INTO domains (name) VALUES (?)", "example.org")

    def test_domain_syntax(self):
        out = self.refused(4025, "INSERT INTO domains (name) VALUES (?)", "Exa mple.org")
        self.assertIn("domains_name_syntax", out)

    def test_negative_quota(self):
        out = self.refused(4025, "INSERT INTO accounts (local_part, domain, quota_mb) VALUES (?, ?, ?)",
                           "neg", "example.org", "int:-1")
        self.assertIn("accounts_quota_range", out)

    def test_account_in_missing_domain(self):
        out = self.refused(1452, "INSERT INTO accounts (local_part, domain) VALUES (?, ?)",
                           "bob", "missing.example")
        self.assertIn("accounts_domain_exists", out)

    def test_domain_with_accounts_cannot_be_deleted(self):
        self.sql("INSERT INTO domains (name) VALUES (?)", "keep.example")
        r = self.sql("INSERT INTO accounts (local_part, domain) VALUES (?, ?)", "ann", "keep.example")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.refused(1451, "DELETE FROM domains WHERE name = ?", "keep.example")

    def test_second_active_key_of_an_algorithm(self):
        insert = ("INSERT INTO dkim_keys (domain, selector, algorithm, bits, key_path, public_key, state) "
                  "VALUES (?, ?, 'rsa-sha256', 2048, '/k', 'QUJD', 'active')")
        self.assertEqual(self.sql(insert, "example.org", "one").returncode, 0)
        self.refused(1062, insert, "example.org", "two")

    def test_values_round_trip_literally(self):
        tricky = "it's \"quoted\"; -- not a comment \\ 100% _x_"
        r = self.sql("INSERT INTO domains (name, description) VALUES (?, ?)", "tricky.example", tricky)
        self.assertEqual(r.returncode, 0, r.stdout)
        r = self.sql("SELECT description FROM domains WHERE name = ?", "tricky.example")
        self.assertEqual(r.stdout.splitlines()[0], "row description=" + tricky)


class ReconnectTest(unittest.TestCase):
    def test_query_after_restart(self):
        stack = harness.stack()
        if "mariadb" not in stack.services:
            stack.start_mariadb()
        conf = stack.config()
        stack.stop_mariadb(kill=True)
        r = harness.probe(conf, "sql", "SELECT 1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("result=unavailable", r.stdout)
        stack.start_mariadb()
        r = harness.probe(conf, "sql", "SELECT 1 AS one")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("row one=1", r.stdout)
