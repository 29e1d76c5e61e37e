"""ARC sealing (mailauth/arc_seal.c) against independent verifiers and
signers: dkimpy (python3-dkim: the code behind arcverify, and the arcsign
tool) and Mail::DKIM::ARC::Verifier (libmail-dkim-perl). Keys are
published in the harness's nsd; lr-arcseal validates the chain it is given
through common/dns against that nsd, then seals.

  - a message we seal (i=1) passes in dkimpy, Mail::DKIM and our verifier;
  - ours, then dkimpy's arcsign, then ours again (three instances) passes
    in all three, with cv=pass on our second seal;
  - a body changed after our seal fails in all three, and our next seal
    says cv=fail;
  - an Ed25519 seal passes in our verifier; dkimpy and Mail::DKIM refuse
    the algorithm in ARC (RFC 8617 names rsa-sha256 only)."""

import os
import subprocess
import tempfile
import unittest

import dkim

import dkimtools
import harness
from test_dkim_interop import make_ed25519, make_rsa

OURS = "seal.example"
THEIRS = "list.example"
MESSAGE = (b"From: Alice <alice@origin.example>\r\n"
           b"To: list@list.example\r\n"
           b"Subject: forwarded   through\r\n"
           b"\tthree hops\r\n"
           b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
           b"Message-ID: <arc-interop@origin.example>\r\n"
           b"\r\n"
           b"Hello list,\r\n"
           b"this  message is forwarded.\r\n"
           b"\r\n")

PERL_VERIFY = r"""
use strict; use warnings;
use Mail::DKIM::ARC::Verifier; use Net::DNS::Resolver;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => ['127.0.0.1'],
    port => $ARGV[0], recurse => 0, tcp_timeout => 5, udp_timeout => 5));
my $v = Mail::DKIM::ARC::Verifier->new(Strict => 1);
local $/; my $msg = <STDIN>; $msg =~ s/\r?\n/\r\n/g;
$v->PRINT($msg); $v->CLOSE;
print $v->result, "\n", ($v->result_detail // ''), "\n";
"""


def txt_record(name, value):
    """A zone-file TXT line, the value in strings of at most 255 octets."""
    parts = [value[i:i + 255] for i in range(0, len(value), 255)]
    return "%s IN TXT %s" % (name, " ".join('"%s"' % p for p in parts))


class ArcInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        cls.tmp = tempfile.mkdtemp(prefix="lr-arc-", dir=stack.dir)
        cls.rsa, rsa_txt = make_rsa(cls.tmp, "ours")
        cls.theirs, theirs_txt = make_rsa(cls.tmp, "theirs")
        cls.ed_seed, ed_txt = make_ed25519(cls.tmp, "ed")
        cls.ed = os.path.join(cls.tmp, "ed.pem")
        stack.zones[OURS] = "\n".join([txt_record("rsa._domainkey", rsa_txt),
                                       txt_record("ed._domainkey", ed_txt)]) + "\n"
        stack.zones[THEIRS] = txt_record("arc._domainkey", theirs_txt) + "\n"
        if "nsd" in stack.services:
            stack.stop_dns(kill=False)
        stack.start_dns()
        cls.upstream = "%s:%d" % (stack.dns_address, stack.dns_port)
        cls.tool = os.path.join(stack.builddir, "tests", "integration", "lr-arcseal")
        if not os.access(cls.tool, os.X_OK):
            raise RuntimeError("lr-arcseal is not built (make check-integration builds it)")

    # --- the three verifiers and two sealers -------------------------------

    def lr(self, msg, *args):
        return subprocess.run([self.tool, "--dns", self.upstream] + list(args), input=msg,
                              capture_output=True, timeout=60)

    def ours_seal(self, msg, selector="rsa", key=None, alg="rsa-sha256", want_rc=0):
        r = self.lr(msg, "--domain", OURS, "--selector", selector, "--key", key or self.rsa,
                    "--alg", alg, "--authserv-id", "mx." + OURS, "--time", "1790000000")
        self.assertEqual(r.returncode, want_rc, r.stderr.decode())
        return r.stdout, r.stderr.decode()

    def ours_verify(self, msg):
        r = self.lr(msg, "--verify-only")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return r.stdout.decode().split()[0].split("=")[1], r.stdout.decode()

    def theirs_seal(self, msg, cv):
        """arcsign takes cv= from the Authentication-Results of its
        authserv-id: the validation a hop in between did."""
        msg = ("Authentication-Results: mx.%s; arc=%s\r\n" % (THEIRS, cv)).encode() + msg
        r = subprocess.run(["arcsign", "arc", THEIRS, self.theirs, "mx." + THEIRS], input=msg,
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertTrue(r.stdout.startswith(b"ARC-Seal"), r.stdout)
        return r.stdout

    def dkimpy_verify(self, msg):
        cv, results, why = dkim.arc_verify(msg, dnsfunc=dkimtools.txt_lookup(self.stack.dns_port))
        return (cv or b"(none)").decode(), "%s %s" % (why, results)

    def perl_verify(self, msg):
        r = subprocess.run(["perl", "-e", PERL_VERIFY, str(self.stack.dns_port)], input=msg,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        lines = r.stdout.decode().split("\n")
        return lines[0], r.stdout.decode()

    def assert_all(self, msg, want):
        for name, verify in (("ours", self.ours_verify), ("dkimpy", self.dkimpy_verify),
                             ("Mail::DKIM", self.perl_verify)):
            got, detail = verify(msg)
            self.assertEqual(got, want, "%s: %s\n%s" % (name, detail, msg.decode()))

    # --- the cases ------------------------------------------------------------

    def test_arc_interop_one_seal(self):
        sealed, _ = self.ours_seal(MESSAGE)
        self.assertTrue(sealed.startswith(b"ARC-Seal: a=rsa-sha256;"))
        self.assertIn(b"cv=none", sealed)
        self.assert_all(sealed, "pass")

    def test_arc_interop_three_instances(self):
        one, _ = self.ours_seal(MESSAGE)
        two = self.theirs_seal(one, "pass")
        self.assert_all(two, "pass")
        three, log = self.ours_seal(two)
        self.assertIn("arc=pass", log)
        self.assertIn(b"i=3", three.split(b"ARC-Message-Signature")[0])
        self.assertIn(b"cv=pass", three.split(b"ARC-Message-Signature")[0])
        self.assert_all(three, "pass")

    def test_arc_interop_body_change_fails(self):
        one, _ = self.ours_seal(MESSAGE)
        changed = one.replace(b"Hello list", b"Hello LIST")
        self.assert_all(changed, "fail")
        two, log = self.ours_seal(changed)
        self.assertIn("arc=fail", log)
        self.assertIn(b"cv=fail", two.split(b"ARC-Message-Signature")[0])
        for verify in (self.ours_verify, self.perl_verify):
            got, detail = verify(two)
            self.assertEqual(got, "fail", detail)
        # dkimpy gives no cv at all once the newest seal says cv=fail
        got, detail = self.dkimpy_verify(two)
        self.assertIn("reported failure, the chain is terminated", detail)
        # RFC 8617 5.1 step 1: nobody seals after cv=fail
        _, log = self.ours_seal(two, want_rc=1)
        self.assertIn("cv=fail", log)

    def test_arc_interop_ed25519(self):
        sealed, _ = self.ours_seal(MESSAGE, selector="ed", key=self.ed, alg="ed25519-sha256")
        self.assertIn(b"a=ed25519-sha256", sealed)
        got, detail = self.ours_verify(sealed)
        self.assertEqual(got, "pass", detail)
        # RFC 8617 names rsa-sha256 only: neither independent verifier
        # takes ed25519-sha256 in ARC (Debian 12's dkimpy 1.1.4, Mail::DKIM
        # 1.20230212), so an operator should seal with RSA
        got, detail = self.dkimpy_verify(sealed)
        self.assertIn("unknown signature algorithm", detail)
        got, detail = self.perl_verify(sealed)
        self.assertIn("unsupported algorithm ed25519-sha256", detail)


if __name__ == "__main__":
    unittest.main()
