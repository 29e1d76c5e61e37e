"""The resolver answers from the test DNS server, serves repeated questions
from its cache (even with the server gone) and honours TTLs."""

import shlex
import unittest

import harness

ZONE = """
@        IN MX 10 mx
mx       IN A 192.0.2.25
mx       IN AAAA 2001:db8::25
@        IN TXT "v=spf1 ip4:192.0.2.0/24 " "-all"
short  1 IN A 192.0.2.99
sel._domainkey IN TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
"""


def answers(output):
    out = []
    for line in output.splitlines():
        if line.startswith("name="):
            fields = {}
            for part in shlex.split(line):
                if "=" in part:
                    k, v = part.split("=", 1)
                    fields.setdefault(k, []).append(v)
            out.append({k: v if k == "record" else v[0] for k, v in fields.items()})
    return out


class ResolverTest(unittest.TestCase):
    def setUp(self):
        self.stack = harness.stack()
        if "nsd" not in self.stack.services:
            self.stack.start_dns({"dns.limristem.example": ZONE})
        elif "dns.limristem.example" not in self.stack.zones:
            self.stack.set_zone("dns.limristem.example", ZONE)
        self.conf = self.stack.config(redis=False, database=False)

    def test_record_types(self):
        for command in ("dns", "dns-async"):
            r = harness.probe(self.conf, command, "dns.limristem.example", "MX",
                              "mx.dns.limristem.example", "A", "mx.dns.limristem.example", "AAAA",
                              "dns.limristem.example", "TXT", "nothing.dns.limristem.example", "A",
                              "mx.dns.limristem.example", "TXT", "bad..name", "A")
            self.assertEqual(r.returncode, 0, r.stderr)
            a = answers(r.stdout)
            self.assertEqual(a[0]["record"], ["10:mx.dns.limristem.example"])
            self.assertEqual(a[1]["record"], ["192.0.2.25"])
            self.assertEqual(a[2]["record"], ["2001:db8::25"])
            self.assertEqual(a[3]["record"], ["v=spf1 ip4:192.0.2.0/24 -all"])
            self.assertEqual(a[3]["ttl"], "300")
            self.assertEqual(a[4]["status"], "nxdomain")
            self.assertEqual(a[5]["status"], "nodata")
            self.assertEqual(a[6]["status"], "permfail")

    def check_cache(self, command):
        proc = harness.probe_background(self.conf, command,
                                        "sel._domainkey.dns.limristem.example", "TXT",
                                        "short.dns.limristem.example", "A", "sleep", 2500,
                                        "sel._domainkey.dns.limristem.example", "TXT",
                                        "short.dns.limristem.example", "A")
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("sleeping"):
                self.stack.stop_dns(kill=True)  # from here on only the cache can answer
        proc.wait()
        proc.stderr.close()
        proc.stdout.close()
        self.stack.start_dns()
        a = answers("".join(lines))
        self.assertEqual([x["status"] for x in a], ["ok", "ok", "ok", "tempfail"], lines)
        # the same answer, now from the cache, with its TTL counting down
        self.assertEqual(a[2]["record"], a[0]["record"])
        self.assertLess(int(a[2]["ttl"]), 300)
        self.assertLess(int(a[2]["ms"]), 100)
        # the 1-second record expired and nobody could be asked again
        self.assertEqual(a[3]["why"], "timeout")

    def test_cache_blocking(self):
        self.check_cache("dns")

    def test_cache_async(self):
        self.check_cache("dns-async")

    def test_timeout_is_bounded(self):
        conf = self.stack.config({"dns": {"upstream": ["127.0.0.1:%d" % harness.free_port()],
                                          "timeout": "300ms"}}, redis=False, database=False)
        r = harness.probe(conf, "dns", "example.org", "A", "example.org", "MX")
        a = answers(r.stdout)
        self.assertEqual([x["status"] for x in a], ["tempfail", "tempfail"])
        for x in a:
            self.assertLess(int(x["ms"]), 1000)
