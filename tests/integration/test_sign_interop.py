"""DKIM signing (mailauth/dkim_sign.c, through lr-dkimsign) checked by three
independent verifiers: dkimpy's dkimverify (python3-dkim), Mail::DKIM's
Verifier (libmail-dkim-perl) and
OpenDKIM's opendkim-testmsg (libopendkim 2.11, which verifies both
rsa-sha256 and ed25519-sha256 though it signs only rsa-sha1).

Mail::DKIM 1.20230212 (Debian 12) verifies no Ed25519: it must call
those signatures "invalid (unsupported algorithm)", so the day it learns
the algorithm this test says so.

Messages are signed with RSA-2048 and Ed25519 keys, relaxed and simple
canonicalization, one key or both (RFC 8463 dual signing); every signature
must pass with every verifier, and fail once the body, a signed header
field, or an added From/Subject (oversigned) changes the message.

Keys are published by a real nsd of the harness. The verifiers take their
DNS from /etc/resolv.conf on port 53 only, so nsd serves the zone on
127.0.1.54:53 (a stack of this test's own, not the shared one whose port
other tests rely on) and each verifier runs in a mount namespace of its
own (unshare --mount) where /etc/resolv.conf names that address. Runs as
root, like the rest of the integration tests."""

import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from test_dkim_interop import make_ed25519, make_rsa

DOMAIN = "sign.limristem.example"
DNS_ADDRESS = "127.0.1.54"

MESSAGE = (b"Received: from client.example.net by mx.sign.limristem.example\r\n"
           b"From: Alice <alice@sign.limristem.example>\r\n"
           b"To: Bob <bob@example.net>,\r\n"
           b"\tCarol <carol@example.net>\r\n"
           b"Subject: signing   interop\r\n"
           b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
           b"Message-ID: <sign-interop@sign.limristem.example>\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=us-ascii\r\n"
           b"\r\n"
           b"Hello Bob,\r\n"
           b"this  message is signed by limristem.  \r\n"
           b"\r\n"
           b"\r\n")

MAIL_DKIM = r"""
use strict;
use Mail::DKIM::Verifier;
use Net::DNS::Resolver;
my $dkim = Mail::DKIM::Verifier->new();
local $/;
my $msg = <STDIN>;
$dkim->PRINT($msg);
$dkim->CLOSE;
foreach my $sig ($dkim->signatures) {
    printf "%s %s %s\n", $sig->get_tag("a"), $sig->result, $sig->result_detail;
}
"""


def txt(value):
    return " ".join('"%s"' % value[i:i + 250] for i in range(0, len(value), 250))


class SignInteropTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        main = harness.stack()
        cls.tool = os.path.join(main.builddir, "tests", "integration", "lr-dkimsign")
        if not os.access(cls.tool, os.X_OK):
            raise RuntimeError("lr-dkimsign is not built (make check-integration builds it)")
        cls.dir = tempfile.mkdtemp(prefix="lr-sign-")
        _, rsa_txt = make_rsa(cls.dir, "rsa")
        _, ed_txt = make_ed25519(cls.dir, "ed")
        cls.rsa = os.path.join(cls.dir, "rsa.pem")   # PKCS#1
        cls.ed = os.path.join(cls.dir, "ed.pem")     # PKCS#8
        for path in (cls.rsa, cls.ed):
            os.chmod(path, 0o640)
        cls.resolv = os.path.join(cls.dir, "resolv.conf")
        with open(cls.resolv, "w") as f:
            # no "options" line: Mail::DKIM's resolver then looks up "options"
            f.write("nameserver %s\n" % DNS_ADDRESS)
        cls.stack = harness.Stack(main.builddir, main.srcdir)
        cls.stack.start_dns({DOMAIN: "rsa._domainkey IN TXT %s\ned._domainkey IN TXT %s\n"
                                     % (txt(rsa_txt), txt(ed_txt))}, address=DNS_ADDRESS, port=53)

    @classmethod
    def tearDownClass(cls):
        # Only our nsd: Stack.teardown() would also stop every child of this
        # process, the runner's shared MariaDB and Redis included.
        for name in list(cls.stack.services):
            cls.stack.services.pop(name).stop()
        shutil.rmtree(cls.stack.dir, ignore_errors=True)
        shutil.rmtree(cls.dir, ignore_errors=True)

    # --- signing and verifying --------------------------------------------

    def sign(self, msg, keys, *options):
        argv = [self.tool, "--domain", DOMAIN] + list(options)
        for selector in keys:
            argv += ["--key", "%s:%s" % (selector, self.rsa if selector == "rsa" else self.ed)]
        r = subprocess.run(argv, input=msg, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return r.stdout

    def run_in_dns(self, argv, msg):
        """argv in a mount namespace where /etc/resolv.conf names our nsd."""
        shell = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
        return subprocess.run(["unshare", "--mount", "sh", "-c", shell, self.resolv] + argv,
                              input=msg, capture_output=True, timeout=30)

    def dkimpy(self, msg, count):
        verdicts = []
        for i in range(count):
            r = self.run_in_dns(["dkimverify", "--index", str(i)], msg)
            out, err = r.stdout.decode().strip(), r.stderr.decode()
            if r.returncode == 0 and out == "signature ok":
                verdicts.append("pass")
            else:  # a bad body hash is a traceback, not the message
                self.assertTrue(out == "signature verification failed" or
                                "dkim.ValidationError: body hash mismatch" in err, out + err)
                verdicts.append("fail")
        return verdicts

    def mail_dkim(self, msg, count, want):
        """Mail::DKIM's verdicts; for Ed25519 signatures, which it cannot
        verify, want itself when it says so."""
        r = self.run_in_dns(["perl", "-e", MAIL_DKIM], msg)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        lines = r.stdout.decode().splitlines()
        self.assertEqual(len(lines), count, lines)
        verdicts = []
        for line in lines:
            alg, result = line.split()[:2]
            if alg == "ed25519-sha256":
                self.assertIn("invalid invalid (unsupported algorithm", line)
                result = want
            verdicts.append(result)
        return verdicts, lines

    def opendkim(self, msg):
        """opendkim-testmsg verifies every signature; it prints nothing and
        exits 0 when all pass."""
        r = self.run_in_dns(["opendkim-testmsg"], msg)
        return "pass" if r.returncode == 0 and not r.stdout and not r.stderr else "fail", r

    def assert_verdicts(self, msg, count, want, what):
        self.assertEqual(self.dkimpy(msg, count), [want] * count, "dkimverify: " + what)
        verdicts, lines = self.mail_dkim(msg, count, want)
        self.assertEqual(verdicts, [want] * count, "Mail::DKIM: %s: %s" % (what, lines))
        verdict, r = self.opendkim(msg)
        self.assertEqual(verdict, want, "opendkim-testmsg: %s: rc=%d %s%s"
                         % (what, r.returncode, r.stdout.decode(), r.stderr.decode()))

    def check(self, keys, canon):
        signed = self.sign(MESSAGE, keys, "--canon", canon)
        self.assertEqual(signed.count(b"DKIM-Signature:"), len(keys))
        self.assertIn(("c=%s;" % canon).encode(), signed)
        n = len(keys)
        self.assert_verdicts(signed, n, "pass", "as signed")
        changes = [
            ("body", b"signed by limristem", b"signed by someone"),
            ("signed header", b"Subject: signing   interop", b"Subject: signing   interop!"),
            ("From added", b"Received: from", b"From: Mallory <m@example.com>\r\nReceived: from"),
            ("Subject added", b"MIME-Version: 1.0\r\n", b"MIME-Version: 1.0\r\nSubject: other\r\n"),
        ]
        for what, old, new in changes:
            changed = signed.replace(old, new, 1)
            self.assertNotEqual(changed, signed)
            self.assert_verdicts(changed, n, "fail", what)
        # an unsigned field added on top changes nothing
        self.assert_verdicts(b"X-Added: by a relay\r\n" + signed, n, "pass", "unsigned field added")

    # --- the cases --------------------------------------------------------

    def test_rsa(self):
        for canon in ("relaxed/relaxed", "simple/simple"):
            with self.subTest(canon=canon):
                self.check(["rsa"], canon)

    def test_ed25519(self):
        for canon in ("relaxed/relaxed", "simple/simple"):
            with self.subTest(canon=canon):
                self.check(["ed"], canon)

    def test_dual_signed(self):
        for canon in ("relaxed/relaxed", "simple/simple", "relaxed/simple"):
            with self.subTest(canon=canon):
                self.check(["ed", "rsa"], canon)

    def test_tags_and_empty_body(self):
        """i=, x= and an empty body, the corners a verifier might trip on."""
        msg = MESSAGE.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        signed = self.sign(msg, ["ed", "rsa"], "--identity", "alice@" + DOMAIN, "--expire", "3600")
        self.assertIn(b"x=", signed)
        self.assert_verdicts(signed, 2, "pass", "empty body, i= and x=")

    def test_refusals(self):
        """lr-dkimsign refuses a key readable by others, naming it."""
        loose = os.path.join(self.dir, "loose.pem")
        shutil.copy(self.rsa, loose)
        os.chmod(loose, 0o644)
        r = subprocess.run([self.tool, "--domain", DOMAIN, "--key", "rsa:" + loose], input=MESSAGE,
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(loose.encode() + b": readable by others", r.stderr)


if __name__ == "__main__":
    unittest.main()
