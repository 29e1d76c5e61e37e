"""limristem-milter with its keys and forwarded addresses in the database,
managed with mailadm, through a real Postfix:

  - a DKIM key rotation A -> B (mailadm dkim rotate, publish, activate)
    while mail flows leaves no message unsigned and every one verifiable;
  - mail to an address redirected outside (mailadm redirect add, Postfix's
    virtual_alias_maps from sql/postfix) leaves for the external address
    with an ARC set python3-dkim verifies."""

import os
import re
import subprocess
import sys
import threading
import time
import unittest

import dkim

import dkimtools
import harness
from test_dkim_interop import make_rsa
from test_milter import txt_strings
from test_milter_outbound import field_values

MILTER = "milter/limristem-milter"
DOMAIN = "rot.limristem.example"
SEALER = "seal.rot.limristem.example"
SENDER = "sender.rot.limristem.example"
AUTHSERV_ID = "mx.rot.limristem.example"


class RotationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        stack.fresh_database()
        cls.key_dir = stack.path("rotation-keys")
        seal_key, seal_record = make_rsa(stack.dir, "rotation-seal")
        stack.zones[SEALER] = "arc._domainkey IN TXT %s\n" % txt_strings(seal_record)
        stack.zones[SENDER] = '@ IN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
        stack.zones[DOMAIN] = "@ IN MX 10 mx\n"
        if "nsd" in stack.services:
            stack.stop_dns(kill=False)
        stack.start_dns()
        cls.mailadm_conf = stack.config({"mailadm": {
            "dkim_key_dir": cls.key_dir, "dkim_key_group": "postfix", "mx_host": "mx." + DOMAIN}},
            redis=False)
        cls.ok("domain", "add", DOMAIN)
        cls.ok("redirect", "add", "fwd@" + DOMAIN, "someone@elsewhere.example")
        cls.ok("dkim", "keygen", DOMAIN, "--selector", "a")
        cls.publish()
        cls.ok("dkim", "activate", DOMAIN, "a")

        cls.sock = stack.path("milter-rot.sock")
        conf = stack.config({"milter": {
            "listen": ["unix:" + cls.sock], "user": "", "socket_group": "postfix",
            "internal_networks": ["10.99.0.0/16"], "authserv_id": AUTHSERV_ID,
            "change_check": "200ms", "arc_seal_domain": SEALER, "arc_seal_selector": "arc",
            "arc_seal_key": seal_key}}, redis=False)
        stack.start_daemon("milter", MILTER, conf, lambda: os.path.exists(cls.sock))
        main_cf = {"smtpd_milters": "unix:" + cls.sock, "milter_default_action": "tempfail",
                   "smtpd_recipient_restrictions": "permit_mynetworks, reject",
                   "local_header_rewrite_clients": "",
                   "virtual_alias_maps": stack.postfix_sql_map("virtual_aliases.cf")}
        main_cf.update(stack.start_dovecot_sasl({"alice@" + DOMAIN: "alice-pw"}))
        stack.start_postfix(main_cf)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop_postfix()
        for name in ("milter", "dovecot"):
            cls.stack.services.pop(name).stop()

    @classmethod
    def ok(cls, *args):
        argv = [os.path.join(cls.stack.builddir, "mailadm", "mailadm"), "-c", cls.mailadm_conf]
        r = subprocess.run(argv + list(args), capture_output=True, text=True, timeout=60,
                           start_new_session=True)
        if r.returncode != 0:
            raise AssertionError("mailadm %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r.stdout

    @classmethod
    def publish(cls):
        """Serves exactly what `mailadm dkim dns` prints."""
        lines = dkimtools.zone_lines(cls.ok("dkim", "dns", DOMAIN))
        cls.stack.set_zone(DOMAIN, "@ IN MX 10 mx\n" + lines)

    def send(self, subject):
        argv = ["swaks", "--server", "127.0.0.1:%d" % self.stack.postfix["smtp_port"],
                "--from", "alice@" + DOMAIN, "--to", "bob@elsewhere.example",
                "--header", "Subject: " + subject, "--body", "Hello.\n",
                "--auth", "PLAIN", "--auth-user", "alice@" + DOMAIN, "--auth-password", "alice-pw"]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout

    def test_rotation_while_mail_flows(self):
        subjects, refused = [], []
        stop = threading.Event()

        def flow():
            while not stop.is_set():
                subject = "rotation %d" % len(subjects)
                if "<-  250 2.0.0 Ok: queued" in self.send(subject):
                    subjects.append(subject)
                else:
                    refused.append(subject)

        sender = threading.Thread(target=flow)
        sender.start()
        try:
            time.sleep(1)
            b = self.ok("dkim", "rotate", DOMAIN).split("key ")[1].split()[0]
            time.sleep(1)
            self.publish()
            time.sleep(1)
            self.ok("dkim", "activate", DOMAIN, b)
            time.sleep(2)
        finally:
            stop.set()
            sender.join()
        self.assertEqual(refused, [])
        selectors = []
        for subject in subjects:
            msg = self.stack.sink_message(subject).replace("\r\n", "\n").replace("\n", "\r\n").encode()
            sigs = field_values(msg, "DKIM-Signature")
            self.assertEqual(len(sigs), 1, subject)
            selectors.append(re.search(rb"\bs=([a-z0-9-]+)", sigs[0]).group(1).decode())
            self.assertEqual(dkimtools.verify(msg, self.stack.dns_port, self.stack.clock_offset()), [True], subject)
        # A signed first, then B, and never A again once B did.
        self.assertEqual(selectors[0], "a")
        self.assertEqual(selectors[-1], b)
        first_b = selectors.index(b)
        self.assertEqual(set(selectors[first_b:]), {b}, selectors)
        print("\n  rotation: %d messages, %d signed by a, then %d by %s"
              % (len(selectors), first_b, len(selectors) - first_b, b), file=sys.stderr)

    def test_redirected_mail_leaves_sealed(self):
        argv = ["swaks", "--server", "127.0.0.1:%d" % self.stack.postfix["smtp_port"],
                "--from", "x@" + SENDER, "--to", "fwd@" + DOMAIN, "--header", "Subject: redirected"]
        self.assertIn("<-  250 2.0.0 Ok: queued",
                      subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout)
        text = self.stack.sink_message("redirected")
        self.assertRegex(text, r"X-Rcpt-Args: <someone@elsewhere\.example>")
        msg = text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
        cv, _, why = dkimtools.arc_verify(msg, self.stack.dns_port, self.stack.clock_offset())
        self.assertEqual(cv, dkim.CV_Pass, why)


if __name__ == "__main__":
    unittest.main()
