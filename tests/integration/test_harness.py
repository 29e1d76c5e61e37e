"""A run that fails after starting services still leaves nothing running."""

import os
import subprocess
import sys
import time
import unittest

import harness


class TeardownTest(unittest.TestCase):
    def test_crash_leaves_nothing(self):
        stack = harness.stack()
        run = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")
        r = subprocess.run([sys.executable, run, "--srcdir", stack.srcdir, "--builddir",
                            stack.builddir, "--crash-selftest"],
                           capture_output=True, text=True, timeout=120)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("deliberate failure", r.stderr)
        crashed_dir = r.stdout.splitlines()[0]
        self.assertTrue(crashed_dir.startswith("/tmp/lr-it-"), r.stdout)
        time.sleep(0.5)
        survivors = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if crashed_dir.encode() in f.read():
                        survivors.append(pid)
            except OSError:
                pass
        self.assertEqual(survivors, [])
        self.assertFalse(os.path.exists(crashed_dir))
