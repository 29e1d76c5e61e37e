"""limristem-milter without Redis: greylisting state in memory, a small
table (memory_state_max) filled by new triplets through miltertest. Once
it is full, new triplets are let through at once (not greylisted: a
deferral the milter cannot remember would defer every retry), counted in
milter_state_full_total and logged; before the fix each new key swept the
whole table under the store's lock and was deferred all the same."""

import os
import subprocess
import time
import unittest
import urllib.request

import harness

MILTER = "milter/limristem-milter"
TABLE = 1000


class StoreFullTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        stack.zones.update({"full.limristem.example": "@ IN MX 10 mx\n",
                            "grey.limristem.example": "@ IN MX 10 mx\n"})
        if "nsd" in stack.services:
            stack.stop_dns(kill=False)
        stack.start_dns()
        cls.sock = stack.path("milter-full.sock")
        cls.metrics_port = harness.free_port()
        conf = stack.config({"milter": {
            "listen": ["unix:" + cls.sock], "user": "", "socket_group": "",
            "authserv_id": "mx.full.limristem.example", "greylisting": True,
            "reputation": False, "memory_state_max": TABLE,
            "metrics_listen": "127.0.0.1:%d" % cls.metrics_port}}, redis=False, database=False)
        stack.start_daemon("milter-full", MILTER, conf, lambda: os.path.exists(cls.sock))

    @classmethod
    def tearDownClass(cls):
        cls.stack.services.pop("milter-full").stop()

    def rcpts(self, first, count, want):
        script = os.path.join(self.stack.srcdir, "tests", "integration", "miltertest",
                              "greylist_full.lua")
        began = time.monotonic()
        r = subprocess.run(["miltertest", "-D", "socket=unix:" + self.sock, "-D",
                            "first=%d" % first, "-D", "count=%d" % count, "-D", "want=" + want,
                            "-s", script], capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("greylist_full: ok", r.stdout)
        return time.monotonic() - began

    def test_full_table_lets_new_triplets_through_fast(self):
        self.rcpts(0, TABLE, "defer")              # each a new triplet: the table fills
        seconds = self.rcpts(TABLE, 200, "pass")   # 200 new keys in a full table
        self.assertLess(seconds, 10)
        page = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                      timeout=10).read().decode()
        self.assertIn("milter_state_full_total 200\n", page)
        self.assertIn('milter_greylist_total{result="unavailable"} 200\n', page)
        log = self.stack.daemon_log("milter-full")
        self.assertIn("milter: in-memory state full (1000 keys, milter.memory_state_max)", log)
        self.assertIn("skipped (the triplet could not be stored)", log)


if __name__ == "__main__":
    unittest.main()
