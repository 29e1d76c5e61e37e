"""limristem-milter with a real Postfix (smtpd_milters) and with OpenDKIM's
miltertest: the From rules that keep messages from slipping past DMARC,
the summary log line and the metrics.

The milter's checks (SPF, DKIM, DMARC, ARC results in Authentication-
Results) are tested here as they are wired into it; their cores have unit
tests and conformance suites of their own (tests/unit/test_arc.c, ...)."""

import email
import os
import smtplib
import subprocess
import unittest
import urllib.request

import authres

import harness
from test_dkim_interop import make_rsa

MILTER = "milter/limristem-milter"
SIGNED = "signed.limristem.example"        # DKIM key, SPF -all, DMARC p=reject
SPFOK = "spfok.limristem.example"          # SPF allows 127.0.0.1, DMARC p=reject
QUARANTINED = "q.limristem.example"        # SPF -all, DMARC p=quarantine
TESTING = "t.limristem.example"            # DMARC p=quarantine; t=y (RFC 9989 testing)
NP = "np.limristem.example"                # DMARC p=reject sp=none np=reject, real.NP exists
FORWARDER = "fwd.limristem.example"        # an ARC sealer we trust
UNTRUSTED = "other.limristem.example"      # an ARC sealer we do not trust
AUTHSERV_ID = "mx.limristem.example"


def dkimsign(msg, key, canon):
    r = subprocess.run(["dkimsign", "--hcanon", canon[0], "--bcanon", canon[1], "sel", SIGNED,
                        key], input=msg, capture_output=True, timeout=30, check=True)
    return r.stdout


def arcsign(msg, key, domain):
    """msg with an ARC set by domain on top (python3-dkim's arcsign), as a
    forwarder that verified it and wrote its Authentication-Results."""
    msg = ("Authentication-Results: %s; dkim=pass header.d=%s; spf=pass "
           "smtp.mailfrom=%s; dmarc=pass header.from=%s\r\n" % (domain, SIGNED, SIGNED, SIGNED)
           ).encode() + msg
    r = subprocess.run(["arcsign", "arc", domain, key, domain], input=msg,
                       capture_output=True, timeout=30, check=True)
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
        stack.zones[SIGNED] = ('sel._domainkey IN TXT %s\n@ IN TXT "v=spf1 -all"\n'
                               '_dmarc IN TXT "v=DMARC1; p=reject"\n' % txt_strings(record))
        stack.zones[SPFOK] = ('@ IN TXT "v=spf1 ip4:127.0.0.1 ip4:192.0.2.25 -all"\n'
                              '_dmarc IN TXT "v=DMARC1; p=reject"\n')
        stack.zones[QUARANTINED] = '@ IN TXT "v=spf1 -all"\n_dmarc IN TXT "v=DMARC1; p=quarantine"\n'
        stack.zones[TESTING] = '_dmarc IN TXT "v=DMARC1; p=quarantine; t=y"\n'
        stack.zones[NP] = ('_dmarc IN TXT "v=DMARC1; p=reject; sp=none; np=reject"\n'
                           'real IN TXT "v=spf1 -all"\n')
        cls.sealer_keys = {}
        for sealer in (FORWARDER, UNTRUSTED):
            cls.sealer_keys[sealer], record = make_rsa(stack.dir, "arc-" + sealer)
            stack.zones[sealer] = "arc._domainkey IN TXT %s\n" % txt_strings(record)

        if "nsd" in stack.services:
            stack.stop_dns(kill=False)
        stack.start_dns()
        cls.metrics_port = harness.free_port()
        conf = stack.config({"milter": {
            "listen": ["unix:" + cls.sock], "user": "", "socket_group": "postfix",
            "internal_networks": ["10.99.0.0/16"], "authserv_id": AUTHSERV_ID,
            "trusted_arc_sealers": [FORWARDER],
            "metrics_listen": "127.0.0.1:%d" % cls.metrics_port}},
            redis=False, database=False)
        cls.conf = conf
        stack.start_daemon("milter", MILTER, conf, lambda: os.path.exists(cls.sock))
        # the same without reputation: nothing is scored, no trace is written
        cls.sock_norep = stack.path("milter-norep.sock")
        stack.start_daemon("milter-norep", MILTER, stack.config({"milter": {
            "listen": ["unix:" + cls.sock_norep], "user": "", "socket_group": "postfix",
            "internal_networks": ["10.99.0.0/16"], "authserv_id": AUTHSERV_ID,
            "reputation": False}}, redis=False, database=False),
            lambda: os.path.exists(cls.sock_norep))
        stack.start_postfix({"smtpd_milters": "unix:" + cls.sock,
                             "milter_default_action": "tempfail",
                             "smtpd_recipient_restrictions": "permit_mynetworks, reject",
                             # else Postfix adds a From to mail from its own addresses
                             # before the milter sees it
                             "local_header_rewrite_clients": ""})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop_postfix()
        for name in ("milter", "milter-norep"):
            cls.stack.services.pop(name).stop()

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
                              r"rcpts=1 inbound header\.from=sender\.example spf=\S+ dkim=none dmarc=\S+ "
                              r"arc=none score=\S+: accept")

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

    def test_from_that_is_not_one_mailbox_is_refused(self):
        """Mail readers show the first address; the old parser judged the
        last one (here a domain whose SPF passes), so these passed DMARC as
        spfok while showing signed (p=reject)."""
        for n, value in enumerate((
                "ceo@%s a@%s" % (SIGNED, SPFOK),                # a second address, no comma
                "ceo@%s@%s" % (SIGNED, SPFOK),                  # a second '@'
                "ceo@%s (x) a@%s" % (SIGNED, SPFOK),            # a comment between
                "ceo@%s <a@%s>" % (SIGNED, SPFOK),              # '@' in an unquoted name
                "<ceo@%s> a@%s" % (SIGNED, SPFOK),              # text after <...>
                "ceo@%s trailing" % SIGNED,                     # a trailing word
                "\"ceo@%s <a@%s>" % (SIGNED, SPFOK))):          # an unbalanced quote
            out = self.send_raw(("From: %s\r\nTo: b@limristem.example\r\nSubject: bad from %d\r\n"
                                 "\r\nhi\r\n" % (value, n)).encode(), sender="bounce@" + SPFOK)
            self.assert_refused(out, "Message refused: the From header field must name exactly "
                                     "one mailbox")
        # the accepted forms still pass
        self.assert_queued(self.send_raw(
            ("From: \"Doe, \\\"JD\\\" John\" (work) <a@%s>\r\nTo: b@limristem.example\r\n"
             "Subject: good from\r\n\r\nhi\r\n" % SPFOK).encode(), sender="bounce@" + SPFOK))

    def send_raw(self, message, sender="a@" + SIGNED):
        """Sends message as it is with swaks; its transcript."""
        argv = ["swaks", "--server", "127.0.0.1:%d" % self.stack.postfix["smtp_port"],
                "--from", sender, "--to", "b@limristem.example", "--data", "-"]
        return subprocess.run(argv, input=message, capture_output=True, timeout=60).stdout.decode()

    def assert_queued(self, transcript):
        self.assertIn("<-  250 2.0.0 Ok: queued", transcript)

    def assert_refused(self, transcript, text):
        self.assertIn("<** 550 5.7.1 " + text, transcript)

    def authres(self, subject):
        """Our Authentication-Results of the delivered message, unfolded."""
        message = email.message_from_string(self.stack.sink_message(subject))
        ours = [v for v in message.get_all("Authentication-Results", [])
                if v.strip().startswith(AUTHSERV_ID + ";")]
        self.assertEqual(len(ours), 1, message.get_all("Authentication-Results"))
        return " ".join(ours[0].split())

    def test_dkim_signatures_are_verified(self):
        msg = ("From: Alice <alice@%s>\r\nTo: b@limristem.example\r\nSubject: signed %%s\r\n"
               "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m%%s@%s>\r\n\r\n"
               "Hello,\r\nthis is signed.\r\n" % (SIGNED, SIGNED))
        good = dkimsign((msg % ("good", 1)).encode(), self.key, ("relaxed", "relaxed"))
        self.assert_queued(self.send_raw(good))
        bad = dkimsign((msg % ("bad", 2)).encode(), self.key, ("relaxed", "simple")).replace(
            b"this is signed.", b"this was changed.")
        # DKIM fails, SPF fails: DMARC p=reject
        self.assert_refused(self.send_raw(bad), "Message refused: the DMARC policy")
        self.stack.sink_message("signed good")
        log = self.stack.daemon_log("milter")
        # the score (reputation is on, in memory) follows the ARC result
        self.assertRegex(log, r"header\.from=%s spf=fail dkim=pass\(%s\) dmarc=pass arc=none "
                              r"score=\S+: accept" % (SIGNED, SIGNED))
        self.assertRegex(log, r"header\.from=%s spf=fail dkim=fail\(%s\) dmarc=fail/reject "
                              r"arc=none score=\S+: reject" % (SIGNED, SIGNED))
        ar = self.authres("signed good")
        self.assertRegex(ar, r"^ ?%s;" % AUTHSERV_ID.replace(".", r"\."))
        self.assertRegex(ar, r"dkim=pass [^;]*header\.d=%s header\.s=sel" % SIGNED.replace(".", r"\."))
        self.assertRegex(ar, r"dmarc=pass [^;]*header\.from=%s" % SIGNED.replace(".", r"\."))
        self.assertIn("spf=fail", ar)
        self.assertIn("arc=none", ar)

    def test_dmarc_reject_spoof_is_refused(self):
        msg = ("From: CEO <ceo@%s>\r\nTo: b@limristem.example\r\nSubject: spoof\r\n\r\n"
               "Pay this invoice.\r\n" % SIGNED).encode()
        self.assert_refused(self.send_raw(msg, sender="ceo@" + SIGNED),
                            "Message refused: the DMARC policy of %s" % SIGNED)
        self.assertIn("dmarc=fail/reject", self.stack.daemon_log("milter"))

    def test_trusted_arc_chain_overrides_dmarc_reject(self):
        msg = ("From: CEO <ceo@%s>\r\nTo: list@%s\r\nSubject: via a list, %%s\r\n"
               "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nMinutes of the meeting.\r\n"
               % (SIGNED, FORWARDER))
        trusted = arcsign((msg % "trusted").encode(), self.sealer_keys[FORWARDER], FORWARDER)
        self.assert_queued(self.send_raw(trusted, sender="list@" + FORWARDER))
        ar = self.authres("via a list, trusted")
        self.assertIn("arc=pass", ar)
        self.assertIn("dmarc=fail", ar)
        self.assertIn("overridden by a trusted ARC chain", ar)
        self.assertIn("DMARC reject of %s overridden" % SIGNED, self.stack.daemon_log("milter"))
        # The same chain from a sealer not in trusted_arc_sealers changes nothing.
        untrusted = arcsign((msg % "untrusted").encode(), self.sealer_keys[UNTRUSTED], UNTRUSTED)
        self.assert_refused(self.send_raw(untrusted, sender="list@" + UNTRUSTED),
                            "Message refused: the DMARC policy of %s" % SIGNED)

    def test_spf_aligned_passes_dmarc(self):
        self.send_raw(("From: a@%s\r\nTo: b@limristem.example\r\nSubject: spf aligned\r\n\r\n"
                       "hi\r\n" % SPFOK).encode(), sender="bounce@" + SPFOK)
        ar = self.authres("spf aligned")
        self.assertIn("spf=pass smtp.mailfrom=bounce@" + SPFOK, ar)
        self.assertRegex(ar, r"dmarc=pass")

    def test_dmarc_quarantine_goes_to_the_hold_queue(self):
        self.send_raw(("From: a@%s\r\nTo: b@limristem.example\r\nSubject: quarantined\r\n\r\n"
                       "hi\r\n" % QUARANTINED).encode(), sender="a@" + QUARANTINED)
        held = lambda: '"queue_name": "hold"' in subprocess.run(
            ["postqueue", "-c", self.stack.postfix["dir"] + "/etc", "-j"],
            capture_output=True, text=True).stdout
        harness.wait_for(held, 20, "the message in the hold queue")
        self.assertIn("dmarc=fail/quarantine", self.stack.daemon_log("milter"))

    def test_dmarc_testing_mode_lowers_the_policy(self):
        """RFC 9989 t=y: p=quarantine is applied as none, and said so."""
        self.assert_queued(self.send_raw(("From: a@%s\r\nTo: b@limristem.example\r\n"
                                          "Subject: testing mode\r\n\r\nhi\r\n" % TESTING).encode(),
                                         sender="bounce@" + SPFOK))
        ar = self.authres("testing mode")
        self.assertIn("dmarc=fail (p=quarantine t=y dis=none) header.from=%s policy.dmarc=none"
                      % TESTING, ar)
        self.assertRegex(self.stack.daemon_log("milter"),
                         r"header\.from=%s spf=pass dkim=none dmarc=fail/none\(t=y\) .*: accept"
                         % TESTING.replace(".", r"\."))

    def test_dmarc_tree_walk_sp_and_np(self):
        """A subdomain without a record of its own gets its organizational
        domain's record through the tree walk: sp when it exists, np when
        its lookup answers NXDOMAIN."""
        self.assert_queued(self.send_raw(("From: a@real.%s\r\nTo: b@limristem.example\r\n"
                                          "Subject: existing subdomain\r\n\r\nhi\r\n" % NP).encode(),
                                         sender="bounce@" + SPFOK))
        ar = self.authres("existing subdomain")
        self.assertIn("dmarc=fail (p=reject sp=none dis=none) header.from=real.%s "
                      "policy.dmarc=none" % NP, ar)
        out = self.send_raw(("From: ceo@ghost.%s\r\nTo: b@limristem.example\r\n"
                             "Subject: no such subdomain\r\n\r\nhi\r\n" % NP).encode(),
                            sender="bounce@" + SPFOK)
        self.assert_refused(out, "Message refused: the DMARC policy of ghost.%s" % NP)
        log = self.stack.daemon_log("milter")
        self.assertIn("dmarc=fail/none(sp=none@%s)" % NP, log)
        self.assertIn("dmarc=fail/reject(np=reject@%s)" % NP, log)

    def test_forged_results_with_our_id_are_removed(self):
        forged = "Authentication-Results: %s; dkim=pass header.d=bank.example\r\n"
        self.send_raw((forged % AUTHSERV_ID.upper() +
                       "Authentication-Results: other.example; spf=pass\r\n"
                       "From: a@%s\r\nTo: b@limristem.example\r\nSubject: forged ar\r\n\r\n"
                       "hi\r\n" % SPFOK).encode(), sender="a@" + SPFOK)
        message = self.stack.sink_message("forged ar")
        self.assertNotIn("bank.example", message)
        self.assertIn("Authentication-Results: other.example; spf=pass", message)
        self.authres("forged ar")  # exactly one field with our id: ours
        self.assertIn("\nAuthentication-Results: %s;" % AUTHSERV_ID, message)

    def test_several_forged_fields_all_go_and_nothing_else(self):
        """The outside review's message: two forged A-R, one foreign, two
        X-Spam-Status. Deleting front to back by original index (Postfix
        renumbers after each deletion) kept the second forged field and the
        second X-Spam-Status and deleted the foreign A-R instead. With them,
        forged fields our strict parser refuses but readers take as ours."""
        forged = "Authentication-Results: %s; dkim=pass header.d=bank.example\r\n" % AUTHSERV_ID
        fields = (forged + forged +
                  "Authentication-Results: other.example; spf=pass smtp.mailfrom=x@other.example\r\n"
                  "X-Spam-Status: No, score=-10\r\nX-Spam-Status: No, score=-20\r\n"
                  "Authentication-Results: %s 0000000001; dkim=pass header.d=bank.example\r\n"
                  "Authentication-Results: %s%s; dkim=pass header.d=bank.example\r\n"
                  "X-Limristem-Reputation: id=0123456789abcdef0123456789abcdef; judged=good; "
                  "ip=209.85.220.41; dkim=gmail.com\r\n"
                  % (AUTHSERV_ID, "(" * 33 + "x" + ")" * 33 + " ", AUTHSERV_ID))
        self.assert_queued(self.send_raw((fields + "From: a@%s\r\nTo: b@limristem.example\r\n"
                                          "Subject: forged several\r\n\r\nhi\r\n" % SPFOK
                                          ).encode(), sender="a@" + SPFOK))
        message = email.message_from_string(self.stack.sink_message("forged several"))
        results = message.get_all("Authentication-Results", [])
        self.assertEqual(len(results), 2, results)
        self.assertEqual(" ".join(results[1].split()),
                         "other.example; spf=pass smtp.mailfrom=x@other.example")
        self.assertNotIn("bank.example", str(message))
        self.assertEqual(message.get_all("X-Spam-Status", []), [])
        # the one trace left is the milter's own
        traces = message.get_all("X-Limristem-Reputation", [])
        self.assertEqual(len(traces), 1, traces)
        self.assertNotIn("209.85.220.41", traces[0])
        # an independent reader (python3-authres) finds our id in our field only
        claimed = []
        for value in results:
            try:
                parsed = authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
            except Exception:       # it refuses the ones it cannot read
                continue
            if parsed.authserv_id.lower() == AUTHSERV_ID:
                claimed.append(str(parsed))
        self.assertEqual(len(claimed), 1, claimed)
        self.assertRegex(self.stack.daemon_log("milter"),
                         r"removed Authentication-Results: it is malformed and names our "
                         r"authserv-id")

    def test_forged_fields_go_on_every_path(self):
        """Inbound scored, inbound without a client address, outbound (an
        internal network), and a milter without reputation: each deletes
        forged results, X-Spam-* and traces (miltertest sees the deletions),
        and refuses a message whose forged field is past the 1000-field cap."""
        script = os.path.join(self.stack.srcdir, "tests", "integration", "miltertest",
                              "forged_fields.lua")
        for sock, client, label in ((self.sock, "192.0.2.7", "inbound"),
                                    (self.sock, "unspec", "no-client"),
                                    (self.sock, "10.99.0.5", "outbound"),
                                    (self.sock_norep, "192.0.2.7", "no-reputation")):
            r = subprocess.run(["miltertest", "-D", "socket=unix:" + sock, "-D",
                                "authserv=" + AUTHSERV_ID, "-D", "client=" + client, "-D",
                                "label=" + label, "-s", script],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, label + ": " + r.stdout + r.stderr)
            self.assertIn("forged_fields %s: ok" % label, r.stdout)

    def test_miltertest_scripts(self):
        for name in ("from_fields", "dmarc"):
            script = os.path.join(self.stack.srcdir, "tests", "integration", "miltertest",
                                  name + ".lua")
            r = subprocess.run(["miltertest", "-D", "socket=unix:" + self.sock, "-D",
                                "authserv=" + AUTHSERV_ID, "-s", script],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, name + ": " + r.stdout + r.stderr)
            self.assertIn(name + ": ok", r.stdout)

    def test_metrics(self):
        self.swaks("metrics", ["From: a@sender.example", "From: b@evil.example"])
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                      timeout=10).read().decode()
        self.assertIn('milter_messages_total{action="reject"}', text)
        self.assertRegex(text, r"milter_bad_from_total [1-9]")


if __name__ == "__main__":
    unittest.main()
