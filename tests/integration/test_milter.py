"""limristem-milter with a real Postfix (smtpd_milters) and with OpenDKIM's
miltertest: the From rules that keep messages from slipping past DMARC,
the summary log line and the metrics.

The milter's checks (SPF, DKIM, DMARC, ARC results in Authentication-
Results) are tested here as they are wired into it; their cores have unit
tests and conformance suites of their own (tests/unit/test_arc.c, ...)."""

import os
import smtplib
import subprocess
import unittest
import urllib.request

import harness
from test_dkim_interop import make_rsa

MILTER = "milter/limristem-milter"
SIGNED = "signed.limristem.example"


def dkimsign(msg, key, canon):
    r = subprocess.run(["dkimsign", "--hcanon", canon[0], "--bcanon", canon[1], "sel", SIGNED,
                        key], input=msg, capture_output=True, timeout=30, check=True)
    return r.stdout


def txt_strings(value):
    """A TXT value in zone-file syntax, in strings of at most 255 bytes."""
    return " ".join('"%s"' % value[i:i + 250] for i in range(0, len(value), 250))


class MilterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        cls.sock = stack.path("milter.sock")
        cls.key, record = make_rsa(stack.dir, "milter-dkim")
        stack.zones[SIGNED] = "sel._domainkey IN TXT %s\n" % txt_strings(record)
        if "nsd" in stack.services:
            stack.stop_dns(kill=False)
        stack.start_dns()
        cls.metrics_port = harness.free_port()
        conf = stack.config({"milter": {
            "listen": ["unix:" + cls.sock], "user": "", "socket_group": "postfix",
            "internal_networks": ["10.99.0.0/16"], "authserv_id": "mx.limristem.example",
            "metrics_listen": "127.0.0.1:%d" % cls.metrics_port}},
            redis=False, database=False)
        cls.conf = conf
        stack.start_daemon("milter", MILTER, conf, lambda: os.path.exists(cls.sock))
        stack.start_postfix({"smtpd_milters": "unix:" + cls.sock,
                             "milter_default_action": "tempfail",
                             "smtpd_recipient_restrictions": "permit_mynetworks, reject",
                             # else Postfix adds a From to mail from its own addresses
                             # before the milter sees it
                             "local_header_rewrite_clients": ""})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop_postfix()
        cls.stack.services.pop("milter").stop()

    def swaks(self, subject, headers, body="Hello."):
        argv = ["swaks", "--server", "127.0.0.1:%d" % self.stack.postfix["smtp_port"],
                "--from", "a@sender.example", "--to", "b@limristem.example",
                "--data", "%sSubject: %s\n\n%s\n" % ("".join(h + "\n" for h in headers),
                                                      subject, body)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout

    def test_one_from_is_delivered(self):
        out = self.swaks("one from", ["From: \"Doe, John\" <john@sender.example>"])
        self.assertIn("<-  250 2.0.0 Ok: queued", out)
        self.stack.sink_message("one from")
        log = self.stack.daemon_log("milter")
        self.assertRegex(log, r"client=localhost\[127\.0\.0\.1\] .*from=<a@sender\.example> "
                              r"rcpts=1 inbound header\.from=sender\.example dkim=none arc=none: accept")

    def test_two_from_fields_are_refused(self):
        out = self.swaks("two from", ["From: a@sender.example", "From: b@evil.example"])
        self.assertIn("<** 550 5.7.1 Message refused: it has more than one From header field", out)

    def test_two_mailboxes_and_no_from_are_refused(self):
        out = self.swaks("two mailboxes", ["From: a@sender.example, b@evil.example"])
        self.assertIn("<** 550 5.7.1 Message refused: the From header field must name exactly "
                      "one mailbox", out)
        # swaks adds a From of its own to a message without one: plain SMTP here
        with smtplib.SMTP("127.0.0.1", self.stack.postfix["smtp_port"], timeout=30) as smtp:
            with self.assertRaises(smtplib.SMTPDataError) as refused:
                smtp.sendmail("a@sender.example", ["b@limristem.example"],
                              b"To: b@limristem.example\r\nSubject: no from\r\n\r\nHello.\r\n")
        self.assertEqual(refused.exception.smtp_code, 550)
        self.assertIn(b"5.7.1 Message refused: it has no From header field",
                      refused.exception.smtp_error)

    def send_raw(self, message):
        with smtplib.SMTP("127.0.0.1", self.stack.postfix["smtp_port"], timeout=30) as smtp:
            smtp.sendmail("a@" + SIGNED, ["b@limristem.example"], message)

    def test_dkim_signatures_are_verified(self):
        msg = ("From: Alice <alice@%s>\r\nTo: b@limristem.example\r\nSubject: signed %%s\r\n"
               "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m%%s@%s>\r\n\r\n"
               "Hello,\r\nthis is signed.\r\n" % (SIGNED, SIGNED))
        good = dkimsign((msg % ("good", 1)).encode(), self.key, ("relaxed", "relaxed"))
        self.send_raw(good)
        bad = dkimsign((msg % ("bad", 2)).encode(), self.key, ("relaxed", "simple")).replace(
            b"this is signed.", b"this was changed.")
        self.send_raw(bad)
        self.stack.sink_message("signed bad")
        log = self.stack.daemon_log("milter")
        self.assertIn("header.from=%s dkim=pass(%s) arc=none: accept" % (SIGNED, SIGNED), log)
        self.assertIn("header.from=%s dkim=fail(%s) arc=none: accept" % (SIGNED, SIGNED), log)

    def test_miltertest_script(self):
        script = os.path.join(self.stack.srcdir, "tests", "integration", "miltertest",
                              "from_fields.lua")
        r = subprocess.run(["miltertest", "-D", "socket=unix:" + self.sock, "-s", script],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("from_fields: ok", r.stdout)

    def test_metrics(self):
        self.swaks("metrics", ["From: a@sender.example", "From: b@evil.example"])
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                      timeout=10).read().decode()
        self.assertIn('milter_messages_total{action="reject"}', text)
        self.assertRegex(text, r"milter_bad_from_total [1-9]")


if __name__ == "__main__":
    unittest.main()
