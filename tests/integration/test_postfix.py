"""The harness runs a private Postfix instance that accepts mail over SMTP
and relays it to smtp-sink, and stops it again."""

import os
import unittest

import harness


@unittest.skipUnless(os.geteuid() == 0, "a Postfix instance needs root")
class PostfixInstanceTest(unittest.TestCase):
    def test_relay_to_sink(self):
        stack = harness.stack()
        port = stack.start_postfix()
        try:
            r = stack.send_mail("alice@sender.test", "bob@rcpt.test", "harness check")
            self.assertEqual(r.returncode, 0, r.stdout)
            msg = stack.sink_message("harness check")
            self.assertIn("X-Mail-Args: <alice@sender.test>", msg)
            self.assertIn("X-Rcpt-Args: <bob@rcpt.test>", msg)
            self.assertIn("Subject: harness check", msg)
        finally:
            stack.stop_postfix()
        self.assertFalse(harness.port_open(port))
        self.assertEqual([p for p in stack.leftovers() if "postfix" in p], [])
