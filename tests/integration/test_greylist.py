"""Greylisting, reputation, trusted replies and learning in limristem-milter,
with real Redis, MariaDB, nsd and Postfix. Clients outside are presented
with XCLIENT; time moves with Stack.advance_clock(), never by sleeping
through a delay.

Each test uses client networks of its own (100.64.N.0/24), so that the
triplets and automatic-whitelist counts of one never help another."""

import os
import re
import subprocess
import time
import unittest
import urllib.request

import harness

MILTER = "milter/limristem-milter"
DOMAIN = "grey.limristem.example"            # ours
POOL = "pool.limristem.example"              # SPF: 100.64.10.0/24 and 100.64.20.0/24
NOSPF = "nospf.limristem.example"            # no SPF record
LEARN = "learn.limristem.example"            # SPF: 100.64.47.0/24
QUARANTINE = "quar.limristem.example"        # SPF: 100.64.48.0/24, DMARC p=quarantine
AUTHSERV_ID = "mx.grey.limristem.example"
DELAY = 300


class GreylistTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        if "redis" not in stack.services:
            stack.start_redis()
        stack.fresh_database()
        stack.zones.update({
            DOMAIN: "@ IN MX 10 mx\n",
            POOL: '@ IN TXT "v=spf1 ip4:100.64.10.0/24 ip4:100.64.20.0/24 -all"\n',
            NOSPF: "@ IN MX 10 mx\n",
            LEARN: '@ IN TXT "v=spf1 ip4:100.64.47.0/24 -all"\n',
            QUARANTINE: '@ IN TXT "v=spf1 ip4:100.64.48.0/24 -all"\n'
                        '_dmarc IN TXT "v=DMARC1; p=quarantine"\n'})
        if "nsd" in stack.services:
            stack.stop_dns(kill=False)
        stack.start_dns()
        cls.conf = stack.config({"mailadm": {"dkim_key_dir": stack.path("grey-keys")}})
        cls.mailadm("domain", "add", DOMAIN)
        cls.metrics_port = harness.free_port()
        cls.sock_a = cls.start_milter("milter", cls.metrics_port)
        # node b scores nothing: greylisting must not lean on reputation
        cls.sock_b = cls.start_milter("milter2", harness.free_port(), {"reputation": False})
        cls.port_b = harness.free_port()
        # a second smtpd with the second milter: two nodes on one Redis
        second = ("127.0.0.1:%d inet n - n - - smtpd -o smtpd_milters=unix:%s\n"
                  % (cls.port_b, cls.sock_b))
        cls.port_a = stack.start_postfix({
            "smtpd_milters": "unix:" + cls.sock_a,
            "milter_default_action": "tempfail",
            "smtpd_authorized_xclient_hosts": "127.0.0.1",
            "relay_domains": ", ".join((DOMAIN, POOL, NOSPF, LEARN)),
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtpd_recipient_restrictions": "permit",
            "local_header_rewrite_clients": ""}, master_cf_extra=second)
        harness.wait_for(lambda: harness.port_open(cls.port_b), 20, "second smtpd")

    @classmethod
    def start_milter(cls, name, metrics_port, extra=None):
        sock = cls.stack.path(name + ".sock")
        conf = cls.stack.config({"milter": dict({
            "listen": ["unix:" + sock], "user": "", "socket_group": "postfix",
            "internal_networks": ["10.99.0.0/16"], "authserv_id": AUTHSERV_ID,
            "metrics_listen": "127.0.0.1:%d" % metrics_port, "change_check": "200ms",
            "greylisting": True,
            "greylist_exempt_networks": ["100.64.40.0/24", "100.64.47.0/24"],
            # the few deliveries of a test never make a good reputation
            "good_reputation_score": -5,
            "spam_header_score": 3, "greylist_score": 0, "reject_score": 6,
            "reputation_flush": "200ms"}, **(extra or {}))})
        cls.stack.start_daemon(name, MILTER, conf, lambda: os.path.exists(sock))
        return sock

    @classmethod
    def tearDownClass(cls):
        cls.stack.reset_clock()
        cls.stack.stop_postfix()
        for name in ("milter", "milter2"):
            cls.stack.services.pop(name).stop()

    @classmethod
    def mailadm(cls, *args, stdin=None, check=True):
        r = subprocess.run([os.path.join(cls.stack.builddir, "mailadm", "mailadm"), "-c",
                            cls.conf] + list(args), input=stdin, capture_output=True, text=True,
                           timeout=60, start_new_session=True)
        if check:
            assert r.returncode == 0, "mailadm %s: %s%s" % (args, r.stdout, r.stderr)
        return r

    def send(self, client, sender, rcpt, subject, port=None, login=None, headers=()):
        """swaks through Postfix as client (XCLIENT, with login as SMTP AUTH
        would set it); the transcript. Postfix keeps the name localhost."""
        data = "".join(h + "\n" for h in headers) + \
            "From: <%s>\nTo: <%s>\nSubject: %s\n\nHello.\n" % (sender or "mailer-daemon@" + NOSPF,
                                                             rcpt, subject)
        argv = ["swaks", "--server", "127.0.0.1:%d" % (port or self.port_a),
                "--xclient", "ADDR=%s%s" % (client, " LOGIN=" + login if login else ""),
                "--from", sender or "<>", "--to", rcpt, "--data", data]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout

    def assert_deferred(self, transcript):
        self.assertRegex(transcript, r"<\*\* 451 4\.7\.1 Greylisted: this is normal for a first "
                                     r"message, please try again in \d+ seconds")

    def assert_queued(self, transcript):
        self.assertIn("<-  250 2.0.0 Ok: queued", transcript, transcript[-1500:])

    def log(self, name="milter"):
        return self.stack.daemon_log(name)

    def test_1_first_attempt_early_retry_and_retry_after_the_delay(self):
        sender, rcpt = "news@" + NOSPF, "u1@" + DOMAIN
        self.assert_deferred(self.send("100.64.1.7", sender, rcpt, "grey first"))
        self.stack.advance_clock(DELAY - 60)
        out = self.send("100.64.1.8", sender, rcpt, "grey early")   # same /24
        self.assert_deferred(out)
        self.assertRegex(out, r"try again in (5[0-9]|60) seconds")
        self.stack.advance_clock(61)
        self.assert_queued(self.send("100.64.1.9", sender, rcpt, "grey retried"))
        self.stack.sink_message("grey retried")
        log = self.log()
        self.assertIn("greylist: deferred client=localhost[100.64.1.7] origin=net:100.64.1.0/24 "
                      "sender=news@%s rcpt=<%s>, retry in 300s" % (NOSPF, rcpt), log)
        self.assertIn("greylist: deferred-early client=localhost[100.64.1.8]", log)
        self.assertIn("greylist: passed-retry client=localhost[100.64.1.9]", log)
        # a BATV-tagged sender with an extension is the same sender
        self.assert_queued(self.send("100.64.1.9", "prvs=1234abcdef=news+x@" + NOSPF, rcpt,
                                     "grey batv"))

    def test_2_whitelisted_after_five_deliveries(self):
        sender = "list@" + NOSPF
        self.assert_deferred(self.send("100.64.2.7", sender, "u0@" + DOMAIN, "awl 0"))
        self.stack.advance_clock(DELAY + 1)
        self.assert_queued(self.send("100.64.2.7", sender, "u0@" + DOMAIN, "awl 1"))
        for n in range(2, 6):
            if n == 5:   # four deliveries counted: a new recipient still waits
                self.assert_deferred(self.send("100.64.2.7", sender, "u8@" + DOMAIN, "awl not yet"))
            self.stack.advance_clock(3601)     # counted at most once an hour
            self.assert_queued(self.send("100.64.2.7", sender, "u0@" + DOMAIN, "awl %d" % n))
        out = self.send("100.64.2.9", "other@" + NOSPF, "u9@" + DOMAIN, "awl whitelisted")
        self.assert_queued(out)
        self.assertIn("greylist: whitelisted client=localhost[100.64.2.9] origin=net:100.64.2.0/24",
                      self.log())

    def test_3_spf_pass_keys_by_domain_across_the_pool(self):
        sender, rcpt = "bulk@" + POOL, "u3@" + DOMAIN
        self.assert_deferred(self.send("100.64.10.5", sender, rcpt, "pool first"))
        self.stack.advance_clock(DELAY + 1)
        # another address of the provider's SPF range, another /24: passes
        self.assert_queued(self.send("100.64.20.77", sender, rcpt, "pool retried"))
        self.assertIn("greylist: passed-retry client=localhost[100.64.20.77] origin=spf:%s" % POOL,
                      self.log())

    def test_4_exemptions(self):
        # a network from the configuration, one added with mailadm
        self.assert_queued(self.send("100.64.40.9", "x@" + NOSPF, "u4@" + DOMAIN, "exempt conf"))
        self.mailadm("greylist", "add", "client-network", "100.64.41.0/24")
        self.mailadm("greylist", "add", "recipient", "optout@" + DOMAIN)
        # both: after the first change alone the milter logs 1 exemption
        harness.wait_for(lambda: re.search(r"tables loaded: .* 2 greylisting exemptions",
                                           self.log()), 10, "the milter to load both exemptions")
        self.assert_queued(self.send("100.64.41.9", "x@" + NOSPF, "u4@" + DOMAIN, "exempt db"))
        self.assert_queued(self.send("100.64.42.9", "x@" + NOSPF, "optout@" + DOMAIN, "opted out"))
        self.assert_queued(self.send("100.64.42.9", "", "postmaster@" + DOMAIN, "to postmaster"))
        # an authenticated client is outbound: never greylisted
        self.assert_queued(self.send("100.64.43.9", "alice@" + DOMAIN, "friend@" + NOSPF,
                                     "authenticated", login="alice@" + DOMAIN))
        log = self.log()
        for why in ("exempt (client network)", "exempt (recipient opted out)",
                    "exempt (null sender to postmaster)"):
            self.assertIn("greylist: " + why, log)
        self.assertNotIn("client=localhost[100.64.43.9] origin", log)

    def test_5_trusted_reply(self):
        # alice writes out from an internal client; carol's reply comes back
        # from her provider's SPF range and skips greylisting
        self.assert_queued(self.send("10.99.0.5", "alice@" + DOMAIN, "carol@" + POOL, "to carol"))
        self.assert_queued(self.send("100.64.10.9", "carol@" + POOL, "alice@" + DOMAIN,
                                     "reply from carol"))
        self.assertIn("greylist: exempt (trusted reply, SPF) client=localhost[100.64.10.9]",
                      self.log())
        # the same From and envelope from an address SPF does not allow: no bypass
        out = self.send("100.64.44.9", "carol@" + POOL, "alice@" + DOMAIN, "forged reply")
        self.assertRegex(out, r"<\*\* 451 4\.7\.1 Greylisted")
        self.assertIn("held for DKIM (a reply SPF did not validate)", self.log())
        # the pair is in the database too, written in a batch
        harness.wait_for(lambda: ("carol@" + POOL) in self.mailadm(
            "trusted-reply", "list", "--local", "alice@" + DOMAIN).stdout, 10,
            "the trusted reply in the database")

    def test_5b_a_forged_reply_is_greylisted_without_reputation_too(self):
        # node b has reputation off; the pair alice wrote through node a is in Redis
        self.assert_queued(self.send("10.99.0.6", "alice@" + DOMAIN, "dave@" + POOL, "to dave"))
        out = self.send("100.64.45.9", "dave@" + POOL, "alice@" + DOMAIN, "forged reply b",
                        port=self.port_b)
        self.assertRegex(out, r"<\*\* 451 4\.7\.1 Greylisted")
        self.assertIn("held for DKIM (a reply SPF did not validate)", self.log("milter2"))

    def test_6_two_milters_share_greylist_state(self):
        sender, rcpt = "shared@" + NOSPF, "u6@" + DOMAIN
        self.assert_deferred(self.send("100.64.6.7", sender, rcpt, "node a"))
        self.stack.advance_clock(DELAY + 1)
        self.assert_queued(self.send("100.64.6.7", sender, rcpt, "node b", port=self.port_b))
        self.assertIn("greylist: passed-retry client=localhost[100.64.6.7]", self.log("milter2"))

    def test_7_learn_spam_then_spam_headers_then_reject(self):
        client, sender = "100.64.47.7", "promo@" + LEARN    # exempt network: no greylisting
        self.assert_queued(self.send(client, sender, "u7@" + DOMAIN, "learn 1"))
        first = self.stack.sink_message("learn 1")
        self.assertIn("X-Limristem-Reputation: id=", first)
        self.assertNotIn("X-Spam-Status", first)
        out = self.mailadm("learn", "spam", stdin=first).stdout
        self.assertIn("learned as spam: ip 100.64.47.7, network 100.64.47.0/24, spf_domain "
                      + LEARN, out)
        self.assertIn("already learned as spam", self.mailadm("learn", "spam", stdin=first).stdout)

        self.assert_queued(self.send(client, sender, "u7@" + DOMAIN, "learn 2"))
        second = self.stack.sink_message("learn 2")
        status = re.search(r"X-Spam-Status: Yes, score=([\d.]+) required=3 reasons=(\S+)", second)
        self.assertTrue(status, second)
        self.assertIn("ip_rep", status.group(2))
        self.assertIn("X-Spam-Score: %s" % status.group(1), second)
        self.mailadm("learn", "spam", stdin=second)
        out = self.send(client, sender, "u7@" + DOMAIN, "learn 3")
        self.assertIn("<** 550 5.7.1 Message refused: it looks like spam", out)

        # ham undoes the spam of the first message; the database has the history
        self.assertIn("learned as ham", self.mailadm("learn", "ham", stdin=first).stdout)
        harness.wait_for(lambda: '"rejected": 1' in self.mailadm(
            "--json", "reputation", "show", "ip", client).stdout, 10, "counters in the database")

    FORGED_TRACE = ("X-Limristem-Reputation: id=%s; judged=good; ip=209.85.220.41; "
                    "network=209.85.220.0/24; dkim=gmail.com")

    def counters(self, kind, name):
        return self.stack.redis_cli("HGETALL", "lrtest:rep:%s:%s" % (kind, name)).strip()

    def test_7b_a_forged_trace_is_never_learned(self):
        """The outside review: a mailbox user sent messages carrying a forged
        trace (outbound keeps it), learned them as spam, and Redis blamed
        gmail.com. Now the trace goes on every path, and mailadm learn
        believes only the topmost trace with a mac of this site's secret."""
        before = (self.counters("dkim_domain", "gmail.com"), self.counters("ip", "209.85.220.41"))
        for n in range(3):      # an authenticated user writing to a local mailbox
            forged = self.FORGED_TRACE % ("%032x" % (0xf0 + n))
            self.assert_queued(self.send("100.64.50.9", "mallory@" + DOMAIN, "u70@" + DOMAIN,
                                         "forged trace %d" % n, login="mallory@" + DOMAIN,
                                         headers=(forged,)))
            delivered = self.stack.sink_message("forged trace %d" % n)
            self.assertNotIn("X-Limristem-Reputation", delivered)
            r = self.mailadm("learn", "spam", stdin=delivered, check=False)
            self.assertEqual(r.returncode, 3, r.stderr)
        # the same trace in a message put straight into a mailbox (IMAP APPEND)
        genuine_msg = self.stack.sink_message("learn 1")
        genuine = re.search(r"(?m)^X-Limristem-Reputation:.*$", genuine_msg).group(0)
        mac = re.search(r"mac=([0-9a-f]{32})", genuine).group(1)
        body = "From: <x@%s>\nSubject: appended\n\nHello.\n" % LEARN
        for trace, why in (
                (self.FORGED_TRACE % ("%032x" % 0xf9), "no mac"),
                (self.FORGED_TRACE % ("%032x" % 0xfa) + "; mac=" + "0" * 32,
                 "the mac does not verify"),
                # the genuine trace, its client changed
                (genuine.replace("ip=100.64.47.7", "ip=209.85.220.41"), "the mac does not verify"),
                # the genuine trace with a forged one on top: only the topmost counts
                (self.FORGED_TRACE % ("%032x" % 0xfb) + "\n" + genuine, "no mac")):
            r = self.mailadm("learn", "spam", stdin=trace + "\n" + body, check=False)
            self.assertEqual(r.returncode, 6, r.stdout + r.stderr)
            self.assertIn(why, r.stderr)
            self.assertIn("nothing learned", r.stderr)
        self.assertEqual((self.counters("dkim_domain", "gmail.com"),
                          self.counters("ip", "209.85.220.41")), before)
        self.assertEqual(before, ("", ""))
        # the genuine one on top of a forged one is learned (once, by its id)
        r = self.mailadm("learn", "spam", stdin=genuine + "\n" + (self.FORGED_TRACE % ("%032x" % 0xfc))
                         + "\n" + body, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(mac, genuine)

    def test_7c_a_quarantined_spoof_counts_as_spam(self):
        """A spoof DMARC quarantines once counted as good for its client."""
        client = "100.64.40.21"         # exempt network: no greylisting
        self.assert_queued(self.send(client, "ceo@" + QUARANTINE, "u71@" + DOMAIN, "spoof"))
        self.assertRegex(self.log(), r"from=<ceo@%s> .* dmarc=fail/quarantine .*: quarantine"
                         % re.escape(QUARANTINE))
        fields = self.counters("ip", client).split("\n")
        counts = dict(zip(fields[0::2], fields[1::2]))
        self.assertEqual(float(counts.get("bad", 0)), 1.0, counts)
        self.assertEqual(float(counts.get("good", 0)), 0.0, counts)

    def test_8_block_refuses_at_once(self):
        self.assert_queued(self.send("100.64.40.8", "ok@" + NOSPF, "u8@" + DOMAIN, "before block"))
        self.mailadm("reputation", "set", "ip", "100.64.40.8", "block", "--reason", "test")
        harness.wait_for(lambda: "550 5.7.1 Refused by local policy" in self.send(
            "100.64.40.8", "ok@" + NOSPF, "u8@" + DOMAIN, "after block"), 5, "the block")
        self.assertIn("client localhost[100.64.40.8] refused: blocked by the operator", self.log())
        self.mailadm("reputation", "set", "ip", "100.64.40.8", "none")

    def test_9_redis_down_mail_flows_and_greylisting_resumes(self):
        sender, rcpt = "flow@" + NOSPF, "u9@" + DOMAIN
        self.assert_deferred(self.send("100.64.9.7", sender, rcpt, "flow 0"))
        self.stack.advance_clock(DELAY + 1)
        try:
            for n in range(1, 9):
                if n == 4:
                    self.stack.stop_redis(kill=True)
                out = self.send("100.64.9.7", sender, rcpt, "flow %d" % n)
                self.assert_queued(out)
            # a new triplet is not deferred either: no state, no greylisting
            self.assert_queued(self.send("100.64.9.8", "new@" + NOSPF, rcpt, "flow new"))
        finally:
            self.stack.start_redis()
        harness.wait_for(lambda: "Greylisted" in self.send("100.64.9.9", "again@" + NOSPF, rcpt,
                                                           "flow back"), 10, "greylisting back")
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port) as r:
            metrics = r.read().decode()
        self.assertRegex(metrics, r"milter_state_unavailable_total [1-9]")
        self.assertRegex(metrics, r'milter_greylist_total\{result="unavailable"\} [1-9]')
        self.assertRegex(self.log(), r"Redis unavailable: \w+ skipped, mail flows")


if __name__ == "__main__":
    unittest.main()
