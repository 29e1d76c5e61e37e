"""harness.py - real services on loopback for the integration tests.

Starts redis-server, mariadbd (temporary datadir), nsd (test zones) and a
private Postfix instance (own config and queue directory, relaying to
smtp-sink), each on a free loopback port, and tears all of it down on exit,
also after a failure or a signal. The harness makes itself a child
subreaper, so processes that daemonize (Postfix's master) stay its
descendants and are found and stopped; `Stack.leftovers()` lists anything
still alive that belongs to the stack, and the runner fails when there is.

Nothing here mocks a service: tests talk to the real thing.
"""

import contextlib
import ctypes
import glob
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

PR_SET_CHILD_SUBREAPER = 36


def set_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except OSError:
        pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError("timed out waiting for " + what)


def port_open(port, host="127.0.0.1"):
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


def udp_dns_answers(port, address="127.0.0.1"):
    """True when something answers a DNS query on address:port."""
    query = bytes.fromhex("abcd01000001000000000000") + b"\x00" + b"\x00\x06\x00\x01"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        try:
            s.sendto(query, (address, port))
            return len(s.recv(512)) >= 12
        except OSError:
            return False


def libconfig_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[ " + ", ".join(libconfig_value(x) for x in v) + " ]" if v else "[]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(sections):
    out = []
    for name, options in sections.items():
        out.append("%s = {" % name)
        for key, value in options.items():
            out.append("\t%s = %s;" % (key, libconfig_value(value)))
        out.append("};")
    return "\n".join(out) + "\n"


def write_secret(path, secret):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")


class Service:
    """One process (or process group) the stack started."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     env=env, cwd=cwd)

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout=10):
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(5)
        self.signal(signal.SIGKILL)  # anything left in its group
        self.log.close()

    def kill(self):
        self.signal(signal.SIGKILL)
        self.proc.wait(5)
        self.log.close()


def clock_base_from_env():
    """LIMRISTEM_TEST_TIME_OF_DAY=HH:MM starts the daemons' wall clock at the
    next HH:MM UTC (an offset of under a day ahead), so the suite can be run
    as if it were late evening or just past midnight; 0 without it."""
    spec = os.environ.get("LIMRISTEM_TEST_TIME_OF_DAY", "")
    if not spec:
        return 0
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", spec)
    if m is None:
        raise ValueError("LIMRISTEM_TEST_TIME_OF_DAY=%r: not HH:MM (UTC)" % spec)
    now = int(time.time())
    target = int(m.group(1)) * 3600 + int(m.group(2)) * 60
    return (target - now % 86400) % 86400


class Stack:
    def __init__(self, builddir, srcdir, keep=False):
        set_subreaper()
        self.builddir = builddir
        self.srcdir = srcdir
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix="lr-it-")
        os.chmod(self.dir, 0o755)
        self.services = {}
        self.redis_port = None
        self.redis_password = None
        self.mariadb_socket = None
        self.mariadb_port = None
        self.db_name = "limristem_test"
        self.dns_port = None
        self.dns_address = "127.0.0.1"
        self.zones = {}
        self.postfix = None
        self.clock_base = clock_base_from_env()
        self._write_clock(self.clock_base)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def _start(self, name, argv, **kw):
        svc = Service(name, argv, self.path(name + ".log"), **kw)
        self.services[name] = svc
        return svc

    # --- Redis ---------------------------------------------------------

    def start_redis(self):
        """Starts redis-server (same port and password on a restart)."""
        if self.redis_port is None:
            self.redis_port = free_port()
            self.redis_password = secrets.token_hex(16)
            write_secret(self.path("redis.password"), self.redis_password)
            os.makedirs(self.path("redis"), exist_ok=True)
        conf = self.path("redis.conf")
        with open(conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\ndir %s\nsave \"\"\nappendonly no\n"
                    "daemonize no\nrequirepass %s\nunixsocket %s\nunixsocketperm 700\n"
                    % (self.redis_port, self.path("redis"), self.redis_password,
                       self.path("redis.sock")))
        self._start("redis", ["redis-server", conf])
        wait_for(lambda: port_open(self.redis_port), 10, "redis-server")

    def redis_cli(self, *args):
        """Runs one command against the test Redis; returns its output."""
        with open(self.path("redis.password")) as f:
            password = f.read().strip()
        return subprocess.run(["redis-cli", "-p", str(self.redis_port), "--no-auth-warning",
                               "-a", password] + list(args), capture_output=True, text=True,
                              check=True, timeout=10).stdout

    def stop_redis(self, kill=True):
        svc = self.services.pop("redis")
        svc.kill() if kill else svc.stop()

    # --- MariaDB -------------------------------------------------------

    def start_mariadb(self):
        datadir = self.path("mariadb")
        first = not os.path.isdir(datadir)
        if first:
            self.mariadb_socket = self.path("mariadb.sock")
            self.mariadb_port = free_port()
            subprocess.run(["mariadb-install-db", "--no-defaults", "--datadir=" + datadir,
                            "--auth-root-authentication-method=normal", "--skip-test-db",
                            "--user=" + self._user()],
                           check=True, stdout=open(self.path("mariadb-install.log"), "wb"),
                           stderr=subprocess.STDOUT)
        self._start("mariadb", [
            "mariadbd", "--no-defaults", "--user=" + self._user(), "--datadir=" + datadir,
            "--socket=" + self.mariadb_socket, "--port=%d" % self.mariadb_port,
            "--bind-address=127.0.0.1", "--pid-file=" + self.path("mariadb.pid"),
            "--log-error=" + self.path("mariadb-error.log"), "--skip-log-bin",
            "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M",
            "--innodb-flush-log-at-trx-commit=2", "--skip-name-resolve"])
        wait_for(lambda: os.path.exists(self.mariadb_socket) and port_open(self.mariadb_port),
                 30, "mariadbd")
        if first:
            self.db_password = secrets.token_hex(16)
            write_secret(self.path("db.password"), self.db_password)
            self.mysql_root(
                "CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
                "CREATE USER 'limristem'@'localhost' IDENTIFIED BY '%s';"
                "CREATE USER 'limristem'@'127.0.0.1' IDENTIFIED BY '%s';"
                "GRANT ALL ON %s.* TO 'limristem'@'localhost';"
                "GRANT ALL ON %s.* TO 'limristem'@'127.0.0.1';"
                % (self.db_name, self.db_password, self.db_password, self.db_name, self.db_name))

    def stop_mariadb(self, kill=False):
        svc = self.services.pop("mariadb")
        svc.kill() if kill else svc.stop(30)

    def mysql_root(self, sql, database=None):
        argv = ["mariadb", "--no-defaults", "-S", self.mariadb_socket, "-u", "root", "-N", "-B"]
        if database:
            argv.append(database)
        return subprocess.run(argv + ["-e", sql], check=True, capture_output=True,
                              text=True).stdout

    def fresh_database(self):
        """A running MariaDB with an empty database, migrated to the newest
        schema; returns the configuration path used to migrate."""
        if "mariadb" not in self.services:
            self.start_mariadb()
        self.reset_database()
        conf = self.config()
        r = probe(conf, "migrate", os.path.join(self.srcdir, "sql", "migrations"))
        if r.returncode != 0:
            raise RuntimeError("migration failed: " + r.stdout + r.stderr)
        return conf

    def reset_database(self):
        self.mysql_root("DROP DATABASE IF EXISTS %s; CREATE DATABASE %s CHARACTER SET utf8mb4 "
                        "COLLATE utf8mb4_unicode_ci;" % (self.db_name, self.db_name))

    @staticmethod
    def _user():
        import pwd
        return pwd.getpwuid(os.getuid()).pw_name

    # --- DNS (nsd) -----------------------------------------------------

    def start_dns(self, zones=None, address="127.0.0.1", port=None):
        """Serves zones ({name: records in zone-file syntax}) with nsd, on
        a free port of address unless port is given (tools that cannot ask
        another port than 53 need 127.0.1.53:53, say)."""
        if zones:
            self.zones.update(zones)
        self._add_dmarc_ancestors()
        if port is not None:
            self.dns_port = port
        if self.dns_port is None:
            self.dns_port = free_port()
        self.dns_address = address
        zdir = self.path("zones")
        os.makedirs(zdir, exist_ok=True)
        conf = ["server:", "  ip-address: %s@%d" % (address, self.dns_port), '  username: ""',
                '  chroot: ""', '  zonesdir: "%s"' % zdir, '  database: ""',
                '  zonelistfile: "%s/zone.list"' % zdir, '  xfrdfile: "%s/xfrd.state"' % zdir,
                '  xfrdir: "%s"' % zdir, '  pidfile: "%s/nsd.pid"' % zdir,
                '  logfile: "%s"' % self.path("nsd-server.log"), "  server-count: 1",
                "  verbosity: 2", "  refuse-any: yes", "  rrl-ratelimit: 0", "remote-control:", "  control-enable: no"]
        for name in sorted(self.zones):
            self._write_zone(name)
            conf += ["zone:", "  name: %s" % name, "  zonefile: %s.zone" % name]
        with open(self.path("nsd.conf"), "w") as f:
            f.write("\n".join(conf) + "\n")
        self._start("nsd", ["nsd", "-d", "-c", self.path("nsd.conf")])
        wait_for(lambda: udp_dns_answers(self.dns_port, address), 10, "nsd")

    def _add_dmarc_ancestors(self):
        """_dmarc.NAME of every ancestor of a served zone that no zone
        serves (up to the top-level domain) answers with no record, as in
        the real DNS: RFC 9989's tree walk asks them, and nsd refuses names
        outside its zones (a temporary failure to the walk)."""
        served = [z for z in self.zones if not z.startswith("_dmarc.")]
        under = lambda name: any(name == z or name.endswith("." + z) for z in served)
        for zone in served:
            labels = zone.split(".")
            for i in range(1, len(labels)):
                ancestor = ".".join(labels[i:])
                if not under(ancestor):
                    self.zones.setdefault("_dmarc." + ancestor, "")

    def _write_zone(self, name):
        serial = int(time.time() * 10) % 4000000000
        text = ("$ORIGIN %s.\n$TTL 300\n@ IN SOA ns.%s. hostmaster.%s. %d 3600 600 86400 60\n"
                "@ IN NS ns.%s.\nns IN A 127.0.0.1\n%s\n"
                % (name, name, name, serial, name, self.zones[name]))
        with open(self.path("zones", name + ".zone"), "w") as f:
            f.write(text)

    def set_zone(self, name, records):
        """Replaces a zone's records and restarts nsd to serve them."""
        self.zones[name] = records
        self.stop_dns(kill=False)
        self.start_dns()

    def stop_dns(self, kill=True):
        svc = self.services.pop("nsd")
        svc.kill() if kill else svc.stop()

    # --- Postfix -------------------------------------------------------

    def start_dovecot_sasl(self, users):
        """Dovecot's auth service as Postfix's SASL server (users: name ->
        password); returns the main.cf settings that turn SMTP AUTH on."""
        d = self.path("dovecot")
        os.makedirs(os.path.join(d, "run"), exist_ok=True)
        with open(os.path.join(d, "passwd"), "w") as f:
            f.write("".join("%s:{PLAIN}%s\n" % kv for kv in users.items()))
        socket = os.path.join(d, "auth")
        with open(os.path.join(d, "dovecot.conf"), "w") as f:
            f.write("protocols =\nbase_dir = %s/run\nstate_dir = %s/run\nlog_path = %s/log\n"
                    "ssl = no\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n"
                    "passdb {\n  driver = passwd-file\n  args = %s/passwd\n}\n"
                    "service auth {\n  unix_listener %s {\n    mode = 0666\n  }\n}\n"
                    % (d, d, d, d, socket))
        self._start("dovecot", ["dovecot", "-F", "-c", os.path.join(d, "dovecot.conf")])
        wait_for(lambda: os.path.exists(socket), 20, "dovecot's auth socket")
        return {"smtpd_sasl_auth_enable": "yes", "smtpd_sasl_type": "dovecot",
                "smtpd_sasl_path": socket}

    def start_postfix(self, main_cf=None, master_cf_extra=""):
        """A private Postfix instance that relays everything to smtp-sink.

        Returns the SMTP port; messages the sink receives land in
        self.path("sink") (one file each, envelope in X-Mail-Args and
        X-Rcpt-Args headers)."""
        if os.geteuid() != 0:
            raise PermissionError("a Postfix instance needs root")
        # an instance a failed setUpClass left running would hold the
        # queue's master lock, and "postfix start" would refuse
        self.stop_postfix()
        pf = self.path("postfix")
        self._kill_postfix_master(pf)
        for d in ("etc", "spool", "data", "sink"):
            os.makedirs(os.path.join(pf, d), exist_ok=True)
        shutil.chown(os.path.join(pf, "data"), "postfix")
        shutil.chown(os.path.join(pf, "sink"), "postfix")
        smtp_port, sink_port = free_port(), free_port()
        main = {
            "compatibility_level": "3.6",
            "config_directory": pf + "/etc",
            "queue_directory": pf + "/spool",
            "data_directory": pf + "/data",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "mx.limristem.test",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "relayhost": "[127.0.0.1]:%d" % sink_port,
            "smtpd_recipient_restrictions": "permit_mynetworks, reject",
            "maillog_file": pf + "/maillog",
            "maillog_file_prefixes": pf,
            "smtp_host_lookup": "native",
            "disable_dns_lookups": "yes",
            "smtputf8_enable": "no",
            "biff": "no",
            "shlib_directory": "/usr/lib/postfix",
        }
        main.update(main_cf or {})
        with open(os.path.join(pf, "etc", "main.cf"), "w") as f:
            f.write("".join("%s = %s\n" % kv for kv in main.items()))
        services = [
            "127.0.0.1:%d inet n - n - - smtpd" % smtp_port,
            "pickup unix n - n 60 1 pickup", "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr", "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce", "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce", "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush", "proxymap unix - - n - - proxymap",
            "smtp unix - - n - - smtp", "relay unix - - n - - smtp",
            "showq unix n - n - - showq", "error unix - - n - - error",
            "retry unix - - n - - error", "discard unix - - n - - discard",
            "local unix - n n - - local", "virtual unix - n n - - virtual",
            "lmtp unix - - n - - lmtp", "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache", "postlog unix-dgram n - n - 1 postlogd",
        ]
        with open(os.path.join(pf, "etc", "master.cf"), "w") as f:
            f.write("\n".join(services) + "\n" + master_cf_extra)
        self._start("smtp-sink", ["smtp-sink", "-u", "postfix", "-d", pf + "/sink/%Y%m%d%H%M%S.",
                                  "127.0.0.1:%d" % sink_port, "100"])
        wait_for(lambda: port_open(sink_port), 10, "smtp-sink")
        self.postfix = {"dir": pf, "smtp_port": smtp_port, "sink_port": sink_port}
        try:
            for verb in ("check", "start"):
                r = subprocess.run(["postfix", "-c", pf + "/etc", verb], capture_output=True,
                                   text=True, timeout=60)
                if r.returncode != 0:
                    raise RuntimeError("postfix %s: exit %d: %s\n%s" % (
                        verb, r.returncode, (r.stdout + r.stderr).strip(),
                        self._tail(os.path.join(pf, "maillog"))))
            wait_for(lambda: port_open(smtp_port), 20, "postfix smtpd")
        except BaseException:
            self.stop_postfix()
            raise
        return smtp_port

    @staticmethod
    def _tail(path, size=3000):
        try:
            with open(path, errors="replace") as f:
                return f.read()[-size:]
        except OSError:
            return "(no %s)" % path

    @staticmethod
    def _kill_postfix_master(pf):
        """Kills a master process still running on the queue in pf."""
        pidfile = os.path.join(pf, "spool", "pid", "master.pid")
        with contextlib.suppress(OSError, ValueError):
            pid = int(open(pidfile).read().strip())
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() != "master":
                    return
            os.kill(pid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                wait_for(lambda: not os.path.exists("/proc/%d" % pid) or _is_zombie(pid), 10,
                         "a leftover postfix master to exit")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def send_mail(self, sender, rcpt, subject, body="Hello."):
        """Sends one message through the Postfix instance with swaks ("" is
        the null sender); returns swaks' CompletedProcess."""
        return subprocess.run(["swaks", "--server", "127.0.0.1:%d" % self.postfix["smtp_port"],
                               "--from", sender or "<>", "--to", rcpt, "--header",
                               "Subject: " + subject, "--body", body],
                              capture_output=True, text=True, timeout=60)

    def sink_message(self, subject, timeout=20):
        """The message the sink received with exactly this subject (waits for
        it): the whole line, so that "forged" never finds "forged ar"."""
        line = re.compile(r"(?m)^Subject: %s\r?$" % re.escape(subject))

        def found():
            return [m for m in self.sink_messages() if line.search(m)]
        wait_for(found, timeout, "the message '%s' at the sink" % subject)
        return found()[0]

    def postfix_sql_map(self, template):
        """sql/postfix/TEMPLATE as shipped, with only its connection lines
        pointed at the test database; returns "mysql:PATH" for main.cf."""
        text = open(os.path.join(self.srcdir, "sql", "postfix", template)).read()
        for key, value in (("hosts", "unix:" + self.mariadb_socket), ("dbname", self.db_name),
                           ("user", "limristem"), ("password", self.db_password)):
            text = re.sub(r"(?m)^%s = .*$" % key, "%s = %s" % (key, value), text)
        path = self.path("pf-" + template)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        shutil.chown(path, group="postfix")
        return "mysql:" + path

    def postfix_tool_config(self):
        """A configuration directory of this stack's own for postmap and
        postconf, so that no test reads the host's /etc/postfix (a fresh
        Debian install has no main.cf there at all)."""
        if self.postfix is not None:
            return self.postfix["dir"] + "/etc"
        d = self.path("postfix-tools")
        if not os.path.exists(os.path.join(d, "main.cf")):
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "main.cf"), "w") as f:
                f.write("compatibility_level = 3.6\nshlib_directory = /usr/lib/postfix\n"
                        "meta_directory = /etc/postfix\n")
        return d

    def postmap_query(self, template, key):
        """postmap -q KEY on sql/postfix/TEMPLATE as shipped: the values it
        found, sorted, or None when the key is not in the map. Anything
        postmap says on stderr is a failure, never a "not found": it exits 1
        for a fatal error as well as for a missing key."""
        r = subprocess.run(["postmap", "-c", self.postfix_tool_config(), "-q", key,
                            self.postfix_sql_map(template)],
                           capture_output=True, text=True, timeout=60)
        if r.returncode not in (0, 1) or r.stderr.strip():
            raise AssertionError("postmap -q %s %s: exit %d: %s"
                                 % (key, template, r.returncode, r.stderr.strip()))
        return sorted(r.stdout.strip().split(",")) if r.returncode == 0 else None

    def sink_messages(self):
        d = self.path("postfix", "sink")
        out = []
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                out.append(f.read().decode("utf-8", "replace"))
        return out

    def stop_postfix(self):
        if self.postfix is None:
            return
        pf = self.postfix["dir"]
        subprocess.run(["postfix", "-c", pf + "/etc", "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self._kill_postfix_master(pf)
        self.postfix = None
        if "smtp-sink" in self.services:
            self.services.pop("smtp-sink").stop()

    # --- our daemons ---------------------------------------------------

    def start_daemon(self, name, relpath, conf, ready, extra_args=()):
        """Starts build/relpath -f -c conf and waits until ready() is true.
        The daemon's wall clock follows advance_clock()."""
        argv = [os.path.join(self.builddir, relpath), "-f", "-c", conf] + list(extra_args)
        env = dict(os.environ, LIMRISTEM_TEST_CLOCK_FILE=self.path("clock-offset"))
        svc = self._start(name, argv, env=env)
        try:
            wait_for(lambda: ready() or not svc.alive(), 20, name)
        except TimeoutError:
            pass
        if not svc.alive() or not ready():
            self.services.pop(name).stop()
            with open(svc.log_path, errors="replace") as f:
                raise RuntimeError("%s did not start:\n%s" % (name, f.read()[-3000:]))
        return svc

    def clock_offset(self):
        """Seconds the daemons' wall clock is ahead of the machine's."""
        try:
            with open(self.path("clock-offset")) as f:
                return int(f.read() or 0)
        except FileNotFoundError:
            return 0

    def _write_clock(self, offset):
        path = self.path("clock-offset")
        with open(path + ".new", "w") as f:
            f.write("%d\n" % offset)
        os.replace(path + ".new", path)

    def advance_clock(self, seconds):
        """Moves the wall clock of every daemon of this stack forward (greylisting
        delays, expiries) instead of sleeping; returns the total offset. A test
        that moves it puts it back with reset_clock() when it is done, so that
        no later test depends on what ran before it."""
        offset = self.clock_offset() + int(seconds)
        self._write_clock(offset)
        return offset

    def reset_clock(self):
        """The daemons' clock back to where the stack started it."""
        self._write_clock(self.clock_base)

    def outside_clock(self, argv):
        """argv run under libfaketime with the daemons' current clock, for an
        independent tool whose answers depend on the time and are compared
        with ours (postsrsd's and Mail::SRS's day stamps, dkimpy's t= checks).

        libfaketime is preloaded directly rather than through the faketime
        program, which makes a named semaphore after its PID and fails
        ("sem_open: File exists") when a killed run left one behind for a
        PID the namespace hands out again."""
        libs = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
        if not libs:
            raise RuntimeError("libfaketime.so.1 not found (package faketime)")
        return ["env", "LD_PRELOAD=" + libs[0],
                "FAKETIME=%+ds" % self.clock_offset()] + list(argv)

    def daemon_log(self, name):
        with open(self.path(name + ".log"), errors="replace") as f:
            return f.read()

    # --- configuration for our programs ---------------------------------

    def learning_secrets(self):
        """This stack's learning.secrets_file (made once, random)."""
        path = self.path("learning.secrets")
        if not os.path.exists(path):
            write_secret(path, secrets.token_urlsafe(32))
        return path

    def config(self, extra=None, redis=True, database=True, dns=True):
        """Writes a limristem.conf pointing at the running services; returns its path."""
        sections = {"log": {"level": "debug", "syslog": False, "stderr": True}}
        if redis and self.redis_port:
            sections["redis"] = {"address": "127.0.0.1:%d" % self.redis_port,
                                 "password_file": self.path("redis.password"),
                                 "connect_timeout": "300ms", "command_timeout": "300ms",
                                 "reconnect_max": "500ms", "key_prefix": "lrtest:"}
        if database and self.mariadb_socket:
            sections["database"] = {"address": "unix:" + self.mariadb_socket,
                                    "name": self.db_name, "user": "limristem",
                                    "password_file": self.path("db.password"),
                                    "reconnect_max": "500ms"}
        if dns and self.dns_port:
            sections["dns"] = {"upstream": ["%s:%d" % (self.dns_address, self.dns_port)],
                               "timeout": "2s"}
        # the secret the milter signs reputation traces with and mailadm
        # learn verifies them with, as the package makes it on install
        sections["learning"] = {"secrets_file": self.learning_secrets()}
        for name, options in (extra or {}).items():
            sections.setdefault(name, {}).update(options)
        if "milter" in sections:
            # Greylisting is on by default, and a test's first message would be
            # deferred: tests of greylisting turn it on, the others need not know.
            sections["milter"].setdefault("greylisting", False)
        path = self.path("limristem-%d.conf" % len(os.listdir(self.dir)))
        with open(path, "w") as f:
            f.write(render_config(sections))
        return path

    # --- teardown ---------------------------------------------------------

    def leftovers(self):
        """Live processes (not zombies) that mention the stack's directory
        or are our children; empty once teardown worked."""
        found = []
        me = os.getpid()
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == me:
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
                with open("/proc/%s/stat" % pid) as f:
                    stat = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            state, ppid = stat[0], int(stat[1])
            if state == "Z":
                continue
            if self.dir in cmdline or ppid == me:
                found.append("%s %s" % (pid, cmdline.strip()))
        return found

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "WARNING: ThreadSanitizer")

    def sanitizer_reports(self):
        """Sanitizer reports in the logs of everything the stack ran, as
        (log name, excerpt); empty when clean. Call before teardown."""
        found = []
        for name in sorted(os.listdir(self.dir)) if os.path.isdir(self.dir) else []:
            if not name.endswith(".log"):
                continue
            with open(self.path(name), errors="replace") as f:
                text = f.read()
            for mark in self.SANITIZER_MARKS:
                at = text.find(mark)
                if at >= 0:
                    found.append((name, text[max(0, at - 200):at + 3000]))
                    break
        return found

    def teardown(self):
        self.stop_all()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def stop_all(self):
        with contextlib.suppress(Exception):
            self.stop_postfix()
        for name in list(self.services):
            with contextlib.suppress(Exception):
                self.services.pop(name).stop()
        reap_children()
        with contextlib.suppress(TimeoutError):
            wait_for(lambda: not self.leftovers(), 10, "stray processes to exit")
        for line in self.leftovers():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(line.split()[0]), signal.SIGKILL)
        reap_children()


def srs_canonical_maps(socket_path):
    """The main.cf lines that wire limristem-srsd into Postfix."""
    return {
        "sender_canonical_maps": "socketmap:unix:%s:forward" % socket_path,
        "sender_canonical_classes": "envelope_sender",
        "recipient_canonical_maps": "socketmap:unix:%s:reverse" % socket_path,
        "recipient_canonical_classes": "envelope_recipient, header_recipient",
    }


def header(message, name):
    """The first header name: value of a message, without the name."""
    for line in message.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def _is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def reap_children():
    """Collects exited orphans that were reparented to us (the subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


# --- the runner's shared stack and helpers for tests ----------------------

_stack = None


def set_stack(stack):
    global _stack
    _stack = stack


def stack():
    """The stack of this run; services start on first use."""
    return _stack


def probe_path():
    return os.path.join(_stack.builddir, "tests", "integration", "lr-probe")


def probe(conf, *args, timeout=60):
    """Runs lr-probe -c conf args...; returns the CompletedProcess (text)."""
    argv = [probe_path()] + (["-c", conf] if conf else []) + [str(a) for a in args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def probe_background(conf, *args):
    argv = [probe_path()] + (["-c", conf] if conf else []) + [str(a) for a in args]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            bufsize=1)
