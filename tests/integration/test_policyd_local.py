"""limristem-policyd without Redis: a spam-trap hit blocks the client's
network on this node (trap_block), kept in a table sorted by network, so
that the check every request makes is a binary search. Hundreds of
trapped networks, then: each is blocked, its neighbours are not."""

import os
import subprocess
import unittest

import harness
from test_policyd import PolicyClient

DOMAIN = "local.example"
POLICYD = "policyd/limristem-policyd"


class LocalBlockTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        stack.fresh_database()
        cls.conf = stack.config({"mailadm": {"dkim_key_dir": stack.path("local-keys")}})
        for args in (("domain", "add", DOMAIN), ("trap", "add", "trap@" + DOMAIN),
                     ("account", "add", "user@" + DOMAIN, "--no-password")):
            r = subprocess.run([os.path.join(stack.builddir, "mailadm", "mailadm"), "-c",
                                cls.conf] + list(args), capture_output=True, text=True,
                               timeout=60, start_new_session=True)
            assert r.returncode == 0, r.stdout + r.stderr
        cls.port = harness.free_port()
        conf = stack.config({"policyd": {
            "listen": ["127.0.0.1:%d" % cls.port], "user": "", "socket_group": "",
            "change_check": "200ms", "trap_block": "1h", "idle_timeout": "30s"}},
            redis=False, dns=False)
        stack.start_daemon("policyd-local", POLICYD, conf, lambda: harness.port_open(cls.port))
        cls.client = PolicyClient(cls.port)
        harness.wait_for(lambda: "accepts no mail" in cls.ask("trap@" + DOMAIN, "192.0.2.1"),
                         10, "the trap loaded")

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.stack.services.pop("policyd-local").stop()

    @classmethod
    def ask(cls, rcpt, client):
        return cls.client.ask(recipient=rcpt, client_address=client, sender="s@remote.example")

    def test_many_trapped_networks_each_blocked_alone(self):
        # out of order, so that every insertion lands somewhere new
        nets = [(i * 37) % 250 + 1 for i in range(250)]
        for n in nets:
            if n % 2 == 1:
                self.assertIn("accepts no mail", self.ask("trap@" + DOMAIN, "198.%d.7.9" % n))
        for n in range(1, 251):
            answer = self.ask("user@" + DOMAIN, "198.%d.7.10" % n)
            if n % 2 == 1:
                self.assertIn("client network 198.%d.7.0/24 is blocked" % n, answer)
            else:
                self.assertNotIn("blocked", answer)


if __name__ == "__main__":
    unittest.main()
