"""limristem-milter's DNS under attack, through miltertest: a message's
DKIM, ARC and DMARC lookups share one time budget (milter.dns_budget), so
signatures whose keys never answer cannot hold a thread for n times
dns.timeout; and SPF's internal name tags cannot be forged from the
envelope (a control character in the sender's local part or the HELO
name never reaches libspf2).

DNS goes through a small forwarder in front of nsd that drops the
questions for one domain's keys, the way a dead or hostile name server
looks to a resolver."""

import os
import selectors
import socket
import subprocess
import threading
import time
import unittest
import urllib.request

import harness

MILTER = "milter/limristem-milter"
SLOW = "slow.limristem.example"        # its keys never answer
VICTIM = "victim.limristem.example"    # SPF a:%{l}.users.VICTIM, DMARC p=reject


def qname(packet):
    """The question's name of a DNS query, lowercase, or ""."""
    labels, at = [], 12
    while at < len(packet) and packet[at] != 0:
        n = packet[at]
        labels.append(packet[at + 1:at + 1 + n].decode("ascii", "replace"))
        at += 1 + n
    return ".".join(labels).lower()


class DroppingForwarder(threading.Thread):
    """UDP DNS on a free loopback port: questions go to nsd and answers
    come back, except questions whose name contains drop, never answered."""

    def __init__(self, upstream_port, drop):
        super().__init__(daemon=True)
        self.upstream = ("127.0.0.1", upstream_port)
        self.drop = drop
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.port = self.front.getsockname()[1]
        self.waiting = {}
        self.dropped = 0
        self.stopping = False

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.front, selectors.EVENT_READ)
        sel.register(self.back, selectors.EVENT_READ)
        while not self.stopping:
            for key, _ in sel.select(0.2):
                data, addr = key.fileobj.recvfrom(65535)
                if key.fileobj is self.front:
                    if self.drop in qname(data):
                        self.dropped += 1
                        continue
                    self.waiting[data[:2]] = addr
                    self.back.sendto(data, self.upstream)
                elif data[:2] in self.waiting:
                    self.front.sendto(data, self.waiting.pop(data[:2]))
        sel.close()
        self.front.close()
        self.back.close()

    def stop(self):
        self.stopping = True
        self.join(5)


class DnsBudgetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        stack.zones.update({
            SLOW: "@ IN MX 10 mx\n",
            VICTIM: '@ IN TXT "v=spf1 a:%%{l}.users.%s -all"\n'
                    '_dmarc IN TXT "v=DMARC1; p=reject"\n'
                    "x.users IN A 192.0.2.1\n" % VICTIM})
        if "nsd" in stack.services:
            stack.stop_dns(kill=False)
        stack.start_dns()
        cls.forwarder = DroppingForwarder(stack.dns_port, "._domainkey." + SLOW)
        cls.forwarder.start()
        cls.sock = stack.path("milter-budget.sock")
        cls.metrics_port = harness.free_port()
        conf = stack.config({
            "milter": {"listen": ["unix:" + cls.sock], "user": "", "socket_group": "",
                       "authserv_id": "mx.budget.limristem.example", "reputation": False,
                       "dns_budget": "1500ms",
                       "metrics_listen": "127.0.0.1:%d" % cls.metrics_port},
            "dns": {"upstream": ["127.0.0.1:%d" % cls.forwarder.port], "timeout": "2s"}},
            redis=False, database=False)
        stack.start_daemon("milter-budget", MILTER, conf, lambda: os.path.exists(cls.sock))

    @classmethod
    def tearDownClass(cls):
        cls.stack.services.pop("milter-budget").stop()
        cls.forwarder.stop()

    def message(self, domain, n, sender, mail_from=None):
        script = os.path.join(self.stack.srcdir, "tests", "integration", "miltertest",
                              "dns_budget.lua")
        argv = ["miltertest", "-D", "socket=unix:" + self.sock, "-D", "domain=" + domain,
                "-D", "n=%d" % n, "-D", "sender=" + sender]
        if mail_from:
            argv = argv[:1] + ["-D", "from=" + mail_from] + argv[1:]
        began = time.monotonic()
        r = subprocess.run(argv + ["-s", script], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout, time.monotonic() - began

    def metrics(self):
        return urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                      timeout=10).read().decode()

    def test_keys_that_never_answer_share_one_budget(self):
        """Four signatures whose keys never answer, dns.timeout 2 s: without
        a budget the message takes eight seconds and more; with 1.5 s the
        first lookup is cut there and the rest answer temperror at once.
        (Four: miltertest's stack overflows on the longer
        Authentication-Results of more.)"""
        out, seconds = self.message(SLOW, 4, "a@" + SLOW)
        self.assertLess(seconds, 5, out)
        self.assertIn("dkim=temperror", out)
        self.assertGreaterEqual(self.forwarder.dropped, 1)
        page = self.metrics()
        exceeded = [line for line in page.splitlines()
                    if line.startswith("milter_dns_budget_exceeded_total ")]
        self.assertTrue(exceeded and float(exceeded[0].split()[1]) >= 4, page)
        self.assertRegex(self.stack.daemon_log("milter-budget"),
                         r"DNS time budget \(milter.dns_budget, 1500 ms\) spent: \d+ lookups")

    def test_spf_tag_in_the_local_part_is_no_pass(self):
        """"\\001b." in front of a name means, inside our SPF layer, "a term
        with /0: any address is the client's". With it in the local part,
        a:%{l}.users.VICTIM matched any client: SPF pass, DMARC pass for a
        p=reject domain. Now the local part is refused for SPF (none), and
        DMARC rejects the message."""
        out, _ = self.message(VICTIM, 0, "\x01b.x@" + VICTIM, mail_from="x@" + VICTIM)
        self.assertNotIn("spf=pass", out)
        self.assertNotIn("reply=accept", out, out)
        # the honest local part: SPF fail (x.users is not the client), rejected too
        out, _ = self.message(VICTIM, 0, "x@" + VICTIM)
        self.assertNotIn("reply=accept", out, out)


if __name__ == "__main__":
    unittest.main()
