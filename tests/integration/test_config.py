"""Configuration errors name file, line, key and reason; the effective
configuration prints as a valid file."""

import os
import tempfile
import unittest

import harness


class ConfigFileTest(unittest.TestCase):
    def write(self, text):
        fd, path = tempfile.mkstemp(prefix="lr-conf-", suffix=".conf", dir=harness.stack().dir)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def test_unknown_key(self):
        path = self.write("log = {\n  level = \"info\";\n  levle = \"debug\";\n};\n")
        r = harness.probe(path, "config")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip(),
                         "lr-probe: %s:3: log.levle: unknown option (did you mean level?)" % path)

    def test_out_of_range(self):
        path = self.write("redis = {\n  database = 5000;\n};\n")
        r = harness.probe(path, "config")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip(),
                         "lr-probe: %s:2: redis.database: out of range (0 to 1023)" % path)

    def test_syntax_error(self):
        path = self.write("dns = {\n  upstream = [\n    \"127.0.0.1:53\",\n    53\n  ];\n};\n")
        r = harness.probe(path, "config")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip(),
                         "lr-probe: %s:4: mismatched element type in array" % path)

    def test_bad_type_in_list(self):
        path = self.write("dns = {\n  upstream = (\n    \"127.0.0.1:53\",\n    53\n  );\n};\n")
        r = harness.probe(path, "config")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip(),
                         "lr-probe: %s:4: dns.upstream: expected a string in double quotes" % path)

    def test_effective_configuration_round_trips(self):
        path = self.write("dns = { timeout = \"1500ms\"; };\nredis = { key_prefix = \"x:\"; };\n")
        r = harness.probe(path, "config")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('\ttimeout = "1500ms";\n', r.stdout)
        again = self.write(r.stdout)
        r2 = harness.probe(again, "config")
        self.assertEqual(r2.stdout, r.stdout)
        changed = harness.probe(path, "config", "--changed")
        self.assertEqual(changed.stdout,
                         'redis = {\n\tkey_prefix = "x:";\n};\ndns = {\n\ttimeout = "1500ms";\n};\n')
