"""The harness runs a private Postfix instance that accepts mail over SMTP
and relays it to smtp-sink, and stops it again."""

import os
import subprocess
import time
import unittest

import harness


@unittest.skipUnless(os.geteuid() == 0, "a Postfix instance needs root")
class PostfixInstanceTest(unittest.TestCase):
    def test_relay_to_sink(self):
        stack = harness.stack()
        port = stack.start_postfix()
        try:
            r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % port, "--from",
                                "alice@sender.test", "--to", "bob@rcpt.test", "--header",
                                "Subject: harness check", "--body", "hello"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout)
            harness.wait_for(lambda: stack.sink_messages(), 20, "the relayed message")
            msg = stack.sink_messages()[0]
            self.assertIn("X-Mail-Args: <alice@sender.test>", msg)
            self.assertIn("X-Rcpt-Args: <bob@rcpt.test>", msg)
            self.assertIn("Subject: harness check", msg)
        finally:
            stack.stop_postfix()
        self.assertFalse(harness.port_open(port))
        self.assertEqual([p for p in stack.leftovers() if "postfix" in p], [])
