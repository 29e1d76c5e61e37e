"""limristem-srsd over its sockets: the maps, pipelining, bad clients,
many clients, reloads, privileges and shutdown."""

import os
import pwd
import grp
import selectors
import signal
import socket
import stat
import struct
import subprocess
import time
import unittest
import urllib.request

import harness
from srsclient import Socketmap, netstring

SRS_DOMAIN = "srs.limristem.example"
SRSD = "srs/limristem-srsd"


def srsd_config(stack, name, extra=None, database=False, secrets=("tops3cr3t",)):
    secrets_file = stack.path(name + ".secrets")
    harness.write_secret(secrets_file, "\n".join(secrets))
    section = {
        "domain": SRS_DOMAIN,
        "secrets_file": secrets_file,
        "user": "",
        "socket_group": "",
        "listen": ["unix:" + stack.path(name + ".sock"),
                   "127.0.0.1:%d" % harness.free_port()],
        "change_check": "200ms",
    }
    section.update(extra or {})
    conf = stack.config({"srsd": section}, redis=False, database=database, dns=False)
    return conf, section


def start_srsd(stack, name, extra=None, database=False, secrets=("tops3cr3t",)):
    conf, section = srsd_config(stack, name, extra, database, secrets)
    sock = section["listen"][0][5:]
    svc = stack.start_daemon(name, SRSD, conf, lambda: os.path.exists(sock))
    host, port = section["listen"][1].rsplit(":", 1)
    return svc, sock, ("127.0.0.1", int(port)), conf


def trickle_until_closed(sock, request, interval):
    """Sends all but the last byte of request one byte per interval; True
    when the server closes the connection before that is done."""
    sock.settimeout(interval)
    for byte in request[:-1]:
        try:
            sock.send(bytes([byte]))
            if sock.recv(1) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:     # reset, or a broken pipe
            return True
    return False


def flood(sock, data, seconds):
    """Sends data without reading anything back, for at most seconds or
    until the server stops taking it or closes. Returns the bytes sent."""
    sock.setblocking(False)
    sent, deadline = 0, time.monotonic() + seconds
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_WRITE)
    try:
        while sent < len(data) and time.monotonic() < deadline:
            if not sel.select(0.2):
                continue
            try:
                sent += sock.send(data[sent:sent + 65536])
            except BlockingIOError:
                continue
            except OSError:
                break
    finally:
        sel.close()
        sock.setblocking(True)
    return sent


def closed_by_peer(sock, timeout):
    """Reads (and discards) until EOF or a reset: True when the peer closed
    within timeout."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class SrsdSocketTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = harness.stack()
        cls.domains_file = cls.stack.path("srsd-domains")
        with open(cls.domains_file, "w") as f:
            f.write("# local domains\nlocal.limristem.example\n")
        cls.metrics_port = harness.free_port()
        cls.svc, cls.sock, cls.tcp, cls.conf = start_srsd(cls.stack, "srsd", {
            "domains_file": cls.domains_file, "idle_timeout": "2s",
            "metrics_listen": "127.0.0.1:%d" % cls.metrics_port})

    @classmethod
    def tearDownClass(cls):
        if "srsd" in cls.stack.services:
            cls.stack.services.pop("srsd").stop()

    def client(self, tcp=False):
        c = Socketmap(self.tcp if tcp else self.sock)
        self.addCleanup(c.close)
        return c

    def test_forward_and_reverse(self):
        for tcp in (False, True):
            c = self.client(tcp)
            fwd = c.query("forward", "Alice@Remote.Example")
            self.assertRegex(fwd, r"^OK SRS0=[A-Za-z0-9_-]{4}=[A-Z2-7]{2}=Remote\.Example=Alice@"
                             + SRS_DOMAIN.replace(".", r"\.") + "$")
            self.assertEqual(c.query("reverse", fwd[3:]), "OK Alice@Remote.Example")
            self.assertEqual(c.query("forward", "bob@local.limristem.example"), "NOTFOUND ")
            self.assertEqual(c.query("forward", "postmaster"), "NOTFOUND ")
            self.assertEqual(c.query("forward", ""), "NOTFOUND ")
            self.assertEqual(c.query("reverse", "bob@local.limristem.example"), "NOTFOUND ")
            self.assertEqual(c.query("lookup", "x"), "PERM unknown map (forward and reverse exist)")

    def test_srs1_chain(self):
        c = self.client()
        fwd = c.query("forward", "SRS0=abcd=2W=origin.example=user@other-forwarder.example")
        self.assertRegex(fwd, r"^OK SRS1=[^=]{4}=other-forwarder\.example==abcd=2W=origin\.example=user@")
        self.assertEqual(c.query("reverse", fwd[3:]),
                         "OK SRS0=abcd=2W=origin.example=user@other-forwarder.example")

    def test_forged_and_replayed_addresses_are_refused_and_logged(self):
        c = self.client()
        good = c.query("forward", "carol@remote.example")[3:]
        local, domain = good.split("@")
        parts = local.split("=")
        parts[1] = "AAAA" if parts[1].upper() != "AAAA" else "BBBB"
        forged = "=".join(parts) + "@" + domain
        self.assertEqual(c.query("reverse", forged), "NOTFOUND ")
        old = "SRS0=%s=AA=remote.example=carol@%s" % (parts[1], domain)
        self.assertEqual(c.query("reverse", old), "NOTFOUND ")
        harness.wait_for(lambda: "refused: bad hash" in self.stack.daemon_log("srsd"), 5, "log")
        self.assertIn("reverse <%s> refused: bad hash" % forged, self.stack.daemon_log("srsd"))

    def test_pipelined(self):
        c = self.client()
        keys = ["user%d@remote.example" % i for i in range(300)]
        c.send(b"".join(netstring("forward " + k) for k in keys))
        replies = [c.read_reply() for _ in keys]
        for key, reply in zip(keys, replies):
            self.assertTrue(reply.startswith("OK SRS0=") and reply.endswith(
                "=remote.example=%s@%s" % (key.split("@")[0], SRS_DOMAIN)), reply)
        # and back, in one go again
        c.send(b"".join(netstring("reverse " + r[3:]) for r in replies))
        self.assertEqual([c.read_reply() for _ in keys], ["OK " + k for k in keys])

    def test_garbage_closes_only_that_connection(self):
        other = self.client()
        bad = self.client()
        bad.send(b"hello world\r\n")
        self.assertEqual(bad.read_reply(), "PERM malformed netstring")
        self.assertTrue(bad.at_eof())
        self.assertTrue(other.query("forward", "a@remote.example").startswith("OK "))

    def test_bad_request_keeps_the_connection(self):
        c = self.client()
        c.send(netstring("nokey"))
        self.assertEqual(c.read_reply(), "PERM invalid request: expected NAME KEY")
        self.assertTrue(c.query("forward", "a@remote.example").startswith("OK "))

    def test_oversized_refused_from_the_length_prefix(self):
        c = self.client()
        c.send(b"99999999:forward ")  # the payload never comes
        self.assertEqual(c.read_reply(), "PERM request too long")
        self.assertTrue(c.at_eof())
        c2 = self.client()
        c2.send(netstring("forward " + "x" * 5000 + "@remote.example"))
        self.assertEqual(c2.read_reply(), "PERM request too long")

    def test_clients_that_vanish_mid_request(self):
        for _ in range(50):
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.sock)
            s.sendall(b"40:forward half-a-requ")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            t = socket.create_connection(self.tcp)
            t.sendall(b"40:forward half")
            t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            t.close()   # RST
        self.assertTrue(self.client().query("forward", "a@remote.example").startswith("OK "))
        self.assertTrue(self.svc.alive())

    def test_500_concurrent_connections(self):
        sel = selectors.DefaultSelector()
        conns = []
        for i in range(500):
            s = socket.create_connection(self.tcp) if i % 2 else socket.socket(socket.AF_UNIX)
            if not i % 2:
                s.connect(self.sock)
            conns.append((s, "c%d@remote.example" % i))
        try:
            for s, key in conns:
                s.sendall(netstring("forward " + key) + netstring("forward " + key))
            answers = {}
            for s, key in conns:
                s.setblocking(False)
                sel.register(s, selectors.EVENT_READ, key)
                answers[key] = b""
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and sum(a.count(b",") for a in answers.values()) < 1000:
                for k, _ in sel.select(1):
                    answers[k.data] += k.fileobj.recv(4096)
            for s, key in conns:
                first, second = answers[key].split(b",")[:2]
                self.assertTrue(first.endswith(("=%s@%s" % (key.split("@")[0], SRS_DOMAIN)).encode()))
                self.assertEqual(first, second)
        finally:
            for s, _ in conns:
                s.close()
            sel.close()

    def test_idle_connections_are_closed(self):
        c = self.client()
        self.assertTrue(c.query("forward", "a@remote.example").startswith("OK "))
        c.sock.settimeout(5)
        started = time.monotonic()
        self.assertTrue(c.at_eof())
        self.assertGreater(time.monotonic() - started, 1.0)

    def test_trickled_request_is_closed_at_idle_timeout(self):
        # a byte every 0.4 s used to move the 2 s idle timeout forever
        c = self.client()
        started = time.monotonic()
        self.assertTrue(trickle_until_closed(c.sock, netstring("forward trickle@remote.example"),
                                             0.4), "a trickled request kept its connection")
        self.assertLess(time.monotonic() - started, 3.5)
        harness.wait_for(lambda: "still not complete" in self.stack.daemon_log("srsd"), 5, "log")
        self.assertTrue(self.client().query("forward", "a@remote.example").startswith("OK "))

    def test_domains_file_is_watched(self):
        c = self.client()
        self.assertTrue(c.query("forward", "x@added.limristem.example").startswith("OK "))
        with open(self.domains_file, "a") as f:
            f.write(".added.limristem.example added.limristem.example\n")
        harness.wait_for(lambda: c.query("forward", "x@mail.added.limristem.example") == "NOTFOUND ",
                         5, "the new domains")
        self.assertEqual(c.query("forward", "x@added.limristem.example"), "NOTFOUND ")

    def test_metrics(self):
        self.client().query("forward", "m@remote.example")
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port) as r:
            body = r.read().decode()
        self.assertRegex(body, r'srsd_lookups_total\{map="forward",result="rewritten"\} [1-9]')
        self.assertIn("srsd_local_domains ", body)
        self.assertIn('srsd_lookup_seconds_count{map="forward"}', body)


class SrsdHostileClientTest(unittest.TestCase):
    """Clients that trickle, never read, or take every slot: each is closed
    within its deadline, logged and counted, and others keep being served."""

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.stack()
        cls.metrics_port = harness.free_port()
        cls.svc, cls.sock, cls.tcp, cls.conf = start_srsd(cls.stack, "srsd-hostile", {
            "idle_timeout": "30s", "read_timeout": "1s", "write_timeout": "1s",
            "max_connections": 6, "metrics_listen": "127.0.0.1:%d" % cls.metrics_port})

    @classmethod
    def tearDownClass(cls):
        if "srsd-hostile" in cls.stack.services:
            cls.stack.services.pop("srsd-hostile").stop()

    def log(self):
        return self.stack.daemon_log("srsd-hostile")

    def metric(self, name):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
        return 0.0

    def client(self):
        c = Socketmap(self.sock)
        self.addCleanup(c.close)
        return c

    def test_request_must_complete_within_read_timeout(self):
        c = self.client()
        self.assertTrue(c.query("forward", "a@remote.example").startswith("OK "))
        started = time.monotonic()
        self.assertTrue(trickle_until_closed(c.sock, netstring("forward slow@remote.example"), 0.3))
        self.assertLess(time.monotonic() - started, 2.5)
        harness.wait_for(lambda: "a request still not complete" in self.log(), 5, "the log line")
        self.assertGreaterEqual(self.metric('srsd_connections_closed_total{reason="read_timeout"}'), 1)

    def test_client_that_never_reads_is_closed_at_write_timeout(self):
        c = self.client()
        requests = b"".join(netstring("forward never-reads%d@remote.example" % i)
                            for i in range(100000))
        sent = flood(c.sock, requests, 4)
        self.assertLess(sent, len(requests), "srsd read everything: no back-pressure")
        harness.wait_for(lambda: "answers not taken within 1000 ms" in self.log(), 6,
                         "the write_timeout")
        self.assertTrue(closed_by_peer(c.sock, 5))
        self.assertGreaterEqual(self.metric('srsd_connections_closed_total{reason="write_timeout"}'), 1)
        self.assertTrue(self.client().query("forward", "a@remote.example").startswith("OK "))

    def test_new_client_served_when_every_slot_is_taken(self):
        squatters = []
        for i in range(6):
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.sock)
            s.sendall(b"40:forward squat")     # never finished
            squatters.append(s)
            self.addCleanup(s.close)
        time.sleep(0.2)
        started = time.monotonic()
        c = Socketmap(self.sock, timeout=2)
        self.addCleanup(c.close)
        self.assertTrue(c.query("forward", "newcomer@remote.example").startswith("OK "))
        self.assertLess(time.monotonic() - started, 0.5)
        # the one that went longest without a request made room
        self.assertTrue(closed_by_peer(squatters[0], 2))
        harness.wait_for(lambda: "making room for a new one" in self.log(), 5, "the log line")
        self.assertGreaterEqual(self.metric('srsd_connections_closed_total{reason="evicted"}'), 1)


class SrsdLifecycleTest(unittest.TestCase):
    def setUp(self):
        self.stack = harness.stack()

    def test_sighup_rotates_secrets(self):
        svc, sock, _, conf = start_srsd(self.stack, "srsd-hup")
        self.addCleanup(lambda: self.stack.services.pop("srsd-hup").stop())
        c = Socketmap(sock)
        self.addCleanup(c.close)
        before = c.query("forward", "rot@remote.example")[3:]
        harness.write_secret(self.stack.path("srsd-hup.secrets"), "n3w-s3cret\ntops3cr3t")
        svc.proc.send_signal(signal.SIGHUP)
        harness.wait_for(lambda: "reloaded" in self.stack.daemon_log("srsd-hup"), 5, "reload")
        after = c.query("forward", "rot@remote.example")[3:]
        self.assertNotEqual(before.split("=")[1], after.split("=")[1])   # signed with the new one
        self.assertEqual(c.query("reverse", before), "OK rot@remote.example")  # old still verifies
        self.assertEqual(c.query("reverse", after), "OK rot@remote.example")

    def test_failed_reload_keeps_running_configuration(self):
        svc, sock, _, conf = start_srsd(self.stack, "srsd-badhup")
        self.addCleanup(lambda: self.stack.services.pop("srsd-badhup").stop())
        with open(conf, "a") as f:
            f.write("srsd = { nonsense = 1; };\n")
        svc.proc.send_signal(signal.SIGHUP)
        harness.wait_for(lambda: "reload failed" in self.stack.daemon_log("srsd-badhup"), 5, "log")
        self.assertTrue(Socketmap(sock).query("forward", "a@remote.example").startswith("OK "))

    def test_sigterm_stops_cleanly(self):
        svc, sock, _, _ = start_srsd(self.stack, "srsd-term")
        c = Socketmap(sock)
        c.send(netstring("forward a@remote.example"))
        svc.proc.send_signal(signal.SIGTERM)
        self.assertTrue(c.read_reply().startswith("OK "))
        self.assertEqual(svc.proc.wait(10), 0)
        self.stack.services.pop("srsd-term").stop()
        self.assertFalse(os.path.exists(sock))
        self.assertIn("stopped", self.stack.daemon_log("srsd-term"))

    def test_bad_configuration_names_file_and_line(self):
        conf, _ = srsd_config(self.stack, "srsd-bad", {"hash_length": 40})
        r = subprocess.run([os.path.join(self.stack.builddir, SRSD), "-c", conf, "-t"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        line = [n for n, l in enumerate(open(conf), 1) if "hash_length" in l][0]
        self.assertIn("%s:%d: srsd.hash_length: out of range (1 to 26)" % (conf, line), r.stderr)

    def test_secrets_readable_by_others_refused(self):
        conf, section = srsd_config(self.stack, "srsd-perm")
        os.chmod(section["secrets_file"], 0o644)
        r = subprocess.run([os.path.join(self.stack.builddir, SRSD), "-c", conf, "-t"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("readable by others", r.stderr)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to switch users")
    def test_privileges_socket_owner_and_pid_file(self):
        pid_file = self.stack.path("srsd-priv.pid")
        svc, sock, _, conf = start_srsd(self.stack, "srsd-priv", {
            "user": "nobody", "socket_group": "postfix", "socket_mode": "0660",
            "pid_file": pid_file})
        self.addCleanup(lambda: self.stack.services.pop("srsd-priv").stop())
        # an answer means it serves, which comes after the privilege drop (the
        # socket appears before it, while the daemon is still root)
        self.assertTrue(Socketmap(sock).query("forward", "a@remote.example").startswith("OK "))
        status = open("/proc/%d/status" % svc.proc.pid).read()
        uid = pwd.getpwnam("nobody").pw_uid
        self.assertIn("Uid:\t%d\t%d\t%d\t%d" % (uid, uid, uid, uid), status)
        st = os.stat(sock)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(st.st_gid, grp.getgrnam("postfix").gr_gid)
        self.assertEqual(open(pid_file).read().strip(), str(svc.proc.pid))
        # a second instance on the same pid file refuses to start
        second, _ = srsd_config(self.stack, "srsd-priv2", {"pid_file": pid_file})
        r = subprocess.run([os.path.join(self.stack.builddir, SRSD), "-f", "-c", second],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already running (pid %d)" % svc.proc.pid, r.stderr)
        # and one on the same socket refuses instead of stealing it
        third, _ = srsd_config(self.stack, "srsd-priv3", {"listen": ["unix:" + sock]})
        r = subprocess.run([os.path.join(self.stack.builddir, SRSD), "-f", "-c", third],
                           capture_output=True, text=True, timeout=10)
        self.assertIn("is in use by another process", r.stderr)
