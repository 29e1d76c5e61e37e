"""Metrics are served in Prometheus text format over HTTP on loopback."""

import unittest
import urllib.error
import urllib.request

import harness


class MetricsTest(unittest.TestCase):
    def test_scrape(self):
        port = harness.free_port()
        proc = harness.probe_background(None, "metrics", "127.0.0.1:%d" % port, 3)
        self.assertEqual(proc.stdout.readline().strip(), "serving")
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as resp:
                body = resp.read().decode()
                ctype = resp.headers["Content-Type"]
            self.assertEqual(ctype, "text/plain; version=0.0.4; charset=utf-8")
            self.assertIn('probe_requests_total{kind="demo"} 42\n', body)
            self.assertIn('probe_seconds_bucket{le="0.005"} 1\n', body)
            self.assertIn("probe_seconds_count 1\n", body)
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen("http://127.0.0.1:%d/other" % port, timeout=2)
            self.assertEqual(e.exception.code, 404)
        finally:
            proc.wait(10)
            proc.stdout.close()
            proc.stderr.close()
