"""limristem-policyd with real Redis, MariaDB, nsd and Postfix: quota,
sending limits and holds, spam traps and blocks, blocklists and their
health test, sender ownership, a second node on the same Redis, the
protocol's limits, and Redis or MariaDB going away while requests flow.

Postfix trusts XCLIENT from loopback, so swaks can present any client
address and SASL login to it, the way a real remote client or an
authenticated user would look to the policy server."""

import os
import selectors
import socket
import subprocess
import threading
import time
import unittest
import urllib.request

import harness

DOMAIN = "pol.example"
POLICYD = "policyd/limristem-policyd"
BL_ZONE = """
2.0.0.127     IN A   127.0.0.2
2.0.0.127     IN TXT "test entry"
66.2.0.192    IN A   127.0.0.4
66.2.0.192    IN TXT "listed: see https://bl.example/192.0.2.66"
"""
# A zone that lists everything, as a wildcarded expired domain does.
ALL_ZONE = "* IN A 127.0.0.2\n"


def request(**attrs):
    base = {"request": "smtpd_access_policy", "protocol_state": "RCPT",
            "protocol_name": "ESMTP", "client_address": "127.0.0.1",
            "client_name": "localhost", "helo_name": "client.example", "sender": "",
            "recipient": "", "instance": "1.2.3", "size": "0", "sasl_username": ""}
    base.update(attrs)
    return "".join("%s=%s\n" % kv for kv in base.items()) + "\n"


class PolicyClient:
    def __init__(self, port):
        if isinstance(port, str):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(10)
            self.sock.connect(port)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def ask(self, **attrs):
        self.sock.sendall(request(**attrs).encode())
        return self.read_answer()

    def read_answer(self):
        while b"\n\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise ConnectionError("policyd closed the connection")
            self.buf += data
        answer, self.buf = self.buf.split(b"\n\n", 1)
        assert answer.startswith(b"action="), answer
        return answer[len(b"action="):].decode()

    def close(self):
        self.sock.close()


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sanitized(pid):
    """True when the process runs with AddressSanitizer (its quarantine of
    freed memory makes RSS say nothing about what is buffered)."""
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def flood(sock, data, seconds):
    """Sends data without reading anything back, for at most seconds or
    until the server closes. Returns the bytes sent."""
    sock.setblocking(False)
    sent, deadline = 0, time.monotonic() + seconds
    with selectors.DefaultSelector() as sel:
        sel.register(sock, selectors.EVENT_WRITE)
        while sent < len(data) and time.monotonic() < deadline:
            if not sel.select(0.2):
                continue
            try:
                sent += sock.send(data[sent:sent + 65536])
            except BlockingIOError:
                continue
            except OSError:
                break
    sock.setblocking(True)
    return sent


class PolicydTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        if "redis" not in stack.services:
            stack.start_redis()
        stack.fresh_database()
        stack.zones.update({DOMAIN: "@ IN MX 10 mx", "bl.example": BL_ZONE,
                            "all.example": ALL_ZONE})
        if "nsd" in stack.services:
            stack.stop_dns(kill=False)
        stack.start_dns()
        cls.conf = stack.config({"mailadm": {"dkim_key_dir": stack.path("pol-keys")}})
        for args in (("domain", "add", DOMAIN),
                     ("account", "add", "full@" + DOMAIN, "--quota", "1", "--no-password"),
                     ("account", "add", "roomy@" + DOMAIN, "--quota", "100", "--no-password"),
                     ("account", "add", "sender@" + DOMAIN, "--send-limit-messages", "3",
                      "--no-password"),
                     ("account", "add", "other@" + DOMAIN, "--no-password"),
                     ("account", "add", "owner@" + DOMAIN, "--no-password"),
                     ("account", "add", "twonode@" + DOMAIN, "--send-limit-messages", "4",
                      "--no-password"),
                     ("alias", "add", "sales@" + DOMAIN, "owner@" + DOMAIN),
                     ("alias", "add", "team@" + DOMAIN, "full@" + DOMAIN),
                     ("trap", "add", "trap@" + DOMAIN)):
            cls.mailadm(*args)
        # what Dovecot's quota dict would have written
        stack.mysql_root("INSERT INTO quota_usage (username, bytes, messages) VALUES "
                         "('full@%s', 2097152, 10), ('roomy@%s', 1000, 1)" % (DOMAIN, DOMAIN),
                         stack.db_name)
        cls.port = harness.free_port()
        cls.svc, cls.policy_conf, cls.metrics_port = cls.start_policyd("policyd", cls.port)
        cls.smtp_port = stack.start_postfix({
            "smtpd_authorized_xclient_hosts": "127.0.0.1",
            "relay_domains": DOMAIN + ", remote.example",
            "smtpd_relay_restrictions": "reject_unauth_destination",
            "smtpd_recipient_restrictions":
                "check_policy_service inet:127.0.0.1:%d, permit" % cls.port,
            "smtpd_policy_service_timeout": "10s",
        })

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop_postfix()
        for name in ("policyd", "policyd2"):
            if name in cls.stack.services:
                cls.stack.services.pop(name).stop()

    @classmethod
    def mailadm(cls, *args):
        r = subprocess.run([os.path.join(cls.stack.builddir, "mailadm", "mailadm"), "-c",
                            cls.conf] + list(args), capture_output=True, text=True, timeout=60,
                           start_new_session=True)
        assert r.returncode == 0, "mailadm %s: %s%s" % (args, r.stdout, r.stderr)
        return r.stdout

    @classmethod
    def start_policyd(cls, name, port, extra=None):
        metrics_port = harness.free_port()
        section = {"listen": ["127.0.0.1:%d" % port, "unix:" + cls.stack.path(name + ".sock")],
                   "user": "", "socket_group": "", "metrics_listen": "127.0.0.1:%d" % metrics_port,
                   "change_check": "200ms", "snapshot_refresh": "1s", "hold_factor": 2,
                   "idle_timeout": "2s", "write_timeout": "2s", "request_timeout": "1500ms",
                   "blocklist_health_interval": "10s"}
        section.update(extra or {})
        conf = cls.stack.config({"policyd": section, "dns": {"timeout": "1s"},
                                 "blocklists": {"zones": ["bl.example=127.0.0.[2..11]",
                                                          "all.example"]}})
        svc = cls.stack.start_daemon(
            name, POLICYD, conf,
            lambda: harness.port_open(port) and "passed its test" in cls.stack.daemon_log(name))
        return svc, conf, metrics_port

    def metric(self, name):
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                      timeout=10).read().decode()
        for line in body.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0

    def swaks(self, rcpt, sender="someone@remote.example", addr=None, login=None, subject="t"):
        argv = ["swaks", "--server", "127.0.0.1:%d" % self.smtp_port, "--from", sender,
                "--to", rcpt, "--header", "Subject: " + subject, "--body", "Hello."]
        if addr:
            argv += ["--xclient-addr", addr, "--xclient-name", "client.remote.example"]
        if login:
            argv += ["--xclient-login", login]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout

    def assertRefused(self, out, code):
        self.assertIn("<** " + code, out, out[-1500:])

    def assertAccepted(self, out):
        self.assertIn("<-  250 2.0.0 Ok: queued", out, out[-1500:])

    # --- checks through Postfix -----------------------------------------

    def test_over_quota_recipient_refused_at_rcpt(self):
        out = self.swaks("full@" + DOMAIN, addr="198.51.100.10")
        self.assertRefused(out, "552 5.2.2 <full@%s>: Recipient address rejected: Mailbox full"
                           % DOMAIN)
        self.assertIn("RCPT TO", out.split("<** 552")[0].rsplit("\n ->", 1)[-1])
        # an alias whose only mailbox is full is refused too; room is accepted
        self.assertRefused(self.swaks("team@" + DOMAIN, addr="198.51.100.10"), "552 5.2.2")
        self.assertAccepted(self.swaks("roomy@" + DOMAIN, addr="198.51.100.10"))

    def test_send_limit_defers_then_holds(self):
        login = "sender@" + DOMAIN
        for i in range(3):
            self.assertAccepted(self.swaks("x%d@remote.example" % i, sender=login, login=login))
        out = self.swaks("x4@remote.example", sender=login, login=login)
        self.assertRefused(out, "451 4.7.1 <x4@remote.example>: Recipient address rejected: "
                           "Sending limit reached: %s may send 3 messages per 1h" % login)
        for i in range(2):
            self.assertRefused(self.swaks("y%d@remote.example" % i, sender=login, login=login),
                               "451 4.7.1")
        # the 7th attempt is over twice the limit: held, mail goes to the hold queue
        out = self.swaks("z@remote.example", sender=login, login=login, subject="held one")
        self.assertAccepted(out)
        harness.wait_for(lambda: self.stack.mysql_root(
            "SELECT COUNT(*) FROM accounts WHERE email = '%s' AND sending_held_at IS NOT NULL"
            % login, self.stack.db_name).strip().endswith("1"), 10, "the hold in the database")
        held = subprocess.run(["postqueue", "-c", self.stack.postfix["dir"] + "/etc", "-j"],
                              capture_output=True, text=True).stdout
        self.assertIn('"queue_name": "hold"', held)
        self.assertIn("held as possibly compromised", self.stack.daemon_log("policyd"))
        self.assertEqual(self.stack.redis_cli("EXISTS", "lrtest:held:" + login).strip(), "1")
        # the postmaster releases it: the database and the shared mark are cleared
        self.mailadm("account", "set", login, "--release-hold")
        self.assertEqual(self.stack.redis_cli("EXISTS", "lrtest:held:" + login).strip(), "0")

    def test_spam_trap_refused_and_network_blocked(self):
        out = self.swaks("trap@" + DOMAIN, addr="203.0.113.7")
        self.assertRefused(out, "550 5.7.1 <trap@%s>: Recipient address rejected: This address "
                           "accepts no mail" % DOMAIN)
        # the next connection from that network is refused whatever it sends
        out = self.swaks("roomy@" + DOMAIN, addr="203.0.113.8")
        self.assertRefused(out, "554 5.7.1 <roomy@%s>: Recipient address rejected: Service "
                           "unavailable; client network 203.0.113.0/24 is blocked" % DOMAIN)
        self.assertAccepted(self.swaks("roomy@" + DOMAIN, addr="198.51.100.20"))
        harness.wait_for(lambda: self.stack.mysql_root(
            "SELECT hits FROM spam_traps WHERE address = 'trap@%s'" % DOMAIN,
            self.stack.db_name).strip().endswith("1"), 10, "the trap hit in the database")

    def test_listed_client_refused_with_zone_named(self):
        out = self.swaks("roomy@" + DOMAIN, addr="192.0.2.66")
        self.assertRefused(out, "554 5.7.1 <roomy@%s>: Recipient address rejected: Service "
                           "unavailable; client [192.0.2.66] blocked using bl.example; listed: "
                           "see https://bl.example/192.0.2.66" % DOMAIN)
        harness.wait_for(lambda: "192.0.2.66" in self.stack.mysql_root(
            "SELECT ip, zone, listed FROM blocklists_cache", self.stack.db_name), 10,
            "the answer in blocklists_cache")

    def test_zone_listing_127_0_0_1_is_ignored(self):
        log = self.stack.daemon_log("policyd")
        self.assertIn("blocklist all.example lists 127.0.0.1 (everything)", log)
        # all.example would list this client; it is not used, so mail flows
        self.assertAccepted(self.swaks("roomy@" + DOMAIN, addr="192.0.2.55"))

    def test_sender_not_owned_by_login_refused(self):
        login = "owner@" + DOMAIN
        out = self.swaks("a@remote.example", sender="other@" + DOMAIN, login=login)
        self.assertRefused(out, "553 5.7.1 <a@remote.example>: Recipient address rejected: "
                           "Sender address <other@%s> is not owned by user %s" % (DOMAIN, login))
        self.assertAccepted(self.swaks("a@remote.example", sender="sales@" + DOMAIN, login=login))
        self.assertAccepted(self.swaks("a@remote.example", sender=login, login=login))

    # --- two nodes, one budget ------------------------------------------

    def test_second_node_shares_the_budget(self):
        port2 = harness.free_port()
        self.start_policyd("policyd2", port2)
        login = "twonode@" + DOMAIN
        a, b = PolicyClient(self.port), PolicyClient(port2)
        try:
            for i, client in enumerate((a, b, a, b)):
                self.assertEqual(client.ask(sasl_username=login, sender=login,
                                            recipient="r@remote.example", instance="tn%d" % i),
                                 "DUNNO")
            for client in (a, b):
                answer = client.ask(sasl_username=login, sender=login,
                                    recipient="r@remote.example", instance="over%d" % id(client))
                self.assertTrue(answer.startswith("451 4.7.1 Sending limit reached"), answer)
        finally:
            a.close()
            b.close()
            self.stack.services.pop("policyd2").stop()

    # --- the protocol's limits --------------------------------------------

    def test_oversized_and_malformed_requests_drop_only_that_client(self):
        good = PolicyClient(self.port)
        try:
            for bad in (b"recipient=" + b"a" * 5000 + b"\n\n", b"no equals sign\n\n",
                        b"x=1\n" * 5000 + b"\n"):
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                s.sendall(bad)
                try:
                    self.assertEqual(s.recv(100), b"", "policyd should close the connection")
                except ConnectionResetError:
                    pass  # closed with our unread request still in its buffer
                s.close()
                self.assertEqual(good.ask(recipient="roomy@" + DOMAIN), "DUNNO")
        finally:
            good.close()

    def test_pipelined_requests_are_answered_in_order(self):
        c = PolicyClient(self.port)
        try:
            c.sock.sendall((request(recipient="full@" + DOMAIN, client_address="198.51.100.3") +
                            request(recipient="roomy@" + DOMAIN, client_address="198.51.100.3"))
                           .encode())
            self.assertTrue(c.read_answer().startswith("552 5.2.2"))
            self.assertEqual(c.read_answer(), "DUNNO")
        finally:
            c.close()

    def test_end_of_message_and_unix_socket(self):
        c = PolicyClient(self.stack.path("policyd.sock"))
        try:
            # at END-OF-MESSAGE the real size is known; one recipient is checked
            self.assertTrue(c.ask(protocol_state="END-OF-MESSAGE", recipient="roomy@" + DOMAIN,
                                  recipient_count="1", size=str(200 * 1024 * 1024),
                                  client_address="198.51.100.30").startswith("552 5.2.2"))
            self.assertEqual(c.ask(protocol_state="END-OF-MESSAGE", recipient="",
                                   recipient_count="2", size=str(200 * 1024 * 1024),
                                   client_address="198.51.100.30"), "DUNNO")
            # a request that is not smtpd_access_policy gets DUNNO
            self.assertEqual(c.ask(request="something_else"), "DUNNO")
        finally:
            c.close()
        metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                         timeout=10).read().decode()
        self.assertIn('policyd_check_results_total{check="quota",result="reject"}', metrics)
        self.assertIn('policyd_blocklist_zone_usable{zone="bl.example"} 1', metrics)
        self.assertIn('policyd_blocklist_zone_usable{zone="all.example"} 0', metrics)

    def test_unfinished_request_is_dropped_at_idle_timeout(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\n")
        started = time.monotonic()
        self.assertEqual(s.recv(100), b"")
        self.assertLess(time.monotonic() - started, 6)
        s.close()

    def test_trickled_request_is_dropped_within_idle_timeout(self):
        # a byte every 0.4 s used to move the 2 s idle timeout at every byte
        closes = self.metric('policyd_connections_closed_total{reason="read_timeout"}')
        s = socket.create_connection(("127.0.0.1", self.port), timeout=0.4)
        started, closed = time.monotonic(), False
        try:
            for byte in request(recipient="roomy@" + DOMAIN).encode()[:20]:
                try:
                    s.send(bytes([byte]))
                    if s.recv(100) == b"":
                        closed = True
                        break
                except socket.timeout:
                    continue
                except OSError:
                    closed = True
                    break
        finally:
            s.close()
        self.assertTrue(closed, "a trickled request kept its connection for %.1f s"
                        % (time.monotonic() - started))
        self.assertLess(time.monotonic() - started, 3.5)
        self.assertEqual(self.metric('policyd_connections_closed_total{reason="read_timeout"}'),
                         closes + 1)
        self.assertIn("a request still not complete", self.stack.daemon_log("policyd"))

    def test_pipelining_while_an_answer_is_pending_is_bounded(self):
        # Every request from this client waits on Redis and DNS; meanwhile
        # the client pipelines 200 MB and reads nothing. policyd used to
        # buffer all of it (780 MB in 2.5 s); now it stops reading, and
        # closes the connection when its answers are not taken.
        one = request(recipient="roomy@" + DOMAIN, client_address="198.51.100.77").encode()
        flood_data = one * (200 * 1024 * 1024 // len(one))
        rss_before = vm_rss_kb(self.svc.proc.pid)
        closes = self.metric('policyd_connections_closed_total{reason="write_timeout"}')
        peak = [rss_before]
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                peak[0] = max(peak[0], vm_rss_kb(self.svc.proc.pid))
                time.sleep(0.05)
        sampler = threading.Thread(target=sample)
        sampler.start()
        # over the unix socket, whose kernel buffers are small (over TCP on
        # loopback megabytes of answers fit in them before any backs up)
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.stack.path("policyd.sock"))
        good = None
        try:
            sent = flood(s, flood_data, 4)
            sampling.set()
            sampler.join()
            if not sanitized(self.svc.proc.pid):    # ASan keeps 256 MB of freed memory
                self.assertLess(peak[0] - rss_before, 32 * 1024,
                                "policyd grew from %d kB to %d kB" % (rss_before, peak[0]))
            self.assertLess(sent, len(flood_data), "policyd read all of it")
            good = PolicyClient(self.port)
            started = time.monotonic()
            self.assertEqual(good.ask(recipient="roomy@" + DOMAIN), "DUNNO")
            self.assertLess(time.monotonic() - started, 1)
            harness.wait_for(lambda: self.metric(
                'policyd_connections_closed_total{reason="write_timeout"}') > closes, 8,
                "the write_timeout")
        finally:
            sampling.set()
            sampler.join()
            s.close()
            if good is not None:
                good.close()
        self.assertTrue(self.svc.alive())

    def test_sizes_beyond_any_quota_are_over_it(self):
        c = PolicyClient(self.port)
        try:
            for size in ("9223372036854775000",     # used + size overflowed int64
                         "9223372036854775807", "9223372036854775808",
                         "18446744073709551617",    # 2^64 + 1
                         "9" * 40):
                for rcpt in ("roomy@" + DOMAIN, "full@" + DOMAIN):
                    answer = c.ask(recipient=rcpt, size=size, client_address="198.51.100.31")
                    self.assertTrue(answer.startswith("552 5.2.2"), "%s size=%s: %s"
                                    % (rcpt, size, answer))
                self.assertTrue(c.ask(protocol_state="END-OF-MESSAGE", recipient="roomy@" + DOMAIN,
                                      recipient_count="1", size=size,
                                      client_address="198.51.100.31").startswith("552 5.2.2"))
            self.assertEqual(c.ask(recipient="roomy@" + DOMAIN, size="1000",
                                   client_address="198.51.100.31"), "DUNNO")
        finally:
            c.close()
        self.assertTrue(self.svc.alive())
        # a size that is not a number is a broken client: dropped, not judged
        dropped = self.metric("policyd_bad_requests_total")
        for size in (" 5", "-1", "1e9", "0x7fffffffffffffff", "5 "):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            try:
                s.sendall(request(recipient="full@" + DOMAIN, size=size).encode())
                self.assertEqual(s.recv(100), b"", "size=%r answered" % size)
            except ConnectionResetError:
                pass
            finally:
                s.close()
        self.assertEqual(self.metric("policyd_bad_requests_total"), dropped + 5)

    # --- faults -----------------------------------------------------------

    def test_redis_down_then_back(self):
        login = "owner@" + DOMAIN
        c = PolicyClient(self.port)
        try:
            self.stack.stop_redis()
            started = time.monotonic()
            for i in range(5):
                self.assertEqual(c.ask(sasl_username=login, sender=login,
                                       recipient="r@remote.example", instance="rd%d" % i),
                                 "DUNNO")
            self.assertLess(time.monotonic() - started, 5)
            self.assertIn("Redis unavailable", self.stack.daemon_log("policyd"))
            # blocklists still answer from DNS while Redis is away
            self.assertTrue(c.ask(client_address="192.0.2.66", recipient="roomy@" + DOMAIN)
                            .startswith("554 5.7.1"))
        finally:
            self.stack.start_redis()
        # back: a held mark in Redis is seen again
        self.stack.redis_cli("SET", "lrtest:held:" + login, "1", "PX", "60000")
        try:
            harness.wait_for(lambda: c.ask(sasl_username=login, sender=login,
                                           recipient="r@remote.example",
                                           instance="back%f" % time.time()).startswith("HOLD"),
                             15, "policyd to use Redis again")
        finally:
            self.stack.redis_cli("DEL", "lrtest:held:" + login)
            c.close()

    def test_database_down_keeps_the_last_snapshot(self):
        c = PolicyClient(self.port)
        try:
            self.stack.stop_mariadb()
            time.sleep(1.5)  # a snapshot refresh fails meanwhile
            started = time.monotonic()
            self.assertTrue(c.ask(recipient="full@" + DOMAIN,
                                  client_address="198.51.100.4").startswith("552 5.2.2"))
            self.assertLess(time.monotonic() - started, 2)
        finally:
            self.stack.start_mariadb()
        self.mailadm("trap", "add", "newtrap@" + DOMAIN)
        harness.wait_for(lambda: c.ask(recipient="newtrap@" + DOMAIN,
                                       client_address="100.64.0.5").startswith("550 5.7.1"),
                         15, "policyd to reload after the database came back")
        c.close()


if __name__ == "__main__":
    unittest.main()
