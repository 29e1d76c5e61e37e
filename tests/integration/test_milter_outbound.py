"""limristem-milter's outbound half with a real Postfix: mail submitted
with SMTP AUTH (Dovecot as Postfix's SASL server) leaves with an RSA and
an Ed25519 DKIM signature that python3-dkim verifies; a login may only
send as its own domain; a broken key tempfails; inbound mail to a
forwarded address leaves with an ARC set that python3-dkim verifies.

Keys and forwarded addresses come from the configuration here (no
database); tests/integration/test_milter_rotation.py does the same with
mailadm and the database."""

import os
import re
import shutil
import subprocess
import unittest

import dkim

import dkimtools
import harness
from test_dkim_interop import make_ed25519, make_rsa
from test_milter import txt_strings

MILTER = "milter/limristem-milter"
OUT = "out.limristem.example"          # our domain: RSA r1 and Ed25519 e1
BROKEN = "broken.limristem.example"    # its key file is readable by others
SEALER = "seal.limristem.example"      # our ARC sealing key, selector arc
SENDER = "sender.limristem.example"    # an outside domain with SPF for 127.0.0.1
FORWARDED = "fwd@limristem.example"    # redirected outside
AUTHSERV_ID = "mx.limristem.example"


def field_values(msg, name):
    """Every value of the field name in msg (bytes, CRLF), unfolded."""
    values = re.findall(rb"(?mi)^" + name.encode() + rb":([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", msg)
    return [b" ".join(v.split()) for v in values]


class OutboundTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        d = stack.path("outbound-keys")
        os.makedirs(d, exist_ok=True)
        rsa, rsa_record = make_rsa(d, "r1")
        _, ed_record = make_ed25519(d, "e1")
        ed = os.path.join(d, "e1.pem")
        broken, broken_record = make_rsa(d, "b1")
        seal, seal_record = make_rsa(d, "arc")
        for path in (rsa, ed, seal):
            os.chmod(path, 0o640)
        os.chmod(broken, 0o644)
        stack.zones[OUT] = ("r1._domainkey IN TXT %s\ne1._domainkey IN TXT %s\n"
                            % (txt_strings(rsa_record), txt_strings(ed_record)))
        stack.zones[BROKEN] = "b1._domainkey IN TXT %s\n" % txt_strings(broken_record)
        stack.zones[SEALER] = "arc._domainkey IN TXT %s\n" % txt_strings(seal_record)
        stack.zones[SENDER] = ('@ IN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
                               '_dmarc IN TXT "v=DMARC1; p=reject"\n')
        if "nsd" in stack.services:
            stack.stop_dns(kill=False)
        stack.start_dns()

        cls.sock = stack.path("milter-out.sock")
        conf = stack.config({"milter": {
            "listen": ["unix:" + cls.sock], "user": "", "socket_group": "postfix",
            "internal_networks": ["10.99.0.0/16"], "authserv_id": AUTHSERV_ID,
            "signing_keys": ["%s r1 %s" % (OUT, rsa), "%s e1 %s" % (OUT, ed),
                             "%s b1 %s" % (BROKEN, broken)],
            "forwarded_recipients": [FORWARDED],
            "arc_seal_domain": SEALER, "arc_seal_selector": "arc", "arc_seal_key": seal}},
            redis=False, database=False)
        stack.start_daemon("milter", MILTER, conf, lambda: os.path.exists(cls.sock))
        sasl = stack.start_dovecot_sasl({"alice@" + OUT: "alice-pw", "bob@" + BROKEN: "bob-pw",
                                         "mallory@other.example": "mallory-pw"})
        main_cf = {"smtpd_milters": "unix:" + cls.sock, "milter_default_action": "tempfail",
                   "smtpd_recipient_restrictions": "permit_mynetworks, reject",
                   "local_header_rewrite_clients": ""}
        main_cf.update(sasl)
        stack.start_postfix(main_cf)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop_postfix()
        for name in ("milter", "dovecot"):
            cls.stack.services.pop(name).stop()

    def swaks(self, subject, sender, rcpt, login=None, from_header=None):
        argv = ["swaks", "--server", "127.0.0.1:%d" % self.stack.postfix["smtp_port"],
                "--from", sender, "--to", rcpt, "--header", "Subject: " + subject,
                "--h-From", from_header or sender, "--body", "Hello,\nsee you.\n"]
        if login:
            argv += ["--auth", "PLAIN", "--auth-user", login[0], "--auth-password", login[1]]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout

    def delivered(self, subject):
        return self.stack.sink_message(subject).replace("\r\n", "\n").replace("\n", "\r\n").encode()

    def test_authenticated_mail_is_dual_signed(self):
        out = self.swaks("signed twice", "alice@" + OUT, "bob@elsewhere.example",
                         login=("alice@" + OUT, "alice-pw"))
        self.assertIn("<-  250 2.0.0 Ok: queued", out)
        msg = self.delivered("signed twice")
        sigs = field_values(msg, "DKIM-Signature")
        self.assertEqual(len(sigs), 2, msg)
        algorithms = sorted(re.search(rb"a=([a-z0-9-]+)", s).group(1) for s in sigs)
        self.assertEqual(algorithms, [b"ed25519-sha256", b"rsa-sha256"])
        for s in sigs:
            self.assertIn(b"d=" + OUT.encode(), s)
            self.assertNotRegex(s, rb"\bl=")
        self.assertEqual(dkimtools.verify(msg, self.stack.dns_port, self.stack.clock_offset()), [True, True])
        self.assertRegex(self.stack.daemon_log("milter"),
                         r"auth=alice@%s outbound header\.from=%s .*dkim=signed\(%s,2\)"
                         % (re.escape(OUT), re.escape(OUT), re.escape(OUT)))

    def test_subdomain_is_signed_by_its_parent(self):
        out = self.swaks("from a subdomain", "news@lists." + OUT, "bob@elsewhere.example",
                         login=("alice@" + OUT, "alice-pw"))
        self.assertIn("<-  250 2.0.0 Ok: queued", out)
        msg = self.delivered("from a subdomain")
        self.assertEqual(dkimtools.verify(msg, self.stack.dns_port, self.stack.clock_offset()), [True, True])

    def test_login_may_not_send_as_another_domain(self):
        out = self.swaks("not yours", "mallory@other.example", "bob@elsewhere.example",
                         login=("mallory@other.example", "mallory-pw"),
                         from_header="CEO <ceo@%s>" % OUT)
        self.assertIn("<** 550 5.7.1 Message refused: mallory@other.example may not send mail "
                      "as " + OUT, out)

    def test_visible_from_must_be_one_mailbox(self):
        """The old parser judged the last address of a malformed From: a
        login of out. signed mail that readers show from another domain."""
        for n, value in enumerate(("ceo@other.example alice@%s" % OUT,
                                   "ceo@other.example@%s" % OUT,
                                   "ceo@other.example (x) <alice@%s>" % OUT)):
            out = self.swaks("visible from %d" % n, "alice@" + OUT, "bob@elsewhere.example",
                             login=("alice@" + OUT, "alice-pw"), from_header=value)
            self.assertIn("<** 550 5.7.1 Message refused: the From header field must name "
                          "exactly one mailbox", out)

    def test_unusable_key_tempfails(self):
        out = self.swaks("broken key", "bob@" + BROKEN, "carol@elsewhere.example",
                         login=("bob@" + BROKEN, "bob-pw"))
        self.assertIn("<** 451 4.3.0", out)
        self.assertIn("readable by others", self.stack.daemon_log("milter"))

    def test_forwarded_mail_is_sealed(self):
        out = self.swaks("to be forwarded", "someone@" + SENDER, FORWARDED)
        self.assertIn("<-  250 2.0.0 Ok: queued", out)
        msg = self.delivered("to be forwarded")
        seals = field_values(msg, "ARC-Seal")
        self.assertEqual(len(seals), 1)
        self.assertRegex(seals[0], rb"\bi=1;.*\bs=arc\b")
        self.assertRegex(seals[0], rb"\bcv=none;")
        cv, results, why = dkimtools.arc_verify(msg, self.stack.dns_port, self.stack.clock_offset())
        self.assertEqual(cv, dkim.CV_Pass, why)
        aar = field_values(msg, "ARC-Authentication-Results")[0]
        self.assertIn(b"i=1; " + AUTHSERV_ID.encode(), aar)
        self.assertIn(b"spf=pass", aar)
        self.assertIn("arc=none,sealed(i=1)", self.stack.daemon_log("milter"))

    def test_mail_not_forwarded_is_not_sealed(self):
        self.swaks("stays here", "someone@" + SENDER, "local@limristem.example")
        self.assertNotIn("ARC-Seal:", self.stack.sink_message("stays here"))


if __name__ == "__main__":
    unittest.main()
