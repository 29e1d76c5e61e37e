"""The Redis clients (thread pool and libevent) fail fast while Redis is
down and their next command succeeds within 2 s after it restarts."""

import time
import unittest

import harness

INTERVAL_MS = 50
RECOVERY_LIMIT_MS = 2000


def parse(line):
    fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
    fields["ok"] = " ok" in line
    fields["t"] = int(fields["t"])
    return fields


class RedisReconnectTest(unittest.TestCase):
    def setUp(self):
        self.stack = harness.stack()
        if "redis" not in self.stack.services:
            self.stack.start_redis()
        self.conf = self.stack.config(database=False, dns=False)

    def run_outage(self, command):
        proc = harness.probe_background(self.conf, command, INTERVAL_MS, 200)
        t0 = time.monotonic()
        lines = []

        def until(pred):
            for line in proc.stdout:
                lines.append(line)
                if pred(parse(line)):
                    return parse(line)
            self.fail("probe ended early:\n" + "".join(lines) + proc.stderr.read())

        until(lambda f: f["ok"])                      # Redis works
        self.stack.stop_redis(kill=True)              # SIGKILL: no goodbye
        killed_ms = (time.monotonic() - t0) * 1000
        until(lambda f: not f["ok"] and f["t"] > killed_ms)   # the outage is seen
        time.sleep(0.5)
        restart_ms = (time.monotonic() - t0) * 1000
        self.stack.start_redis()
        restarted_ms = (time.monotonic() - t0) * 1000
        first_ok = until(lambda f: f["ok"] and f["t"] > restarted_ms)
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        recovery = first_ok["t"] - restarted_ms
        self.assertLess(recovery, RECOVERY_LIMIT_MS,
                        "first success %d ms after restart" % recovery)
        # failures came fast: no command waited long while Redis was down
        failures = [parse(l) for l in lines if " fail" in l or "refused" in l]
        self.assertTrue(failures)
        return restart_ms, recovery

    def test_pool_client(self):
        self.run_outage("redis-loop")

    def test_async_client(self):
        self.run_outage("redis-async-loop")

    def test_wrong_password_is_an_error(self):
        path = self.stack.path("wrong.password")
        harness.write_secret(path, "not-the-password")
        conf = self.stack.config({"redis": {"password_file": path}}, database=False, dns=False)
        r = harness.probe(conf, "redis-loop", 10, 3)
        self.assertEqual(r.stdout.count(" fail"), 3, r.stdout)
        self.assertIn("AUTH failed", r.stderr)
