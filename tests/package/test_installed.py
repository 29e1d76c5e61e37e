#!/usr/bin/python3
"""test_installed.py - the installed Debian packages, end to end.

    tests/package/test_installed.py --srcdir=. --debs=DIR [--keep]

Called by tests/package/run after the build. As root on Debian 12:

1. installs DIR/*.deb with apt-get (no dbgsym), checks the user, groups,
   directories, modes and conffile the maintainer scripts made, and that
   the shipped annotated limristem.conf is what the installed programs print;
2. starts redis-server, mariadbd and nsd with test zones on loopback
   (tests/integration/harness.py), points /etc/limristem/limristem.conf at
   them, builds the schema and test data with the installed mailadm;
3. configures the system Postfix (/etc/postfix, chrooted smtpd and cleanup
   as Debian ships them) from the shipped main.cf and master.cf examples,
   relaying to an smtp-sink;
4. starts the daemons as the packaged units say: through systemd when it
   runs, otherwise with each unit's ExecStart as its User, Group and
   SupplementaryGroups (parsed from the installed unit files);
5. passes mail through: inbound DKIM/SPF/DMARC verified (Authentication-
   Results on the delivered copy, a DMARC spoof refused), a redirect
   forwarded with an SRS envelope sender, a spam trap refused by policyd;
   outbound signing and forwarded sealing are marked places for later;
6. checks that an edited conffile survives a reinstall, that remove keeps
   data and purge deletes it (the user stays), and that installing again
   after the purge works.

Teardown always stops what it started, purges the packages and restores
Postfix's configuration, also after a failure.
"""

import argparse
import base64
import email
import glob
import grp
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import dkim  # noqa: E402
import dkimtools  # noqa: E402
import harness  # noqa: E402
from test_dkim_interop import make_rsa  # noqa: E402

PACKAGES = ["limristem-common", "limristem-milter", "limristem-policyd", "limristem-srsd",
            "limristem-mailadm"]
DAEMONS = ["limristem-milter", "limristem-policyd", "limristem-srsd"]
UNIT_DIR = "/lib/systemd/system"
CONF = "/etc/limristem/limristem.conf"
SOCKDIR = "/var/spool/postfix/limristem"
EXAMPLES = "/usr/share/doc/limristem-common/examples"
POSTFIX_SAVED = ("/etc/postfix/main.cf", "/etc/postfix/master.cf")

LOCAL = "limristem.example"             # our domain (mailadm domain add)
SENDER = "sender.example"               # DKIM key, SPF allows 127.0.0.1, DMARC p=reject
SRS_DOMAIN = "srs.limristem.example"
AUTHSERV_ID = "mx.limristem.example"
SEAL_KEY = "/etc/limristem/dkim/arc-seal.key"  # our ARC sealing key: selector arc of LOCAL

args = None


def run(argv, check=True, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 600)
    r = subprocess.run(argv, **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(argv), r.returncode,
                                                      r.stdout or "", r.stderr or ""))
    return r


def apt_env():
    return dict(os.environ, DEBIAN_FRONTEND="noninteractive")


def debs():
    found = sorted(p for p in glob.glob(os.path.join(args.debs, "*.deb")) if "-dbgsym_" not in p)
    if len(found) != len(PACKAGES):
        raise RuntimeError("expected %d packages in %s, found %s" % (len(PACKAGES), args.debs, found))
    return found


def install():
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + debs(), env=apt_env(),
        stdin=subprocess.DEVNULL)


def purge(check=True):
    """dpkg --purge of those of our packages dpkg knows in any state."""
    present = [p for p in PACKAGES
               if run(["dpkg-query", "-W", "-f=${db:Status-Status}", p], check=False).stdout
               not in ("", "not-installed")]
    if present:
        run(["dpkg", "--purge"] + present, check=check, env=apt_env())


def systemd_runs():
    return os.path.isdir("/run/systemd/system")


def unit_service(name):
    """The [Service] settings of an installed unit: {key: [values]}."""
    settings, section = {}, None
    text = open(os.path.join(UNIT_DIR, name + ".service")).read().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def mode_of(path):
    st = os.stat(path)
    return (pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name,
            stat.S_IMODE(st.st_mode))


def proc_ids(pid):
    """(uid, gid, supplementary group names) of a running process."""
    status = open("/proc/%d/status" % pid).read()
    uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
    gid = int(re.search(r"^Gid:\s+(\d+)", status, re.M).group(1))
    groups = re.search(r"^Groups:\s*(.*)$", status, re.M).group(1).split()
    return uid, gid, {grp.getgrgid(int(g)).gr_name for g in groups}


def main_cf_lines(path):
    """key = value settings of a main.cf (continuation lines joined)."""
    settings, key = {}, None
    for line in open(path):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace() and key:
            settings[key] += " " + line.strip()
            continue
        key, value = (s.strip() for s in line.split("=", 1))
        settings[key] = value
    return settings


class InstalledSuite(unittest.TestCase):
    """The steps depend on each other: they run in order (test_1..., test_2...)."""

    stack = None
    daemons = {}
    saved = {}

    # --- set-up and teardown ------------------------------------------------

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        if run(["postfix", "status"], check=False).returncode == 0:
            raise RuntimeError("the system Postfix is running: this test configures, starts "
                               "and stops it, so stop it first (postfix stop)")
        purge(check=False)  # what an earlier, interrupted run may have left
        cls.stack = harness.Stack(args.srcdir, args.srcdir, keep=args.keep)
        cls.stack.db_name = "limristem"
        for path in POSTFIX_SAVED:
            if os.path.exists(path):
                shutil.copy2(path, cls.stack.path(os.path.basename(path) + ".saved"))
                cls.saved[path] = cls.stack.path(os.path.basename(path) + ".saved")

    @classmethod
    def tearDownClass(cls):
        if cls.stack is None:
            return
        cls.stop_daemons()
        cls.stop_postfix()
        cls.stack.stop_all()
        purge(check=False)
        for path in POSTFIX_SAVED:
            if path in cls.saved:
                shutil.copy2(cls.saved[path], path)
            elif os.path.exists(path):
                os.unlink(path)
        shutil.rmtree("/etc/postfix/limristem", ignore_errors=True)
        if args.keep:
            print("stack kept in", cls.stack.dir)
        cls.stack.teardown()

    # --- the daemons, as the units run them -----------------------------------

    @classmethod
    def start_daemons(cls):
        for name in DAEMONS:
            sock = os.path.join(SOCKDIR, name.split("-")[1] + ".sock")
            if systemd_runs():
                # restart: the installation may have started it with the shipped file
                run(["systemctl", "restart", name])
            else:
                cls.daemons[name] = cls.start_like_unit(name)
            svc = cls.daemons.get(name)
            harness.wait_for(lambda: os.path.exists(sock) or (svc and not svc.alive()), 20, name)
            if not os.path.exists(sock):
                raise RuntimeError("%s did not start:\n%s" % (name, cls.daemon_log(name)[-3000:]))

    @classmethod
    def start_like_unit(cls, name):
        """The unit's ExecStart as its User, Group and SupplementaryGroups."""
        unit = unit_service(name)
        (execstart,) = unit["ExecStart"]
        user, group = unit["User"][-1], unit["Group"][-1]
        groups = " ".join(unit.get("SupplementaryGroups", [])).split()
        argv = ["setpriv", "--reuid=" + user, "--regid=" + group,
                "--groups=" + ",".join([group] + groups), "--inh-caps=-all", "--"]
        umask = unit.get("UMask", ["0022"])[-1]
        return cls.stack._start(name, ["sh", "-c", 'umask %s; exec "$@"' % umask, name] + argv +
                                execstart.split(), cwd="/")

    @classmethod
    def stop_daemons(cls):
        for name in DAEMONS:
            if systemd_runs():
                run(["systemctl", "stop", name], check=False)
            svc = cls.daemons.pop(name, None)
            if svc is not None:
                cls.stack.services.pop(name, None)
                svc.stop()

    @classmethod
    def daemon_log(cls, name):
        if systemd_runs():
            return run(["journalctl", "-u", name, "--no-pager", "-n", "200"], check=False).stdout
        return cls.stack.daemon_log(name)

    @classmethod
    def daemon_pid(cls, name):
        if systemd_runs():
            return int(run(["systemctl", "show", "-p", "MainPID", "--value", name]).stdout)
        # sh execs setpriv, which execs the daemon: the same process
        return cls.daemons[name].proc.pid

    # --- Postfix -------------------------------------------------------------

    @classmethod
    def start_postfix(cls):
        """The system Postfix with the shipped main.cf and master.cf lines."""
        stack = cls.stack
        cls.smtp_port, sink_port, sub_port = (harness.free_port() for _ in range(3))
        sink = stack.path("sink")
        os.makedirs(sink, exist_ok=True)
        shutil.chown(sink, "postfix")
        stack._start("smtp-sink", ["smtp-sink", "-u", "postfix", "-d", sink + "/%Y%m%d%H%M%S.",
                                   "127.0.0.1:%d" % sink_port, "100"])
        harness.wait_for(lambda: harness.port_open(sink_port), 10, "smtp-sink")

        # The SQL lookup files as main.cf.example says: copied, password set.
        os.makedirs("/etc/postfix/limristem", exist_ok=True)
        for path in glob.glob("/usr/share/limristem/sql/postfix/*.cf"):
            text = open(path).read()
            for key, value in (("hosts", "inet:127.0.0.1:%d" % stack.mariadb_port),
                               ("user", "limristem"), ("password", stack.db_password)):
                text = re.sub(r"(?m)^%s = .*$" % key, "%s = %s" % (key, value), text)
            dest = os.path.join("/etc/postfix/limristem", os.path.basename(path))
            with open(dest, "w") as f:
                f.write(text)
            shutil.chown(dest, "root", "postfix")
            os.chmod(dest, 0o640)

        main = {
            "compatibility_level": "3.6",
            "myhostname": AUTHSERV_ID,
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            # no client is trusted: policyd sees every RCPT
            "mynetworks": "10.99.0.0/16",
            "relayhost": "[127.0.0.1]:%d" % sink_port,
            "smtp_host_lookup": "native",
            "disable_dns_lookups": "yes",
            "smtputf8_enable": "no",
            "biff": "no",
            "maillog_file": stack.path("maillog"),
            "maillog_file_prefixes": stack.dir,
            "local_header_rewrite_clients": "",
            # test_6 presents its login with XCLIENT instead of SMTP AUTH
            "smtpd_authorized_xclient_hosts": "127.0.0.1",
        }
        main.update(main_cf_lines(os.path.join(EXAMPLES, "main.cf")))
        # As the srsd lines of main.cf.example say: smtpd accepts the SRS domain.
        main["relay_domains"] = SRS_DOMAIN
        # No Dovecot here: mailboxes are delivered to the sink as well.
        main["virtual_transport"] = "smtp:[127.0.0.1]:%d" % sink_port
        with open("/etc/postfix/main.cf", "w") as f:
            f.write("# tests/package: the shipped example lines, delivering to a sink\n")
            f.write("".join("%s = %s\n" % kv for kv in main.items()))
        master = open("/usr/share/postfix/master.cf.dist").read()
        master = re.sub(r"(?m)^smtp(\s+inet\s)", r"127.0.0.1:%d\1" % cls.smtp_port, master)
        example = open(os.path.join(EXAMPLES, "master.cf")).read()
        example = re.sub(r"(?m)^submission(\s+inet\s)", r"127.0.0.1:%d\1" % sub_port, example)
        with open("/etc/postfix/master.cf", "w") as f:
            f.write(master + "\n" + example)
        run(["postfix", "check"])
        if os.path.exists("/usr/lib/postfix/configure-instance.sh"):
            run(["/usr/lib/postfix/configure-instance.sh", "-"], check=False)
        run(["postfix", "start"])
        harness.wait_for(lambda: harness.port_open(cls.smtp_port), 30, "postfix smtpd")
        cls.sink = sink

    @classmethod
    def stop_postfix(cls):
        if not getattr(cls, "smtp_port", None):
            return
        run(["postfix", "stop"], check=False)
        pidfile = "/var/spool/postfix/pid/master.pid"
        try:
            pid = int(open(pidfile).read().strip())
            harness.wait_for(lambda: not os.path.exists("/proc/%d" % pid), 15, "postfix to stop")
        except (OSError, ValueError, TimeoutError):
            pass
        cls.smtp_port = None

    def sink_message(self, pattern, timeout=30):
        """The first message at the sink that matches the regex pattern."""
        def found():
            for name in sorted(os.listdir(self.sink)):
                text = open(os.path.join(self.sink, name), errors="replace").read()
                if re.search(pattern, text, re.M):
                    return text
            return None
        try:
            harness.wait_for(found, timeout, "a message matching %r at the sink" % pattern)
        except TimeoutError:
            log = open(self.stack.path("maillog"), errors="replace").read()
            self.fail("no message matching %r at the sink; maillog:\n%s" % (pattern, log[-4000:]))
        return found()

    def swaks(self, sender, rcpt, data, extra=()):
        argv = ["swaks", "--server", "127.0.0.1:%d" % self.smtp_port, "--from", sender or "<>",
                "--to", rcpt, "--data", "-"] + list(extra)
        return subprocess.run(argv, input=data, capture_output=True, timeout=60).stdout.decode()

    def mailadm(self, *argv):
        return run(["mailadm"] + list(argv))

    # --- the steps -----------------------------------------------------------

    def test_1_install(self):
        install()
        user = pwd.getpwnam("limristem")
        self.assertLess(user.pw_uid, 1000, "limristem is a system user")
        # only the milter's unit adds mailkeys (the DKIM keys' group)
        self.assertNotIn("limristem", grp.getgrnam("mailkeys").gr_mem)
        self.assertEqual(mode_of("/etc/limristem/dkim"), ("root", "mailkeys", 0o750))
        self.assertEqual(mode_of(SOCKDIR), ("limristem", "postfix", 0o2750))
        self.assertEqual(mode_of("/etc/limristem/srs.secrets"), ("root", "limristem", 0o640))
        self.assertEqual(mode_of("/etc/limristem/learning.secrets"), ("root", "limristem", 0o640))
        self.assertGreaterEqual(len(open("/etc/limristem/learning.secrets").read().strip()), 16)
        conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "limristem-common"]).stdout
        self.assertIn(CONF, conffiles)
        for name in DAEMONS + ["mailadm"]:
            self.assertTrue(os.path.exists("/usr/share/man/man8/%s.8.gz" % name), name)
        # The annotated example is what the installed programs print.
        for program, section in (("limristem-milter", "milter"), ("limristem-policyd", "policyd")):
            printed = run([program, "-c", "/dev/null", "-p"]).stdout
            self.assertIn(self.section(printed, section),
                          open(os.path.join(EXAMPLES, "limristem.conf.example")).read())

    @staticmethod
    def section(text, name):
        m = re.search(r"(?ms)^%s = \{$.*?^\};$" % name, text)
        return m.group(0)

    def test_2_services_and_data(self):
        stack = self.stack
        stack.start_redis()
        stack.start_mariadb()
        key, record = make_rsa(stack.dir, "sender")
        self.__class__.sender_key = key
        txt = " ".join('"%s"' % record[i:i + 250] for i in range(0, len(record), 250))
        stack.start_dns({
            SENDER: ('sel._domainkey IN TXT %s\n@ IN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
                     '_dmarc IN TXT "v=DMARC1; p=reject"\n' % txt),
            "external.example": '@ IN TXT "v=spf1 -all"\n',
        })
        # The operator's edits: services, password files, what this host is.
        for name, secret in (("redis.password", stack.redis_password),
                             ("db.password", stack.db_password)):
            path = os.path.join("/etc/limristem", name)
            harness.write_secret(path, secret)
            shutil.chown(path, "root", "limristem")
            os.chmod(path, 0o640)
        shipped = open(CONF).read()
        self.assertIn('socket_group = "";', shipped)
        sections = {
            # standard error: the journal under systemd, the stack's log file otherwise
            "log": {"level": "debug", "syslog": False, "stderr": True},
            "redis": {"address": "127.0.0.1:%d" % stack.redis_port,
                      "password_file": "/etc/limristem/redis.password", "key_prefix": "lrpkg:"},
            "database": {"address": "127.0.0.1:%d" % stack.mariadb_port, "name": "limristem",
                         "user": "limristem", "password_file": "/etc/limristem/db.password"},
            "dns": {"upstream": ["127.0.0.1:%d" % stack.dns_port], "timeout": "2s"},
            "milter": {"socket_group": "", "authserv_id": AUTHSERV_ID,
                       "internal_networks": ["10.99.0.0/16"], "change_check": "1s",
                       "arc_seal_domain": LOCAL, "arc_seal_selector": "arc",
                       "arc_seal_key": SEAL_KEY},
            "policyd": {"socket_group": "", "trusted_networks": ["10.99.0.0/16"]},
            "srsd": {"socket_group": "", "domain": SRS_DOMAIN},
        }
        with open(CONF, "w") as f:
            f.write("# edited by tests/package\n" + harness.render_config(sections))
        for program in DAEMONS:
            run([program, "-t"])
        self.mailadm("db", "migrate")
        self.mailadm("domain", "add", LOCAL)
        self.mailadm("account", "add", "bob@" + LOCAL, "--no-password")
        self.mailadm("redirect", "add", "fwd@" + LOCAL, "carol@external.example")
        self.mailadm("trap", "add", "trap@" + LOCAL)
        # inbound test mail comes from this machine: greylisting (on in the
        # shipped configuration) is not what this test is about
        self.mailadm("greylist", "add", "client-network", "127.0.0.1")
        # DKIM keys as an operator makes them (RSA and Ed25519), published, then
        # active; an ARC sealing key readable by the milter's mailkeys group.
        self.mailadm("dkim", "keygen", LOCAL, "--selector", "r1")
        self.mailadm("dkim", "keygen", LOCAL, "--algo", "ed25519", "--selector", "e1")
        run(["openssl", "genrsa", "-out", SEAL_KEY, "2048"])
        shutil.chown(SEAL_KEY, "root", "mailkeys")
        os.chmod(SEAL_KEY, 0o640)
        seal_public = run(["openssl", "rsa", "-in", SEAL_KEY, "-pubout", "-outform", "DER"],
                          text=False).stdout
        seal_record = "v=DKIM1; k=rsa; p=" + base64.b64encode(seal_public).decode()
        stack.set_zone(LOCAL, "%s\narc._domainkey IN TXT %s\n" % (
            dkimtools.zone_lines(self.mailadm("dkim", "dns", LOCAL).stdout),
            " ".join('"%s"' % seal_record[i:i + 250] for i in range(0, len(seal_record), 250))))
        self.mailadm("dkim", "activate", LOCAL, "r1")
        self.mailadm("dkim", "activate", LOCAL, "e1")

    def test_3_daemons_start_as_the_units_say(self):
        self.start_daemons()
        limristem = pwd.getpwnam("limristem")
        for name in DAEMONS:
            uid, gid, groups = proc_ids(self.daemon_pid(name))
            self.assertEqual((uid, gid), (limristem.pw_uid, limristem.pw_gid), name)
            self.assertEqual("mailkeys" in groups, name == "limristem-milter", name)
        for sock in ("milter", "policyd", "srsd"):
            self.assertEqual(mode_of(os.path.join(SOCKDIR, sock + ".sock")),
                             ("limristem", "postfix", 0o660))
        self.start_postfix()

    def test_4_inbound_verified(self):
        msg = ("From: Alice <alice@%s>\r\nTo: bob@%s\r\nSubject: inbound signed\r\n"
               "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <in1@%s>\r\n\r\n"
               "Hello Bob,\r\nthis is signed.\r\n" % (SENDER, LOCAL, SENDER)).encode()
        signed = run(["dkimsign", "sel", SENDER, self.sender_key], input=msg, text=False).stdout
        out = self.swaks("alice@" + SENDER, "bob@" + LOCAL, signed)
        self.assertIn("<-  250 2.0.0 Ok: queued", out)
        message = email.message_from_string(self.sink_message(r"^Subject: inbound signed"))
        ours = [" ".join(v.split()) for v in message.get_all("Authentication-Results", [])
                if v.strip().startswith(AUTHSERV_ID + ";")]
        self.assertEqual(len(ours), 1, message.get_all("Authentication-Results"))
        self.assertRegex(ours[0], r"dkim=pass [^;]*header\.d=sender\.example")
        self.assertRegex(ours[0], r"spf=pass [^;]*smtp\.mailfrom=(\S+@)?sender\.example")
        self.assertRegex(ours[0], r"dmarc=pass [^;]*header\.from=sender\.example")

        spoof = ("From: CEO <ceo@%s>\r\nTo: bob@%s\r\nSubject: spoof\r\n\r\nPay this.\r\n"
                 % (SENDER, LOCAL)).encode()
        out = self.swaks("ceo@external.example", "bob@" + LOCAL, spoof)
        self.assertIn("<** 550 5.7.1 Message refused: the DMARC policy of " + SENDER, out)

    def test_5_forward_is_srs_rewritten(self):
        msg = ("From: Alice <alice@%s>\r\nTo: fwd@%s\r\nSubject: to be forwarded\r\n"
               "Message-ID: <fw1@%s>\r\n\r\nPlease pass this on.\r\n" % (SENDER, LOCAL, SENDER))
        signed = run(["dkimsign", "sel", SENDER, self.sender_key], input=msg.encode(),
                     text=False).stdout
        out = self.swaks("alice@" + SENDER, "fwd@" + LOCAL, signed)
        self.assertIn("<-  250 2.0.0 Ok: queued", out)
        text = self.sink_message(r"^Subject: to be forwarded")
        self.assertRegex(text, r"(?m)^X-Rcpt-Args: <carol@external\.example>")
        srs = re.search(r"(?m)^X-Mail-Args: <(SRS0[=+-][^@>]+=sender\.example="
                        r"alice@srs\.limristem\.example)>", text)
        self.assertIsNotNone(srs, text[:2000])

        # A bounce to the rewritten address goes back to the original sender.
        bounce = ("From: MAILER-DAEMON@external.example\r\nTo: %s\r\n"
                  "Subject: undeliverable: to be forwarded\r\n\r\nNo such user.\r\n"
                  % srs.group(1)).encode()
        out = self.swaks("", srs.group(1), bounce)
        self.assertIn("<-  250 2.0.0 Ok: queued", out)
        text = self.sink_message(r"^Subject: undeliverable: to be forwarded")
        self.assertRegex(text, r"(?m)^X-Rcpt-Args: <alice@sender\.example>")

    def test_6_outbound_signed(self):
        # An authenticated user (XCLIENT LOGIN stands in for SMTP AUTH: Postfix
        # hands the milter the same {auth_authen}) sends out: two signatures,
        # RSA and Ed25519, both verified by dkimpy against the published keys.
        # To a local mailbox: port 25 relays for nobody (the shipped main.cf),
        # and signing depends on the login, not on where the mail goes.
        msg = ("From: Bob <bob@%s>\r\nTo: bob@%s\r\nSubject: outbound\r\n"
               "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <out1@%s>\r\n\r\n"
               "Hello Bob.\r\n" % (LOCAL, LOCAL, LOCAL)).encode()
        out = self.swaks("bob@" + LOCAL, "bob@" + LOCAL, msg,
                         extra=["--xclient", "LOGIN=bob@" + LOCAL])
        self.assertIn("<-  250 2.0.0 Ok: queued", out)
        text = self.sink_message(r"^Subject: outbound$")
        signed = text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
        self.assertEqual(dkimtools.verify(signed, self.stack.dns_port), [True, True], text[:3000])
        self.assertEqual(sorted(re.findall(r"\bs=(r1|e1);", text)), ["e1", "r1"])

    def test_7_forwarded_sealed(self):
        # The copy test_5 forwarded to carol@external.example carries our ARC
        # set (i=1, d=LOCAL), which dkimpy's ARC verifier accepts.
        text = self.sink_message(r"^Subject: to be forwarded")
        sealed = text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
        self.assertRegex(text, r"(?m)^ARC-Seal: .*")
        self.assertRegex(" ".join(text.split()), r"ARC-Seal: [^:]*\bd=%s; i=1;" % re.escape(LOCAL))
        cv, _, why = dkimtools.arc_verify(sealed, self.stack.dns_port)
        self.assertEqual(cv, dkim.CV_Pass, why)

    def test_8_spam_trap_refused(self):
        # Last of the mail steps: a trap hit blocks the client's network.
        msg = ("From: Spammer <s@external.example>\r\nTo: trap@%s\r\nSubject: trap\r\n\r\n"
               "Buy now.\r\n" % LOCAL).encode()
        out = self.swaks("s@external.example", "trap@" + LOCAL, msg)
        self.assertRegex(out, r"<\*\* 550 5\.7\.1 <trap@%s>: .*This address accepts no mail"
                         % re.escape(LOCAL))
        self.assertNotIn("Ok: queued", out)

    def test_9_remove_purge_reinstall(self):
        self.stop_daemons()
        self.stop_postfix()
        # An edited conffile survives a reinstall of the same version.
        install_common = [p for p in debs() if "limristem-common_" in p]
        run(["apt-get", "install", "-y", "-q", "--reinstall"] + install_common, env=apt_env(),
            stdin=subprocess.DEVNULL)
        self.assertTrue(open(CONF).read().startswith("# edited by tests/package"))
        secrets = open("/etc/limristem/srs.secrets").read()
        learning = open("/etc/limristem/learning.secrets").read()

        # remove keeps configuration and data
        run(["apt-get", "remove", "-y", "-q"] + PACKAGES, env=apt_env())
        for path in (CONF, "/etc/limristem/srs.secrets", "/etc/limristem/learning.secrets",
                     "/etc/limristem/dkim", SOCKDIR):
            self.assertTrue(os.path.exists(path), path + " must stay on remove")
        # purge deletes them; the system user and the key group stay
        purge()
        for path in ("/etc/limristem", SOCKDIR):
            self.assertFalse(os.path.exists(path), path + " must go on purge")
        pwd.getpwnam("limristem")
        grp.getgrnam("mailkeys")

        # installing again after the purge
        install()
        self.assertTrue(open(CONF).read().startswith("# /etc/limristem/limristem.conf"))
        self.assertNotEqual(open("/etc/limristem/srs.secrets").read(), secrets)
        self.assertNotEqual(open("/etc/limristem/learning.secrets").read(), learning)
        self.assertEqual(mode_of(SOCKDIR), ("limristem", "postfix", 0o2750))
        self.assertEqual(mode_of("/etc/limristem/dkim"), ("root", "mailkeys", 0o750))
        for program in ("limristem-milter", "limristem-policyd"):
            run([program, "-t"])


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--srcdir", required=True)
    parser.add_argument("--debs", required=True)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    args.srcdir = os.path.abspath(args.srcdir)

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(InstalledSuite)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout, failfast=True).run(suite)
    print("package: %d run, %d failed, %d skipped in %.0f s"
          % (result.testsRun, len(result.failures) + len(result.errors), len(result.skipped),
             time.monotonic() - started))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
