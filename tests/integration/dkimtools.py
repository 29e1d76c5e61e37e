"""dkimtools.py - independent DKIM signing and verification for the tests.

Signing runs Debian's dkimsign (python3-dkim); verification runs dkimpy's
verifier, the code behind dkimverify, with its DNS lookups sent to the
harness's nsd instead of the system resolver.
"""

import base64
import contextlib
import os
import re
import subprocess
import tempfile
import time

import dkim
import dns.message
import dns.query
import dns.rdatatype

MESSAGE = (b"From: Alice <alice@%s>\r\nTo: bob@example.net\r\nSubject: key check\r\n"
           b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <k@%s>\r\n\r\n"
           b"Hello Bob,\r\nthis message is signed.\r\n")


def message(domain):
    return MESSAGE % (domain.encode(), domain.encode())


def dkimpy_key_file(key_path, ed25519, directory):
    """dkimpy reads RSA keys as PKCS#1 PEM (as mailadm writes them) and
    Ed25519 keys as the base64 of the 32-byte seed: convert the PKCS#8 PEM."""
    if not ed25519:
        return key_path
    pem = open(key_path).read()
    der = base64.b64decode("".join(l for l in pem.splitlines() if not l.startswith("-----")))
    seed_file = os.path.join(directory, os.path.basename(key_path) + ".seed")
    with open(seed_file, "w") as f:
        f.write(base64.b64encode(der[-32:]).decode())
    return seed_file


def sign(msg, selector, domain, key_path, ed25519, directory):
    key = dkimpy_key_file(key_path, ed25519, directory)
    r = subprocess.run(["dkimsign", "--signalg", "ed25519-sha256" if ed25519 else "rsa-sha256",
                        selector, domain, key], input=msg, capture_output=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("dkimsign failed: %s" % r.stderr.decode())
    return r.stdout


def txt_lookup(port):
    """A dkimpy dnsfunc that asks the nsd on 127.0.0.1:port."""
    def lookup(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        query = dns.message.make_query(name, dns.rdatatype.TXT)
        response = dns.query.udp(query, "127.0.0.1", port=port, timeout=timeout)
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b"".join(rrset[0].strings)
        return None
    return lookup


class _ShiftedTime:
    """Stands in for the time module inside dkimpy: the clock of the daemons
    whose signatures it checks (t= in the future is refused after 10 h)."""

    def __init__(self, offset):
        self.offset = offset

    def time(self):
        return time.time() + self.offset

    def __getattr__(self, name):
        return getattr(time, name)


@contextlib.contextmanager
def clock(offset):
    """dkimpy's clock moved by offset seconds while the block runs."""
    saved = dkim.time
    dkim.time = _ShiftedTime(offset)
    try:
        yield
    finally:
        dkim.time = saved


def verify(msg, port, offset=0):
    """dkimpy's verdict for each DKIM-Signature of msg, in order; like the
    dkimverify script, a failed check (bad body hash, say) is False. offset:
    how far the signer's clock is ahead (Stack.clock_offset())."""
    count = len(re.findall(rb"^DKIM-Signature:", msg, re.M | re.I))
    d = dkim.DKIM(msg)
    verdicts = []
    with clock(offset):
        for i in range(count):
            try:
                verdicts.append(bool(d.verify(idx=i, dnsfunc=txt_lookup(port))))
            except dkim.DKIMException:
                verdicts.append(False)
    return verdicts


def arc_verify(msg, port, offset=0):
    """dkimpy's ARC verdict (cv, results, why), with the sealer's clock."""
    with clock(offset):
        return dkim.arc_verify(msg, dnsfunc=txt_lookup(port))


def zone_lines(mailadm_dkim_dns_output):
    """The record lines of `mailadm dkim dns` output (comments dropped)."""
    return "\n".join(l for l in mailadm_dkim_dns_output.splitlines() if l and not l.startswith(";"))
