"""DKIM verification (mailauth/dkim_verify.c) against independent signers:
dkimpy's dkimsign (RSA and Ed25519, relaxed and simple canonicalization),
the OpenDKIM filter in test mode (opendkim -t; RSA-SHA256) and Mail::DKIM
(libmail-dkim-perl; RSA-SHA256, which folds inside h=, bh= and b=). Each
signed message must pass in lr-dkimverify, then fail once its body or a
signed header field changes. opendkim-testmsg (opendkim-tools) can only
sign with rsa-sha1, so its signature checks the RFC 8301 policy instead.

DkimInteropTest needs no service: lr-dkimverify reads key records from a
file. DkimThroughPostfixTest sends the same signers' messages through a
real Postfix to limristem-milter, keys published by nsd, and reads the
verdicts from the Authentication-Results the milter adds."""

import base64
import email
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

MAILDKIM_SIGN = r"""
use strict;
use Mail::DKIM::Signer;
use Mail::DKIM::TextWrap;
my ($selector, $domain, $key, $method) = @ARGV;
my $signer = Mail::DKIM::Signer->new(Algorithm => "rsa-sha256", Method => $method,
    Domain => $domain, Selector => $selector, KeyFile => $key);
binmode STDIN; binmode STDOUT;
local $/; my $msg = <STDIN>;
$signer->PRINT($msg); $signer->CLOSE;
print $signer->signature->as_string, "\015\012", $msg;
"""

MESSAGE = (b"From: Alice <alice@interop.example>\r\n"
           b"To: Bob <bob@example.net>\r\n"
           b"Subject: interop   check\r\n"
           b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
           b"Message-ID: <interop@interop.example>\r\n"
           b"\r\n"
           b"Hello Bob,\r\n"
           b"this  message is signed by someone else.\r\n"
           b"\r\n"
           b"\r\n")
DOMAIN = "interop.example"


def openssl(*args, data=None):
    r = subprocess.run(["openssl"] + list(args), input=data, capture_output=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), r.stderr.decode()))
    return r.stdout


def make_rsa(directory, name, bits=2048):
    """PKCS#1 PEM (dkimpy and OpenDKIM read it) and its key record."""
    path = os.path.join(directory, name + ".pem")
    openssl("genrsa", "-traditional", "-out", path, str(bits))
    der = openssl("rsa", "-in", path, "-pubout", "-outform", "DER")
    return path, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def make_ed25519(directory, name):
    """dkimpy takes the base64 of the 32-byte seed; the record holds the
    raw 32-byte public key (RFC 8463)."""
    pem = os.path.join(directory, name + ".pem")
    openssl("genpkey", "-algorithm", "ed25519", "-out", pem)
    seed = openssl("pkey", "-in", pem, "-outform", "DER")[-32:]
    pub = openssl("pkey", "-in", pem, "-pubout", "-outform", "DER")[-32:]
    path = os.path.join(directory, name + ".seed")
    with open(path, "w") as f:
        f.write(base64.b64encode(seed).decode())
    return path, "v=DKIM1; k=ed25519; p=" + base64.b64encode(pub).decode()


def dkimsign(msg, selector, key_path, signalg, hcanon, bcanon):
    r = subprocess.run(["dkimsign", "--signalg", signalg, "--hcanon", hcanon, "--bcanon", bcanon,
                        selector, DOMAIN, key_path], input=msg, capture_output=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("dkimsign: %s" % r.stderr.decode())
    return r.stdout


def opendkim_sign(msg, selector, key_path, canon, tmpdir):
    """Signs with the OpenDKIM filter itself (opendkim -t, test mode): its
    verbose output shows the DKIM-Signature field it would insert."""
    conf = os.path.join(tmpdir, "opendkim.conf")
    with open(conf, "w") as f:
        f.write("Mode s\nDomain %s\nSelector %s\nKeyFile %s\nCanonicalization %s\n"
                "SignatureAlgorithm rsa-sha256\nRequireSafeKeys false\nSyslog false\n"
                % (DOMAIN, selector, key_path, canon))
    path = os.path.join(tmpdir, "unsigned")
    with open(path, "wb") as f:
        f.write(msg)
    r = subprocess.run(["opendkim", "-x", conf, "-t", path, "-vv"], capture_output=True, timeout=30)
    m = re.search(rb"hname='DKIM-Signature' hvalue='([^']*)'", r.stdout)
    if r.returncode != 0 or m is None:
        raise RuntimeError("opendkim -t: %s%s" % (r.stdout.decode(), r.stderr.decode()))
    value = re.sub(rb"\r?\n", b"\r\n", m.group(1))
    return b"DKIM-Signature: " + value + b"\r\n" + msg


def maildkim_sign(msg, selector, key_path, canon):
    """Signs with Mail::DKIM::Signer (rsa-sha256, its default header list)."""
    r = subprocess.run(["perl", "-e", MAILDKIM_SIGN, selector, DOMAIN, key_path, canon], input=msg,
                       capture_output=True, timeout=30)
    if r.returncode != 0 or not r.stdout.startswith(b"DKIM-Signature:"):
        raise RuntimeError("Mail::DKIM: %s" % r.stderr.decode())
    return r.stdout


def opendkim_testmsg_sign(msg, selector, key_path, tmpdir):
    """opendkim-testmsg signs with rsa-sha1 and nothing else (2.11)."""
    r = subprocess.run(["opendkim-testmsg", "-C", "-d", DOMAIN, "-s", selector, "-k", key_path,
                        "-t", tmpdir], input=msg, capture_output=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("opendkim-testmsg: %s" % r.stderr.decode())
    return r.stdout


class DkimInteropTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="lr-dkim-")
        cls.tool = os.path.join(harness.stack().builddir, "tests", "integration", "lr-dkimverify")
        if not os.access(cls.tool, os.X_OK):
            raise RuntimeError("lr-dkimverify is not built (make check-integration builds it)")
        cls.rsa, rsa_txt = make_rsa(cls.dir, "rsa")
        cls.rsa4096, rsa4096_txt = make_rsa(cls.dir, "rsa4096", 4096)
        cls.ed, ed_txt = make_ed25519(cls.dir, "ed")
        cls.keys = os.path.join(cls.dir, "keys")
        with open(cls.keys, "w") as f:
            f.write("rsa._domainkey.%s %s\n" % (DOMAIN, rsa_txt))
            f.write("big._domainkey.%s %s\n" % (DOMAIN, rsa4096_txt))
            f.write("ed._domainkey.%s %s\n" % (DOMAIN, ed_txt))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def verify(self, msg, *options):
        path = os.path.join(self.dir, "msg")
        with open(path, "wb") as f:
            f.write(msg)
        r = subprocess.run([self.tool] + list(options) + [path, self.keys], capture_output=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        out = r.stdout.decode()
        sigs = [dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
                for line in out.splitlines() if line.startswith("sig=")]
        self.assertIn("signatures=%d" % len(sigs), out)
        return sigs

    def check_signed(self, signed, selector, algorithm):
        """signed passes; a changed body or Subject fails."""
        sigs = self.verify(signed)
        self.assertEqual(len(sigs), 1, sigs)
        self.assertEqual(sigs[0]["result"], "pass", sigs)
        self.assertEqual(sigs[0]["d"], DOMAIN)
        self.assertEqual(sigs[0]["s"], selector)
        self.assertEqual(sigs[0]["a"], algorithm)
        self.assertGreaterEqual(len(sigs[0]["b"]), 8)

        body = signed.replace(b"signed by someone else", b"signed by nobody else")
        self.assertNotEqual(body, signed)
        sigs = self.verify(body)
        self.assertEqual(sigs[0]["result"], "fail", sigs)
        self.assertIn("body hash", sigs[0]["reason"])

        header = signed.replace(b"Subject: interop   check", b"Subject: interop   checked")
        self.assertNotEqual(header, signed)
        sigs = self.verify(header)
        self.assertEqual(sigs[0]["result"], "fail", sigs)
        self.assertIn("did not verify", sigs[0]["reason"])

    def test_dkimpy_signatures(self):
        for alg, selector, key in (("rsa-sha256", "rsa", self.rsa), ("ed25519-sha256", "ed", self.ed)):
            for hcanon in ("relaxed", "simple"):
                for bcanon in ("relaxed", "simple"):
                    with self.subTest(alg=alg, c="%s/%s" % (hcanon, bcanon)):
                        signed = dkimsign(MESSAGE, selector, key, alg, hcanon, bcanon)
                        self.assertIn(("c=%s/%s" % (hcanon, bcanon)).encode(), signed)
                        self.check_signed(signed, selector, alg)

    def test_rsa_4096_key(self):
        signed = dkimsign(MESSAGE, "big", self.rsa4096, "rsa-sha256", "relaxed", "relaxed")
        sigs = self.verify(signed)
        self.assertEqual(sigs[0]["result"], "pass", sigs)
        self.assertEqual(sigs[0]["bits"], "4096")

    def test_dual_signed_and_sha1(self):
        """Ed25519 + RSA on one message (as our signer will do), then an
        rsa-sha1 signature on top: set aside by policy, the others pass."""
        signed = dkimsign(MESSAGE, "rsa", self.rsa, "rsa-sha256", "relaxed", "relaxed")
        signed = dkimsign(signed, "ed", self.ed, "ed25519-sha256", "relaxed", "relaxed")
        signed = dkimsign(signed, "rsa", self.rsa, "rsa-sha1", "relaxed", "relaxed")
        sigs = self.verify(signed)
        self.assertEqual([(s["a"], s["result"]) for s in sigs],
                         [("rsa-sha1", "policy"), ("ed25519-sha256", "pass"), ("rsa-sha256", "pass")])
        sigs = self.verify(signed, "--sha1-fail")
        self.assertEqual(sigs[0]["result"], "fail")
        sigs = self.verify(signed, "-m", "2")
        self.assertEqual([s["result"] for s in sigs], ["policy", "pass", "policy"])

    def test_opendkim_signatures(self):
        for canon in ("relaxed/relaxed", "simple/simple", "relaxed/simple"):
            with self.subTest(c=canon):
                signed = opendkim_sign(MESSAGE, "rsa", self.rsa, canon, self.dir)
                self.assertIn(("c=%s" % canon).encode(), signed)
                self.check_signed(signed, "rsa", "rsa-sha256")

    def test_maildkim_signatures(self):
        for canon in ("relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed"):
            with self.subTest(c=canon):
                signed = maildkim_sign(MESSAGE, "rsa", self.rsa, canon)
                self.assertIn(("c=%s" % canon).encode(), signed)
                self.check_signed(signed, "rsa", "rsa-sha256")

    def test_opendkim_testmsg_sha1(self):
        """Its rsa-sha1 signature is set aside (RFC 8301), never a pass."""
        signed = opendkim_testmsg_sign(MESSAGE, "rsa", self.rsa, self.dir)
        sigs = self.verify(signed)
        self.assertEqual([(s["a"], s["result"]) for s in sigs], [("rsa-sha1", "policy")])
        sigs = self.verify(signed, "--sha1-fail")
        self.assertEqual(sigs[0]["result"], "fail")


class DkimThroughPostfixTest(unittest.TestCase):
    """The signers' messages through Postfix to limristem-milter: each must
    get dkim=pass for its d= and selector, and dkim=fail once changed."""

    AUTHSERV_ID = "mx.interop.example"

    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        cls.dir = tempfile.mkdtemp(prefix="lr-dkim-postfix-")
        cls.rsa, rsa_txt = make_rsa(cls.dir, "rsa")
        cls.ed, ed_txt = make_ed25519(cls.dir, "ed")
        stack.zones[DOMAIN] = ("rsa._domainkey IN TXT %s\ned._domainkey IN TXT %s\n"
                               % (txt_strings(rsa_txt), txt_strings(ed_txt)))
        if "nsd" in stack.services:
            stack.stop_dns(kill=False)
        stack.start_dns()
        cls.sock = stack.path("milter-dkim-interop.sock")
        conf = stack.config({"milter": {
            "listen": ["unix:" + cls.sock], "user": "", "socket_group": "postfix",
            # not loopback, where the test's mail comes from: that would be outbound
            "internal_networks": ["10.99.0.0/16"],
            "authserv_id": cls.AUTHSERV_ID, "reputation": False}}, redis=False, database=False)
        stack.start_daemon("milter-dkim-interop", "milter/limristem-milter", conf,
                           lambda: os.path.exists(cls.sock))
        stack.start_postfix({"smtpd_milters": "unix:" + cls.sock, "milter_default_action": "tempfail",
                             "smtpd_recipient_restrictions": "permit_mynetworks, reject",
                             "local_header_rewrite_clients": ""})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop_postfix()
        cls.stack.services.pop("milter-dkim-interop").stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def deliver(self, signed):
        """Sends signed through Postfix; the delivered copy's verdicts, one
        "dkim=RESULT header.d=D header.s=S" per signature."""
        subject = re.search(rb"(?m)^Subject: (.*?)\r?$", signed).group(1).decode()
        r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % self.stack.postfix["smtp_port"],
                            "--from", "alice@" + DOMAIN, "--to", "b@limristem.example",
                            "--data", "-"], input=signed, capture_output=True, timeout=60)
        self.assertIn(b"<-  250 2.0.0 Ok: queued", r.stdout, r.stdout.decode())
        message = email.message_from_string(self.stack.sink_message(subject))
        ours = [" ".join(v.split()) for v in message.get_all("Authentication-Results", [])
                if v.strip().startswith(self.AUTHSERV_ID + ";")]
        self.assertEqual(len(ours), 1, message.get_all("Authentication-Results"))
        return re.findall(r"dkim=(\w+) [^;]*?header\.d=(\S+) header\.s=(\S+)", ours[0])

    def check(self, name, sign, selector):
        msg = MESSAGE.replace(b"Subject: interop   check", b"Subject: through postfix " + name.encode())
        signed = sign(msg)
        self.assertEqual(self.deliver(signed), [("pass", DOMAIN, selector)])
        changed = sign(msg.replace(b"Subject: through postfix", b"Subject: changed"))
        changed = changed.replace(b"signed by someone else", b"signed by nobody else")
        self.assertEqual(self.deliver(changed), [("fail", DOMAIN, selector)])

    def test_dkimpy(self):
        for alg, selector, key in (("rsa-sha256", "rsa", self.rsa), ("ed25519-sha256", "ed", self.ed)):
            for canon in (("relaxed", "relaxed"), ("simple", "simple")):
                name = "dkimpy %s %s-%s" % (alg, canon[0], canon[1])
                with self.subTest(name):
                    self.check(name, lambda m: dkimsign(m, selector, key, alg, *canon), selector)

    def test_opendkim(self):
        for canon in ("relaxed/relaxed", "simple/simple"):
            with self.subTest(canon):
                self.check("opendkim " + canon, lambda m: opendkim_sign(m, "rsa", self.rsa, canon,
                                                                       self.dir), "rsa")

    def test_maildkim(self):
        for canon in ("relaxed/relaxed", "simple/simple"):
            with self.subTest(canon):
                self.check("Mail::DKIM " + canon, lambda m: maildkim_sign(m, "rsa", self.rsa, canon),
                           "rsa")


def txt_strings(value):
    """A TXT value in zone-file syntax, in strings of at most 255 bytes."""
    return " ".join('"%s"' % value[i:i + 250] for i in range(0, len(value), 250))


if __name__ == "__main__":
    unittest.main()
