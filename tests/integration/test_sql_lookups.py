"""The lookup files in sql/postfix and sql/dovecot, used as shipped: Postfix
(postmap -q with postfix-mysql) and Dovecot's queries answer right for data
that mailadm put in the tables."""

import os
import re
import subprocess
import unittest

import harness

DOMAIN = "lookups.example"


def dovecot_query(stack, name):
    """A query from the shipped dovecot-sql.conf.ext, joined as Dovecot
    reads it (backslash continuations)."""
    text = open(os.path.join(stack.srcdir, "sql", "dovecot", "dovecot-sql.conf.ext")).read()
    text = text.replace("\\\n", " ")
    return re.search(r"(?m)^%s = (.*)$" % name, text).group(1)


class SqlLookupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        conf = stack.fresh_database()
        mailadm = [os.path.join(stack.builddir, "mailadm", "mailadm"), "-c", conf]
        for args, stdin in (
                (["domain", "add", DOMAIN], None),
                (["domain", "add", "off.example", "--inactive"], None),
                (["account", "add", "bob@" + DOMAIN, "--quota", "250", "--password-stdin"],
                 "bob's good password\n"),
                (["account", "add", "gone@" + DOMAIN, "--inactive", "--no-password"], None),
                (["account", "add", "x@off.example", "--no-password"], None),
                (["alias", "add", "info@" + DOMAIN, "bob@" + DOMAIN], None),
                (["alias", "add", "info@" + DOMAIN, "partner@elsewhere.example"], None),
                (["alias", "add", "@" + DOMAIN, "bob@" + DOMAIN], None),
                (["redirect", "add", "fwd@" + DOMAIN, "far@elsewhere.example"], None),
                (["account", "add", "both@" + DOMAIN, "--no-password"], None),
                (["redirect", "add", "both@" + DOMAIN, "copy@elsewhere.example", "--keep-copy"], None)):
            r = subprocess.run(mailadm + args, input=stdin, capture_output=True, text=True)
            assert r.returncode == 0, r.stderr

    def postmap(self, template, key):
        return self.stack.postmap_query(template, key)

    def test_virtual_domains(self):
        self.assertEqual(self.postmap("virtual_domains.cf", DOMAIN), [DOMAIN])
        self.assertIsNone(self.postmap("virtual_domains.cf", "off.example"))
        self.assertIsNone(self.postmap("virtual_domains.cf", "other.example"))

    def test_virtual_mailboxes(self):
        self.assertEqual(self.postmap("virtual_mailboxes.cf", "bob@" + DOMAIN), [DOMAIN + "/bob/"])
        self.assertIsNone(self.postmap("virtual_mailboxes.cf", "gone@" + DOMAIN))   # inactive
        self.assertIsNone(self.postmap("virtual_mailboxes.cf", "x@off.example"))    # domain off
        self.assertIsNone(self.postmap("virtual_mailboxes.cf", "info@" + DOMAIN))

    def test_virtual_aliases(self):
        self.assertEqual(self.postmap("virtual_aliases.cf", "info@" + DOMAIN),
                         ["bob@" + DOMAIN, "partner@elsewhere.example"])
        self.assertEqual(self.postmap("virtual_aliases.cf", "fwd@" + DOMAIN), ["far@elsewhere.example"])
        self.assertEqual(self.postmap("virtual_aliases.cf", "both@" + DOMAIN),
                         ["both@" + DOMAIN, "copy@elsewhere.example"])      # keep a copy
        self.assertEqual(self.postmap("virtual_aliases.cf", "@" + DOMAIN), ["bob@" + DOMAIN])
        self.assertIsNone(self.postmap("virtual_aliases.cf", "bob@" + DOMAIN))

    def test_sender_login(self):
        self.assertEqual(self.postmap("sender_login.cf", "bob@" + DOMAIN), ["bob@" + DOMAIN])
        self.assertEqual(self.postmap("sender_login.cf", "info@" + DOMAIN), ["bob@" + DOMAIN])
        self.assertIsNone(self.postmap("sender_login.cf", "stranger@" + DOMAIN))

    def run_dovecot_query(self, name, user):
        sql = dovecot_query(self.stack, name).replace("%u", user)
        return self.stack.mysql_root(sql, self.stack.db_name).strip()

    def test_dovecot_passdb_and_userdb(self):
        row = self.run_dovecot_query("password_query", "bob@" + DOMAIN).split("\t")
        self.assertEqual(row[0], "bob@" + DOMAIN)
        r = subprocess.run(["doveadm", "pw", "-t", row[1], "-p", "bob's good password"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.run_dovecot_query("password_query", "gone@" + DOMAIN), "")
        row = self.run_dovecot_query("user_query", "bob@" + DOMAIN).split("\t")
        self.assertEqual(row, ["/var/vmail/%s/bob/" % DOMAIN, "vmail", "vmail", "*:storage=250M"])
        users = self.run_dovecot_query("iterate_query", "").split("\n")
        self.assertIn("bob@" + DOMAIN, users)
        self.assertNotIn("gone@" + DOMAIN, users)
