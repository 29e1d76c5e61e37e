"""mailadm against a real MariaDB, Redis and nsd: every command, invalid
input refused with the table unchanged, metacharacters stored literally,
JSON that parses, passwords Dovecot verifies, DKIM keys that sign and
verify with independent tools, and a key rotation walked through."""

import grp
import json
import os
import socket
import stat
import subprocess
import tempfile
import time
import unittest

import dkimtools
import harness

DOMAIN = "mailadm.example"
TABLES = ["domains", "accounts", "aliases", "redirects", "spam_traps", "greylist", "reputations",
          "trusted_replies", "blocklists_cache", "dkim_keys", "change_counter"]
BLOCKLIST_ZONE = """
2.0.0.127     IN A   127.0.0.2
2.0.0.127     IN TXT "test listing"
66.2.0.192    IN A   127.0.0.4
66.2.0.192    IN TXT "listed: see https://bl.example/192.0.2.66"
77.2.0.192    IN A   127.0.0.99
88.2.0.192    IN A   127.0.0.2
88.2.0.192    IN TXT "listed \\194\\155" "31m in C1"
"""


class MailadmBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        if "redis" not in stack.services:
            stack.start_redis()
        stack.fresh_database()
        if "nsd" not in stack.services:
            stack.start_dns({DOMAIN: "@ IN MX 10 mx", "bl.example": BLOCKLIST_ZONE})
        else:
            stack.zones.update({DOMAIN: "@ IN MX 10 mx", "bl.example": BLOCKLIST_ZONE})
            stack.stop_dns(kill=False)
            stack.start_dns()
        cls.key_dir = stack.path("dkim-keys")
        cls.conf = cls.config()

    @classmethod
    def config(cls, **mailadm):
        section = {"dkim_key_dir": cls.key_dir, "dkim_key_group": "postfix", "mx_host": "mx." + DOMAIN,
                   "bcrypt_cost": 10}
        section.update(mailadm)
        return cls.stack.config({"mailadm": section, "dns": {"timeout": "1s"},
                                 "blocklists": {"zones": ["bl.example=127.0.0.[2..4]"]}})

    def mailadm(self, *args, stdin=None, conf=None):
        argv = [os.path.join(self.stack.builddir, "mailadm", "mailadm"), "-c", conf or self.conf]
        # a new session: no controlling terminal, as under cron or CI
        return subprocess.run(argv + [str(a) for a in args], input=stdin, capture_output=True,
                              text=True, timeout=60, start_new_session=True)

    def ok(self, *args, stdin=None):
        r = self.mailadm(*args, stdin=stdin)
        self.assertEqual(r.returncode, 0, "mailadm %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r.stdout

    def json(self, *args):
        return json.loads(self.ok("--json", *args))

    def sql(self, statement):
        return self.stack.mysql_root(statement, self.stack.db_name)

    def snapshot(self):
        return {t: self.sql("SELECT * FROM %s ORDER BY 1" % t) for t in TABLES}

    def refused(self, code, message, *args, stdin=None):
        """The command fails with code and message, and no table changes."""
        before = self.snapshot()
        r = self.mailadm(*args, stdin=stdin)
        self.assertEqual(r.returncode, code, "mailadm %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        self.assertIn(message, r.stderr)
        self.assertEqual(self.snapshot(), before, "mailadm %s changed a table" % " ".join(args))
        return r.stderr


class MailadmCommandTest(MailadmBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        subprocess.run([os.path.join(cls.stack.builddir, "mailadm", "mailadm"), "-c", cls.conf,
                        "domain", "add", DOMAIN], check=True, capture_output=True)

    def test_db_migrate_and_status(self):
        out = self.ok("db", "migrate", "--dir", os.path.join(self.stack.srcdir, "sql/migrations"))
        self.assertIn("0 migrations applied; the schema is at version 3", out)
        status = self.json("db", "status", "--dir", os.path.join(self.stack.srcdir, "sql/migrations"))
        self.assertEqual(status[0]["state"], "applied")

    def test_domains(self):
        self.assertIn("added domain lifecycle.example", self.ok("domain", "add", "Lifecycle.EXAMPLE",
                                                                "--description", "first"))
        self.assertIn("added domain xn--bcher-kva.example", self.ok("domain", "add", "bücher.example"))
        d = self.json("domain", "show", "lifecycle.example")
        self.assertEqual((d["name"], d["active"], d["description"]), ("lifecycle.example", True, "first"))
        self.ok("domain", "set", "lifecycle.example", "--active", "no", "--description", "second")
        d = self.json("domain", "show", "lifecycle.example")
        self.assertEqual((d["active"], d["description"]), (False, "second"))
        names = [x["name"] for x in self.json("domain", "list")]
        self.assertIn("xn--bcher-kva.example", names)
        self.refused(5, "already exists", "domain", "add", "lifecycle.example")
        self.refused(3, "no such domain", "domain", "show", "missing.example")
        self.ok("account", "add", "someone@lifecycle.example", "--no-password")
        self.refused(5, "still has 1 accounts (--force deletes them with it)", "domain", "del",
                     "lifecycle.example")
        self.ok("domain", "del", "lifecycle.example", "--force")
        self.assertEqual(self.sql("SELECT COUNT(*) FROM accounts WHERE domain = "
                                  "'lifecycle.example'").strip(), "0")
        self.ok("domain", "del", "bücher.example")

    def test_invalid_input_is_refused_and_nothing_changes(self):
        cases = [
            (2, '"exa mple.com": a domain label may not contain a space', "domain", "add", "exa mple.com"),
            (2, '"-bad.example": a domain label may not begin or end with a hyphen', "domain", "add",
             "-bad.example"),
            (2, '"localhost": the domain needs at least two labels', "domain", "add", "localhost"),
            (2, "longer than 255 characters", "domain", "add", "long.example", "--description", "x" * 256),
            (2, "control characters", "domain", "add", "ctl.example", "--description", "a\nb"),
            (2, "unknown option --colour", "domain", "list", "--colour"),
            (2, "missing arguments", "account", "add"),
            (2, '"a b@%s": the local part has a character that must be quoted' % DOMAIN, "account",
             "add", "a b@%s" % DOMAIN, "--no-password"),
            (2, "the local part is longer than 64 octets", "account", "add", "x" * 65 + "@" + DOMAIN,
             "--no-password"),
            (2, "--quota: -1 is out of range (0 to 16777216)", "account", "add", "q@" + DOMAIN,
             "--quota", "-1", "--no-password"),
            (2, '--quota: "lots" is not a whole number', "account", "add", "q@" + DOMAIN, "--quota",
             "lots", "--no-password"),
            (2, '--active: "maybe" is not yes or no', "domain", "set", DOMAIN, "--active", "maybe"),
            (3, '"nowhere.example" is not one of our domains', "account", "add", "x@nowhere.example",
             "--no-password"),
            (2, "at least 12 characters", "account", "add", "short@" + DOMAIN, "--password-stdin"),
            (2, "no password on standard input", "account", "add", "empty@" + DOMAIN,
             "--password-stdin"),
            (2, "no terminal to ask for the password", "account", "add", "tty@" + DOMAIN),
            (2, "a redirect goes outside", "redirect", "add", "r@" + DOMAIN, "x@" + DOMAIN),
            (2, '"192.0.2.1/24": the address has bits set beyond the prefix length', "greylist", "add",
             "client-network", "192.0.2.1/24"),
            (2, "the kind is client-network, sender-domain or recipient", "greylist", "add", "ip", "x"),
            (2, "the decision is allow, block or none", "reputation", "set", "ip", "192.0.2.1", "maybe"),
            (2, "is not a duration", "reputation", "set", "ip", "192.0.2.1", "block", "--expires", "soon"),
            (2, "--algo: \"dsa\": rsa or ed25519", "dkim", "keygen", DOMAIN, "--algo", "dsa"),
            (2, "--bits applies to RSA keys only", "dkim", "keygen", DOMAIN, "--algo", "ed25519",
             "--bits", "2048"),
            (2, "--bits: 512 is out of range (1024 to 4096)", "dkim", "keygen", DOMAIN, "--bits", "512"),
            (3, "no such account", "account", "passwd", "ghost@" + DOMAIN, "--generate"),
            # numbers are digits and nothing else (strtoll took " 5", "+5" and "5\n")
            (2, '--quota: " 5" is not a whole number', "account", "add", "q@" + DOMAIN, "--quota",
             " 5", "--no-password"),
            (2, '--quota: "5 " is not a whole number', "account", "add", "q@" + DOMAIN, "--quota",
             "5 ", "--no-password"),
            (2, '--quota: "+5" is not a whole number', "account", "add", "q@" + DOMAIN, "--quota",
             "+5", "--no-password"),
            (2, '--quota: "5\n" is not a whole number', "account", "add", "q@" + DOMAIN, "--quota",
             "5\n", "--no-password"),
            (2, '--quota: "0x10" is not a whole number', "account", "add", "q@" + DOMAIN, "--quota",
             "0x10", "--no-password"),
            (2, '--quota: "" is not a whole number', "account", "add", "q@" + DOMAIN, "--quota", "",
             "--no-password"),
            (2, "--quota: 99999999999999999999 is out of range (0 to 16777216)", "account", "add",
             "q@" + DOMAIN, "--quota", "99999999999999999999", "--no-password"),
            (2, '--send-limit-messages: " 1" is not a whole number', "account", "add", "q@" + DOMAIN,
             "--send-limit-messages", " 1", "--no-password"),
            (2, '--bits: "2048 " is not a whole number', "dkim", "keygen", DOMAIN, "--bits", "2048 "),
            (2, "is not a duration", "reputation", "set", "ip", "192.0.2.1", "block", "--expires",
             "5 "),
            (2, "is not a duration", "reputation", "set", "ip", "192.0.2.1", "block", "--expires",
             " 5m"),
        ]
        for code, message, *args in cases:
            stdin = "short\n" if "short@" in " ".join(args) else ""
            with self.subTest(args=args):
                self.refused(code, message, *args, stdin=stdin)

    def test_metacharacters_are_stored_and_shown_literally(self):
        nasty = ["it's", 'say "hi"', "a; DROP TABLE accounts; --", "back\\slash", "100% _done_",
                 "$(reboot) `id` &&", "Zoë 日本語 ñ"]
        for i, text in enumerate(nasty):
            address = "meta%d@%s" % (i, DOMAIN)
            self.ok("account", "add", address, "--name", text, "--no-password")
            self.assertEqual(self.json("account", "show", address)["name"], text)
            self.assertIn(text, self.ok("account", "show", address))
            self.ok("trap", "add", "trap%d@%s" % (i, DOMAIN), "--comment", text)
            self.assertEqual(self.json("trap", "show", "trap%d@%s" % (i, DOMAIN))["comment"], text)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM accounts").strip() != "0", True)

    def test_every_listing_parses_as_json(self):
        for args in (["domain", "list"], ["domain", "show", DOMAIN], ["account", "list"],
                     ["alias", "list"], ["redirect", "list"], ["trap", "list"], ["greylist", "list"],
                     ["reputation", "list"], ["blocklist", "list"], ["trusted-reply", "list"],
                     ["dkim", "list"], ["db", "status", "--dir",
                                        os.path.join(self.stack.srcdir, "sql/migrations")],
                     ["dns", DOMAIN]):
            with self.subTest(args=args):
                self.assertIsInstance(self.json(*args), (list, dict))

    def test_accounts(self):
        a = "Carol@" + DOMAIN
        self.ok("account", "add", a, "--quota", "500", "--name", "Carol", "--password-stdin",
                "--send-limit-messages", "50", stdin="long enough password\n")
        info = self.json("account", "show", "carol@" + DOMAIN)
        self.assertEqual((info["address"], info["quota_mb"], info["send_limit_messages"],
                          info["send_limit_recipients"], info["password_scheme"]),
                         ("carol@" + DOMAIN, 500, 50, None, "BLF-CRYPT"))
        self.ok("account", "set", "carol@" + DOMAIN, "--quota", "0", "--send-limit-messages", "default",
                "--active", "no")
        info = self.json("account", "show", "carol@" + DOMAIN)
        self.assertEqual((info["quota_mb"], info["send_limit_messages"], info["active"]), (0, None, False))
        self.sql("UPDATE accounts SET sending_held_at = UTC_TIMESTAMP(), sending_hold_reason = 'burst' "
                 "WHERE email = 'carol@%s'" % DOMAIN)
        self.assertTrue(self.json("account", "list", "--domain", DOMAIN)[0] is not None)
        self.ok("account", "set", "carol@" + DOMAIN, "--release-hold")
        self.assertIsNone(self.json("account", "show", "carol@" + DOMAIN)["sending_held_at"])
        self.ok("alias", "add", "c-alias@" + DOMAIN, "carol@" + DOMAIN)
        self.refused(5, "1 aliases deliver to", "account", "del", "carol@" + DOMAIN)
        self.ok("account", "del", "carol@" + DOMAIN, "--force")
        self.assertEqual(self.json("alias", "list", "c-alias@" + DOMAIN), [])
        self.refused(3, "no such account", "account", "show", "carol@" + DOMAIN)

    def test_aliases_and_redirects(self):
        self.ok("account", "add", "dave@" + DOMAIN, "--no-password")
        self.ok("alias", "add", "sales@" + DOMAIN, "dave@" + DOMAIN)
        self.ok("alias", "add", "sales@" + DOMAIN, "Partner@Elsewhere.EXAMPLE")
        self.ok("alias", "add", "team@" + DOMAIN, "sales@" + DOMAIN)
        self.refused(2, "would make an alias loop", "alias", "add", "sales@" + DOMAIN, "team@" + DOMAIN)
        self.refused(2, "would make an alias loop", "alias", "add", "self@" + DOMAIN, "self@" + DOMAIN)
        self.refused(5, "is an account", "alias", "add", "dave@" + DOMAIN, "dave@home.example")
        self.ok("alias", "add", "@" + DOMAIN, "dave@" + DOMAIN)     # catch-all
        got = {(x["source"], x["destination"]) for x in self.json("alias", "list", "--domain", DOMAIN)}
        self.assertIn(("sales@" + DOMAIN, "Partner@elsewhere.example"), got)
        self.assertIn(("@" + DOMAIN, "dave@" + DOMAIN), got)
        self.ok("alias", "set", "sales@" + DOMAIN, "dave@" + DOMAIN, "--active", "no")
        self.refused(3, "no such alias", "alias", "set", "sales@" + DOMAIN, "nobody@" + DOMAIN,
                     "--active", "no")
        self.assertIn("deleted 2 alias entries", self.ok("alias", "del", "sales@" + DOMAIN))
        self.ok("redirect", "add", "dave@" + DOMAIN, "dave@home.example", "--keep-copy")
        r = self.json("redirect", "list", "dave@" + DOMAIN)
        self.assertEqual((r[0]["destination"], r[0]["keep_copy"]), ("dave@home.example", True))
        self.ok("redirect", "set", "dave@" + DOMAIN, "dave@home.example", "--keep-copy", "no")
        self.assertFalse(self.json("redirect", "list", "dave@" + DOMAIN)[0]["keep_copy"])
        self.ok("redirect", "del", "dave@" + DOMAIN)
        self.refused(3, "no such redirect", "redirect", "del", "dave@" + DOMAIN)

    def test_alias_loops_through_case_and_catch_alls(self):
        # what Postfix looks up is the address folded to lowercase
        self.ok("alias", "add", "ca@" + DOMAIN, "cb@" + DOMAIN)
        self.refused(2, "cb@%s -> CA@%s would make an alias loop: ca@%s -> cb@%s -> ca@%s"
                     % ((DOMAIN,) * 5),
                     "alias", "add", "cb@" + DOMAIN, "CA@" + DOMAIN.upper())
        self.refused(2, "would make an alias loop", "alias", "add", "cb@" + DOMAIN,
                     '"Ca"@' + DOMAIN)
        # an address without entries of its own goes to its domain's catch-all
        for d in ("d3." + DOMAIN, "d4." + DOMAIN):
            self.ok("domain", "add", d)
        self.ok("alias", "add", "@d3." + DOMAIN, "x@d4." + DOMAIN)
        self.refused(2, "x@d3.{0} -> @d3.{0} -> x@d4.{0} -> @d4.{0} -> x@d3.{0}".format(DOMAIN),
                     "alias", "add", "@d4." + DOMAIN, "X@D3." + DOMAIN)
        self.refused(2, "would make an alias loop", "alias", "add", "x@d4." + DOMAIN,
                     "y@d3." + DOMAIN)
        # ... unless it has entries of its own, or resolves to itself
        self.ok("alias", "add", "@d4." + DOMAIN, "keep@d4." + DOMAIN)
        self.ok("alias", "add", "x@d4." + DOMAIN, "ca@" + DOMAIN)
        # an entry switched on again is checked as a new one
        self.ok("alias", "add", "cc@" + DOMAIN, "ca@" + DOMAIN)
        self.ok("alias", "set", "ca@" + DOMAIN, "cb@" + DOMAIN, "--active", "no")
        self.ok("alias", "add", "cb@" + DOMAIN, "cc@" + DOMAIN)
        self.refused(2, "would make an alias loop", "alias", "set", "ca@" + DOMAIN,
                     "cb@" + DOMAIN, "--active", "yes")
        for source in ("ca@", "cb@", "cc@", "x@d4.", "@d3.", "@d4."):
            self.ok("alias", "del", source + DOMAIN)
        for d in ("d3." + DOMAIN, "d4." + DOMAIN):
            self.ok("domain", "del", d)

    def test_stray_arguments_are_never_echoed(self):
        secret = "Hunter2-S3cret"
        for args, message in (
                (("account", "passwd", "alice@" + DOMAIN, secret), "unexpected argument 2"),
                (("account", "add", "alice@" + DOMAIN, "--no-password", secret),
                 "unexpected argument 2"),
                (("account", "add", "alice@" + DOMAIN, "--password=" + secret),
                 "unknown option --password\n"),
                (("account", "add", "alice@" + DOMAIN, "--" + secret), "unknown option (not shown"),
                (("alias", "add", "a@" + DOMAIN, "b@" + DOMAIN, "--force=" + secret),
                 "no value allowed after --force\n"),
                ((secret,), "unknown command (not shown"),
                (("account", "passwd", secret), "an address needs @domain (the argument is not shown"),
                (("alias", "add", "a@" + DOMAIN, secret), "an address needs @domain"),
                ((secret.lower(), "add"), "unknown command (not shown")):
            with self.subTest(args=args):
                r = self.mailadm(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(message, r.stderr)
                self.assertNotIn(secret.lower(), (r.stdout + r.stderr).lower())

    def test_traps_greylist_trusted_replies(self):
        self.ok("account", "add", "erin@" + DOMAIN, "--no-password")
        self.refused(5, "a trap must be an address nobody uses", "trap", "add", "erin@" + DOMAIN)
        self.ok("trap", "add", "honeypot@" + DOMAIN, "--comment", "seeded on the web")
        self.assertEqual(self.json("trap", "show", "honeypot@" + DOMAIN)["hits"], 0)
        self.ok("trap", "del", "honeypot@" + DOMAIN)
        self.ok("greylist", "add", "client-network", "192.0.2.7")
        self.ok("greylist", "add", "client-network", "2001:DB8::/48")
        self.ok("greylist", "add", "sender-domain", "Big.Provider.EXAMPLE")
        self.ok("greylist", "add", "recipient", "Erin@" + DOMAIN)
        self.refused(5, "already exists", "greylist", "add", "client-network", "192.0.2.7/32")
        got = {(x["kind"], x["value"]) for x in self.json("greylist", "list")}
        self.assertTrue({("client-network", "192.0.2.7/32"), ("client-network", "2001:db8::/48"),
                         ("sender-domain", "big.provider.example"),
                         ("recipient", "erin@" + DOMAIN)} <= got)
        self.ok("greylist", "del", "client-network", "192.0.2.7")
        self.sql("INSERT INTO trusted_replies (local_address, external_address, expires_at) VALUES "
                 "('erin@%s', 'friend@remote.example', UTC_TIMESTAMP() + INTERVAL 30 DAY)" % DOMAIN)
        got = self.json("trusted-reply", "list", "--local", "erin@" + DOMAIN)
        self.assertEqual(got[0]["external_address"], "friend@remote.example")
        # the milter's copy in Redis, under the key the milter writes
        # (milter/greylist_key.c), goes with the row
        key = "lrtest:reply:friend@remote.example/erin@" + DOMAIN
        self.stack.redis_cli("SET", key, "1")
        self.ok("trusted-reply", "del", "friend@remote.example", "erin@" + DOMAIN)
        self.assertEqual(self.json("trusted-reply", "list", "--local", "erin@" + DOMAIN), [])
        self.assertEqual(self.stack.redis_cli("EXISTS", key).strip(), "0")

    def test_reputation(self):
        self.ok("reputation", "set", "ip", "192.0.2.66", "block", "--expires", "2h", "--reason",
                "abuse report")
        self.ok("reputation", "set", "spf-domain", "Spammer.EXAMPLE", "block")
        listed = {(x["type"], x["entity"], x["override"]) for x in
                  self.json("reputation", "list", "--overrides")}
        self.assertIn(("ip", "192.0.2.66", "block"), listed)
        self.assertIn(("spf-domain", "spammer.example", "block"), listed)
        shown = self.json("reputation", "show", "ip", "192.0.2.66")
        self.assertEqual(shown["override_reason"], "abuse report")
        self.assertIsNotNone(shown["override_expires_at"])
        redis_cli = ["redis-cli", "-p", str(self.stack.redis_port), "--no-auth-warning", "-a",
                     self.stack.redis_password]
        subprocess.run(redis_cli + ["HSET", "lrtest:rep:ip:192.0.2.66", "good", "3", "bad", "17"],
                       check=True, capture_output=True)
        self.assertIn("bad=17", self.json("reputation", "show", "ip", "192.0.2.66")["live_counters"])
        self.ok("reputation", "set", "ip", "192.0.2.66", "none")
        self.assertEqual(self.json("reputation", "show", "ip", "192.0.2.66")["override"], "none")
        self.ok("reputation", "del", "ip", "192.0.2.66")

    def test_blocklists(self):
        r = self.mailadm("--json", "blocklist", "check", "192.0.2.66")
        self.assertEqual(r.returncode, 1, r.stderr)        # listed
        rows = json.loads(r.stdout)
        self.assertEqual((rows[0]["zone"], rows[0]["listed"], rows[0]["answer"]),
                         ("bl.example", True, "127.0.0.4"))
        self.assertIn("see https://bl.example/192.0.2.66", rows[0]["reason"])
        # a C1 control character from the DNS (U+009B, CSI to a terminal) is not printed
        table = self.mailadm("blocklist", "check", "192.0.2.88").stdout
        self.assertIn("listed ?31m in C1", table)
        self.assertNotIn("\x9b", table)
        r = self.mailadm("--json", "blocklist", "check", "192.0.2.77")    # 127.0.0.99: not ours
        self.assertEqual((r.returncode, json.loads(r.stdout)[0]["listed"]), (0, False))
        r = self.mailadm("--json", "blocklist", "check", "192.0.2.1")
        self.assertEqual(json.loads(r.stdout)[0]["lookup"], "nxdomain")
        self.sql("INSERT INTO blocklists_cache (ip, zone, listed, answer, expires_at) VALUES "
                 "('192.0.2.66', 'bl.example', 1, '127.0.0.4', UTC_TIMESTAMP() + INTERVAL 1 HOUR), "
                 "('192.0.2.9', 'bl.example', 0, '', UTC_TIMESTAMP() + INTERVAL 1 HOUR)")
        redis_cli = ["redis-cli", "-p", str(self.stack.redis_port), "--no-auth-warning", "-a",
                     self.stack.redis_password]
        subprocess.run(redis_cli + ["SET", "lrtest:dnsbl:bl.example:192.0.2.66", "127.0.0.4"],
                       check=True, capture_output=True)
        self.assertEqual(len(self.json("blocklist", "list", "--listed")), 1)
        out = self.ok("blocklist", "flush", "--ip", "192.0.2.66")
        self.assertIn("flushed 1 recorded answers and 1 cached in Redis", out)
        self.assertEqual([x["ip"] for x in self.json("blocklist", "list")], ["192.0.2.9"])

    def test_dns_records(self):
        out = self.ok("dns", DOMAIN)
        for expected in ("%s.  " % DOMAIN, "IN MX    10 mx.%s." % DOMAIN, '"v=spf1 mx -all"',
                         "_dmarc.%s." % DOMAIN, '"v=DMARC1; p=quarantine; rua=mailto:postmaster@%s' % DOMAIN,
                         "_mta-sts.%s." % DOMAIN, "v=STSv1; id=", "_smtp._tls.%s." % DOMAIN,
                         "v=TLSRPTv1"):
            self.assertIn(expected, out)
        records = self.json("dns", DOMAIN)["records"]
        self.assertEqual({r["type"] for r in records}, {"MX", "TXT"})

    def test_changes_are_counted_and_announced(self):
        before = int(self.sql("SELECT generation FROM change_counter").strip())
        sub = socket.create_connection(("127.0.0.1", self.stack.redis_port))
        sub.sendall(b"AUTH %s\r\nSUBSCRIBE lrtest:changes\r\n" % self.stack.redis_password.encode())
        time.sleep(0.3)
        sub.settimeout(5)
        sub.recv(4096)
        self.ok("greylist", "add", "sender-domain", "announce.example")
        after = int(self.sql("SELECT generation FROM change_counter").strip())
        self.assertEqual(after, before + 1)
        data = b""
        while str(after).encode() not in data:
            data += sub.recv(4096)
        sub.close()
        self.assertIn(b"lrtest:changes", data)
        self.refused(5, "already exists", "greylist", "add", "sender-domain", "announce.example")

    def test_database_unavailable(self):
        conf = self.stack.config({"database": {"address": "127.0.0.1:%d" % harness.free_port(),
                                               "connect_timeout": "1s"}})
        r = self.mailadm("domain", "list", conf=conf)
        self.assertEqual(r.returncode, 4)
        self.assertIn("database unavailable", r.stderr)


class MailadmPasswordTest(MailadmBase):
    """Hashes verify with Dovecot's own doveadm pw -t; wrong passwords do not."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        subprocess.run([os.path.join(cls.stack.builddir, "mailadm", "mailadm"), "-c", cls.conf,
                        "domain", "add", DOMAIN], capture_output=True)

    def doveadm_verifies(self, hashed, password):
        r = subprocess.run(["doveadm", "pw", "-t", hashed, "-p", password], capture_output=True,
                           text=True, timeout=60)
        return r.returncode == 0 and "(verified)" in r.stdout

    def test_schemes_verify_with_doveadm(self):
        password = "Tr0ub4dor & 3 horses"
        for scheme, prefix in (("BLF-CRYPT", "{BLF-CRYPT}$2y$"), ("SHA512-CRYPT", "{SHA512-CRYPT}$6$"),
                               ("CRYPT", "{CRYPT}$y$")):
            with self.subTest(scheme=scheme):
                conf = self.config(password_scheme=scheme)
                address = "pw-%s@%s" % (scheme.lower(), DOMAIN)
                r = self.mailadm("account", "add", address, "--password-stdin", stdin=password + "\n",
                                 conf=conf)
                self.assertEqual(r.returncode, 0, r.stderr)
                hashed = self.sql("SELECT password FROM accounts WHERE email = '%s'" % address).strip()
                self.assertTrue(hashed.startswith(prefix), hashed)
                self.assertTrue(self.doveadm_verifies(hashed, password))
                self.assertFalse(self.doveadm_verifies(hashed, password + "x"))
                self.assertNotIn(password, r.stdout + r.stderr)

    def test_passwd_and_generate(self):
        address = "gen@" + DOMAIN
        self.ok("account", "add", address, "--no-password")
        out = self.ok("account", "passwd", address, "--generate")
        generated = out.split("(shown once): ")[1].split()[0]
        self.assertGreaterEqual(len(generated), 20)
        hashed = self.sql("SELECT password FROM accounts WHERE email = '%s'" % address).strip()
        self.assertTrue(self.doveadm_verifies(hashed, generated))
        self.ok("account", "passwd", address, "--password-stdin", stdin="an entirely new one\n")
        hashed = self.sql("SELECT password FROM accounts WHERE email = '%s'" % address).strip()
        self.assertFalse(self.doveadm_verifies(hashed, generated))
        self.assertTrue(self.doveadm_verifies(hashed, "an entirely new one"))

    def test_policy_classes(self):
        conf = self.config(password_min_classes=3)
        r = self.mailadm("account", "add", "policy@" + DOMAIN, "--password-stdin",
                         stdin="alllowercaseletters\n", conf=conf)
        self.assertEqual(r.returncode, 2)
        self.assertIn("at least 3 of: lowercase, uppercase, digits, other", r.stderr)
        r = self.mailadm("account", "add", "policy@" + DOMAIN, "--password-stdin",
                         stdin="Mixed case and 42\n", conf=conf)
        self.assertEqual(r.returncode, 0, r.stderr)


class MailadmDkimTest(MailadmBase):
    """Keys from mailadm sign with dkimsign and verify with dkimpy against
    the records mailadm dkim dns prints, served by nsd."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        subprocess.run([os.path.join(cls.stack.builddir, "mailadm", "mailadm"), "-c", cls.conf,
                        "domain", "add", DOMAIN], capture_output=True)
        cls.tmp = tempfile.mkdtemp(dir=cls.stack.dir)

    def publish(self):
        """Serves exactly what `mailadm dkim dns` prints."""
        lines = dkimtools.zone_lines(self.ok("dkim", "dns", DOMAIN))
        self.stack.set_zone(DOMAIN, "@ IN MX 10 mx\n" + lines)

    def keys(self):
        return {k["selector"]: k for k in self.json("dkim", "list", DOMAIN, "--all")}

    def key_path(self, selector):
        return os.path.join(self.key_dir, DOMAIN, selector + ".key")

    def signs_and_verifies(self, selector, ed25519):
        msg = dkimtools.message(DOMAIN)
        signed = dkimtools.sign(msg, selector, DOMAIN, self.key_path(selector), ed25519, self.tmp)
        self.assertEqual(dkimtools.verify(signed, self.stack.dns_port), [True])
        tampered = signed.replace(b"this message is signed", b"this message is changed")
        self.assertEqual(dkimtools.verify(tampered, self.stack.dns_port), [False])

    def test_keygen_sign_verify(self):
        self.ok("dkim", "keygen", DOMAIN, "--selector", "rsa1")
        self.ok("dkim", "keygen", DOMAIN, "--algo", "ed25519", "--selector", "ed1")
        for selector in ("rsa1", "ed1"):
            st = os.stat(self.key_path(selector))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
            self.assertEqual(st.st_gid, grp.getgrnam("postfix").gr_gid)
        self.assertIn("BEGIN RSA PRIVATE KEY", open(self.key_path("rsa1")).read())
        keys = self.keys()
        self.assertEqual((keys["rsa1"]["state"], keys["rsa1"]["bits"], keys["rsa1"]["key_file"]),
                         ("pending", 2048, "ok"))
        r = self.mailadm("dkim", "activate", DOMAIN, "rsa1")
        self.assertEqual(r.returncode, 1)                   # not published yet
        self.assertIn("rsa1._domainkey.%s TXT: nxdomain" % DOMAIN, r.stderr)
        self.publish()
        self.signs_and_verifies("rsa1", False)
        self.signs_and_verifies("ed1", True)
        self.ok("dkim", "activate", DOMAIN, "rsa1")
        self.ok("dkim", "activate", DOMAIN, "ed1")
        keys = self.keys()
        self.assertEqual((keys["rsa1"]["state"], keys["ed1"]["state"]), ("active", "active"))
        os.chmod(self.key_path("ed1"), 0o644)
        self.assertEqual(self.keys()["ed1"]["key_file"], "readable by others")
        os.chmod(self.key_path("ed1"), 0o640)

    def test_rotation_never_leaves_a_gap(self):
        domain_active = lambda: sorted(s for s, k in self.keys().items()
                                       if k["state"] == "active" and k["algorithm"] == "rsa-sha256")

        def published_ones_verify():
            for selector, key in self.keys().items():
                if key["state"] in ("pending", "active", "retiring"):
                    self.signs_and_verifies(selector, key["algorithm"] == "ed25519-sha256")

        self.ok("dkim", "keygen", DOMAIN, "--selector", "a2026")
        self.publish()
        self.ok("dkim", "activate", DOMAIN, "a2026")
        self.assertEqual(domain_active(), ["a2026"])
        published_ones_verify()
        out = self.ok("dkim", "rotate", DOMAIN)                 # B pending
        b = out.split("key ")[1].split()[0]
        self.assertEqual(self.keys()[b]["state"], "pending")
        self.assertEqual(domain_active(), ["a2026"])              # A still signs
        self.refused(5, "already has a pending rsa-sha256 key", "dkim", "rotate", DOMAIN)
        self.refused(1, "not activated", "dkim", "activate", DOMAIN, b)   # not published yet
        self.assertEqual(domain_active(), ["a2026"])
        self.publish()
        published_ones_verify()
        self.refused(5, "is the active key", "dkim", "retire", DOMAIN, "a2026")
        self.ok("dkim", "activate", DOMAIN, b)
        self.assertEqual(domain_active(), [b])                    # exactly one, never none
        self.assertEqual(self.keys()["a2026"]["state"], "retiring")
        published_ones_verify()                                   # A still published and valid
        self.ok("dkim", "retire", DOMAIN, "a2026", "--delete-key")
        self.assertEqual(self.keys()["a2026"]["state"], "retired")
        self.assertFalse(os.path.exists(self.key_path("a2026")))
        self.publish()
        self.assertNotIn("a2026", self.ok("dkim", "dns", DOMAIN))
        published_ones_verify()
        self.assertEqual(domain_active(), [b])


class MailadmShellTest(unittest.TestCase):
    """The effective configuration, help, and the bash completion."""

    def setUp(self):
        self.mailadm = os.path.join(harness.stack().builddir, "mailadm", "mailadm")

    def test_config_show(self):
        conf = harness.stack().config({"mailadm": {"password_scheme": "SHA512-CRYPT"}},
                                      redis=False, database=False, dns=False)
        out = subprocess.run([self.mailadm, "-c", conf, "config", "show", "--changed"],
                             capture_output=True, text=True).stdout
        self.assertIn('mailadm = {\n\tpassword_scheme = "SHA512-CRYPT";\n};', out)
        full = subprocess.run([self.mailadm, "-c", conf, "config", "show"], capture_output=True,
                              text=True).stdout
        self.assertIn("\t# hash for new passwords", full)
        self.assertIn('\tdkim_key_group = "mailkeys";', full)

    def complete(self, line):
        words = line.split(" ")
        script = ('PATH=%s:$PATH; source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _mailadm; '
                  'echo "${COMPREPLY[*]}"' % (
                      os.path.dirname(self.mailadm),
                      os.path.join(harness.stack().srcdir, "mailadm", "bash-completion", "mailadm"),
                      " ".join("'%s'" % w for w in words), len(words) - 1))
        return subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout.split()

    def test_bash_completion(self):
        self.assertIn("account", self.complete("mailadm a"))
        self.assertIn("alias", self.complete("mailadm a"))
        self.assertEqual(sorted(self.complete("mailadm dkim r")), ["retire", "rotate"])
        self.assertIn("--password-stdin", self.complete("mailadm account add x@y.example --pa"))
        self.assertIn("--json", self.complete("mailadm --json domain list --"))
