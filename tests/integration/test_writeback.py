"""The write-back path (common/writeback.c) against a real mariadbd that is
killed and restarted, and that picks our batch as a deadlock's victim:
no trap hit or counter is lost, none is written twice, and every retry is
a metric and a log line.

Through limristem-policyd (a policy client asking for spam-trap addresses,
whose hits policyd writes back) and through lr-probe's writeback command
(the same code, driven hard enough that mariadbd dies with a batch in
flight)."""

import os
import re
import signal
import subprocess
import threading
import time
import unittest
import urllib.request

import harness
from test_policyd import PolicyClient

DOMAIN = "wb.example"
POLICYD = "policyd/limristem-policyd"
NETWORK = "203.0.113.0/24"


def metric(text, name, **labels):
    """The value of one series in a Prometheus text page (0 when absent)."""
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if m and m.group(1) == name and ",".join(sorted((m.group(2) or "").split(","))) == want:
            return float(m.group(3))
    return 0.0


class SqlSession:
    """A second client of the database that holds row locks: the mariadb
    command-line client on a pipe, one statement at a time."""

    def __init__(self, stack):
        self.proc = subprocess.Popen(
            ["mariadb", "--no-defaults", "-S", stack.mariadb_socket, "-u", "root", "-N", "-B",
             "--unbuffered", stack.db_name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.n = 0

    def run(self, sql):
        """Runs sql; returns its output lines (blocks while it waits for a lock)."""
        self.n += 1
        done = "done-%d" % self.n
        self.proc.stdin.write("%s;\nSELECT '%s';\n" % (sql, done))
        self.proc.stdin.flush()
        lines = []
        for line in self.proc.stdout:
            if line.strip() == done:
                return lines
            lines.append(line.strip())
        raise RuntimeError("mariadb client ended: %s" % lines)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


class WritebackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        stack.fresh_database()
        # a row lock may be waited for long (read_timeout less a second): a
        # loaded machine never turns the test's deadlock into a lock wait timeout
        slow_locks = {"database": {"read_timeout": "30s"}}
        cls.conf = stack.config(dict(slow_locks, mailadm={"dkim_key_dir": stack.path("wb-keys")}))
        cls.mailadm("domain", "add", DOMAIN)
        for i in range(4):
            cls.mailadm("trap", "add", "trap%d@%s" % (i, DOMAIN))
        cls.port = harness.free_port()
        cls.metrics_port = harness.free_port()
        section = {"listen": ["127.0.0.1:%d" % cls.port], "user": "", "socket_group": "",
                   "metrics_listen": "127.0.0.1:%d" % cls.metrics_port,
                   "change_check": "200ms", "snapshot_refresh": "1s", "trap_block": 0,
                   "idle_timeout": "30s", "request_timeout": "1500ms"}
        conf = stack.config(dict(slow_locks, policyd=section), redis=False, dns=False)
        stack.start_daemon("policyd-wb", POLICYD, conf, lambda: harness.port_open(cls.port))
        harness.wait_for(lambda: cls.trap_answer("trap0@" + DOMAIN), 10, "the traps loaded")
        harness.wait_for(lambda: cls.stack.mysql_root(
            "SELECT SUM(hits) > 0 FROM spam_traps", cls.stack.db_name).strip() == "1", 10,
            "the first trap hit written")

    def setUp(self):
        # the hits of earlier requests committed before a test counts
        harness.wait_for(lambda: metric(self.metrics(), "writeback_queued", writer="policyd") == 0,
                         30, "policyd's writes to be committed")

    @classmethod
    def tearDownClass(cls):
        if "policyd-wb" in cls.stack.services:
            cls.stack.services.pop("policyd-wb").stop()

    @classmethod
    def mailadm(cls, *args):
        r = subprocess.run([os.path.join(cls.stack.builddir, "mailadm", "mailadm"), "-c",
                            cls.conf] + list(args), capture_output=True, text=True, timeout=60,
                           start_new_session=True)
        assert r.returncode == 0, "mailadm %s: %s%s" % (args, r.stdout, r.stderr)
        return r.stdout

    @classmethod
    def trap_answer(cls, rcpt, client="203.0.113.9"):
        c = PolicyClient(cls.port)
        try:
            return "accepts no mail" in c.ask(recipient=rcpt, client_address=client,
                                              sender="s@remote.example")
        finally:
            c.close()

    def sql(self, query):
        return self.stack.mysql_root(query, self.stack.db_name).strip()

    def one_waits_for_a_lock(self):
        """True when one transaction is in LOCK WAIT. InnoDB refreshes
        information_schema.innodb_trx only when it was last read more than
        100 ms ago: asked faster than that, it shows the same old snapshot
        forever (under ASan's timing, a wait it never showed)."""
        time.sleep(0.25)
        return self.sql("SELECT COUNT(*) FROM information_schema.innodb_trx "
                        "WHERE trx_state = 'LOCK WAIT'") == "1"

    def trap_hits(self):
        return int(self.sql("SELECT COALESCE(SUM(hits), 0) FROM spam_traps"))

    def network_hits(self):
        return int(self.sql("SELECT COALESCE(SUM(trap_hits), 0) FROM reputations "
                            "WHERE entity_type = 'network'") or 0)

    def metrics(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                    timeout=5) as r:
            return r.read().decode()

    def wait_written(self, hits, network_hits):
        harness.wait_for(lambda: self.trap_hits() >= hits and self.network_hits() >= network_hits,
                         60, "the trap hits in the database")
        time.sleep(1.5)   # nothing more arrives: a second copy would show now
        self.assertEqual(self.trap_hits(), hits)
        self.assertEqual(self.network_hits(), network_hits)

    def test_mariadb_killed_and_restarted_while_trap_hits_flow(self):
        hits, net = self.trap_hits(), self.network_hits()
        sent = 0
        client = PolicyClient(self.port)
        log_at = len(self.stack.daemon_log("policyd-wb"))

        def send(n):
            nonlocal sent
            for i in range(n):
                answer = client.ask(recipient="trap%d@%s" % (i % 4, DOMAIN),
                                    client_address="203.0.113.%d" % (i % 200 + 1),
                                    sender="s@remote.example")
                self.assertIn("accepts no mail", answer)
                sent += 1
                time.sleep(0.02)

        try:
            send(40)
            self.stack.stop_mariadb(kill=True)      # SIGKILL, with writes in flight
            send(60)                                # queued while it is down
            self.stack.start_mariadb()
            send(40)
        finally:
            client.close()
            if "mariadb" not in self.stack.services:
                self.stack.start_mariadb()
        self.wait_written(hits + sent, net + sent)
        page = self.metrics()
        self.assertGreater(metric(page, "writeback_retries_total", writer="policyd",
                                  reason="connection"), 0, page)
        self.assertEqual(metric(page, "writeback_dropped_total", writer="policyd"), 0)
        self.assertEqual(metric(page, "writeback_queued", writer="policyd"), 0)
        for reason in ("refused", "retries", "shutdown"):
            self.assertEqual(metric(page, "writeback_failed_total", writer="policyd",
                                    reason=reason), 0, page)
        log = self.stack.daemon_log("policyd-wb")[log_at:]
        self.assertIn("policyd: database writes waiting (trap hits, holds, blocklist answers)",
                      log)

    def test_deadlock_victim_batch_is_written_whole(self):
        """A second client locks the network's reputation row, policyd's batch
        updates the trap's row then waits for that one, and the second client
        asks for the trap's row: InnoDB rolls back the lighter transaction,
        our batch. Every statement of it must land all the same (before the
        fix the trap hit and the network's count were lost silently)."""
        self.sql("CREATE TABLE IF NOT EXISTS wb_ballast (n INT NOT NULL) ENGINE=InnoDB")
        self.sql("INSERT INTO reputations (entity_type, entity) VALUES ('network', '%s') "
                 "ON DUPLICATE KEY UPDATE entity = entity" % NETWORK)
        hits, net = self.trap_hits(), self.network_hits()
        log_at = len(self.stack.daemon_log("policyd-wb"))
        retries = metric(self.metrics(), "writeback_retries_total", writer="policyd",
                         reason="deadlock")
        other = SqlSession(self.stack)
        try:
            other.run("START TRANSACTION")
            # heavier than any batch of ours, so that InnoDB picks the batch
            other.run("INSERT INTO wb_ballast SELECT seq FROM seq_1_to_5000")
            other.run("SELECT trap_hits FROM reputations WHERE entity_type = 'network' AND "
                      "entity = '%s' FOR UPDATE" % NETWORK)
            self.assertTrue(self.trap_answer("trap3@" + DOMAIN))
            harness.wait_for(self.one_waits_for_a_lock, 30, "policyd's batch to wait for the lock")
            other.run("SELECT hits FROM spam_traps WHERE address = 'trap3@%s' FOR UPDATE"
                      % DOMAIN)
            other.run("ROLLBACK")
        finally:
            other.close()
        self.wait_written(hits + 1, net + 1)
        page = self.metrics()
        self.assertGreater(metric(page, "writeback_retries_total", writer="policyd",
                                  reason="deadlock"), retries, page)
        log = self.stack.daemon_log("policyd-wb")[log_at:]
        self.assertRegex(log, r"policyd: batch of \d+ database writes rolled back \(deadlock: "
                              r"Deadlock found")

    def test_probe_writer_survives_repeated_kills_exactly_once(self):
        """lr-probe keeps a batch in flight most of the time; mariadbd is
        killed three times, so some kill lands during a COMMIT. The counter
        and the log of rows must both come out exact: nothing lost, nothing
        written twice."""
        self.sql("CREATE TABLE IF NOT EXISTS wb_rows (n INT NOT NULL PRIMARY KEY) ENGINE=InnoDB")
        self.sql("CREATE TABLE IF NOT EXISTS wb_counter (id INT PRIMARY KEY, n INT NOT NULL) "
                 "ENGINE=InnoDB")
        self.sql("DELETE FROM wb_rows")
        self.sql("REPLACE INTO wb_counter VALUES (1, 0)")
        count = 3000
        p = harness.probe_background(self.conf, "writeback", count, 1,
                                     "INSERT INTO wb_rows (n) VALUES (?)",
                                     "UPDATE wb_counter SET n = n + 1 WHERE id = 1")
        try:
            for pause in (0.7, 1.1, 0.9):
                time.sleep(pause)
                self.stack.stop_mariadb(kill=True)
                time.sleep(0.3)
                self.stack.start_mariadb()
            out, err = p.communicate(timeout=150)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
            if "mariadb" not in self.stack.services:
                self.stack.start_mariadb()
        self.assertIn("pushed=%d" % count, out, err)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM wb_rows"), str(count), err[-3000:])
        self.assertEqual(self.sql("SELECT n FROM wb_counter WHERE id = 1"), str(count),
                         err[-3000:])
        self.assertIn('metric writeback_written_total{writer="probe"} %d' % (2 * count), out)
        self.assertIn('metric writeback_queued{writer="probe"} 0', out)
        self.assertRegex(out, r'metric writeback_retries_total\{writer="probe",'
                              r'reason="connection"\} [1-9]')
        self.assertIn("probe: database writes waiting (probe rows)", err)
        # every batch moved the writer's marker: none could have been written twice
        self.assertNotIn("mailadm db migrate", err)
        self.assertEqual(self.sql("SELECT COUNT(*) > 0 FROM writeback_writers WHERE name = 'probe' "
                                  "AND seq > 0 AND writer REGEXP '^[0-9a-f]{32}$'"), "1")

    def test_refused_statement_is_logged_and_the_rest_written(self):
        """A statement the schema refuses is given up alone, with its SQL and
        parameters in the log and a metric; the others of its batch land."""
        self.sql("CREATE TABLE IF NOT EXISTS wb_checked (n INT NOT NULL PRIMARY KEY, "
                 "CONSTRAINT wb_checked_small CHECK (n < 5)) ENGINE=InnoDB")
        self.sql("DELETE FROM wb_checked")
        r = harness.probe(self.conf, "writeback", 8, 0, "INSERT INTO wb_checked (n) VALUES (?)")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.sql("SELECT GROUP_CONCAT(n ORDER BY n) FROM wb_checked"),
                         "0,1,2,3,4")
        self.assertIn('metric writeback_failed_total{writer="probe",reason="refused"} 3',
                      r.stdout)
        self.assertIn('metric writeback_written_total{writer="probe"} 5', r.stdout)
        self.assertIn("probe: database write given up (CONSTRAINT `wb_checked_small` failed "
                      "for", r.stderr)
        self.assertIn("INSERT INTO wb_checked (n) VALUES (?) with (5)", r.stderr)

    def test_mailadm_write_rolled_back_by_a_deadlock_runs_again(self):
        """mailadm's transaction (the row, then change_counter) is the
        deadlock's victim: the whole command runs again and succeeds
        (before, it failed with the deadlock's message)."""
        self.sql("CREATE TABLE IF NOT EXISTS wb_ballast (n INT NOT NULL) ENGINE=InnoDB")
        address = "deadlock@" + DOMAIN
        other = SqlSession(self.stack)
        try:
            other.run("START TRANSACTION")
            other.run("INSERT INTO wb_ballast SELECT seq FROM seq_1_to_5000")
            other.run("SELECT generation FROM change_counter WHERE id = 1 FOR UPDATE")
            cmd = subprocess.Popen([os.path.join(self.stack.builddir, "mailadm", "mailadm"), "-c",
                                    self.conf, "trap", "add", address], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
            try:
                harness.wait_for(self.one_waits_for_a_lock, 30, "mailadm to wait for the lock")
            except TimeoutError:
                cmd.kill()
                out, err = cmd.communicate(timeout=30)
                self.fail("mailadm never waited for the lock (exit %s): %s %s"
                          % (cmd.returncode, out, err[-3000:]))
            other.run("SELECT id FROM spam_traps WHERE address = '%s' FOR UPDATE" % address)
            other.run("ROLLBACK")
            out, err = cmd.communicate(timeout=30)
        finally:
            other.close()
        self.assertEqual(cmd.returncode, 0, out + err)
        self.assertIn("rolled back by the database (Deadlock found", err)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM spam_traps WHERE address = '%s'" % address),
                         "1")


if __name__ == "__main__":
    unittest.main()
