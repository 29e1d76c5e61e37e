#!/usr/bin/python3
"""demo.py - bring the Limristem stack up on loopback and show what it does.

Started by demo/run after the build. Uses the integration harness, so the
demo runs the same real services as the tests: Redis, MariaDB, nsd serving
the demo zone, limristem-srsd, limristem-policyd, limristem-milter, and a
private Postfix that reads the suite's tables through the shipped
sql/postfix lookup files. Everything the operator would do goes through
mailadm.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import dkimtools  # noqa: E402
import harness  # noqa: E402

DOMAIN = "demo.limristem.example"
SRS_DOMAIN = "srs." + DOMAIN
DEMO_ZONE = """
@              IN MX 10 mx
mx             IN A 127.0.0.1
"""


def say(text=""):
    print(text, flush=True)


def show(title, output):
    say("  " + title)
    for line in output.rstrip().splitlines():
        say("    " + line)


class Demo:
    def __init__(self, stack, srcdir, builddir):
        self.stack, self.srcdir, self.builddir = stack, srcdir, builddir
        self.conf = None

    def mailadm(self, *args, stdin=None):
        r = subprocess.run([os.path.join(self.builddir, "mailadm", "mailadm"), "-c", self.conf]
                           + list(args), capture_output=True, text=True, input=stdin)
        show("$ mailadm %s" % " ".join(args), r.stdout + r.stderr)
        return r.stdout

    def start(self):
        stack = self.stack
        say("Limristem demo: starting services on loopback in %s" % stack.dir)
        stack.start_redis()
        say("  redis-server    127.0.0.1:%d" % stack.redis_port)
        stack.start_mariadb()
        say("  mariadbd        %s, database %s" % (stack.mariadb_socket, stack.db_name))
        stack.start_dns({DOMAIN: DEMO_ZONE,
                         "origin.example": '@ IN TXT "v=spf1 ip4:127.0.0.1 ip4:198.51.100.0/24 -all"'})
        say("  nsd             127.0.0.1:%d serving %s" % (stack.dns_port, DOMAIN))
        os.makedirs(stack.path("dkim"), exist_ok=True)
        self.conf = stack.config({"mailadm": {"dkim_key_dir": stack.path("dkim"),
                                              "dkim_key_group": "postfix", "mx_host": "mx." + DOMAIN,
                                              "dmarc_policy": "reject"}})
        say("  configuration   %s" % self.conf)
        say()

    def manage(self):
        say("1. The operator sets up a domain with mailadm:")
        self.mailadm("db", "migrate", "--dir", os.path.join(self.srcdir, "sql", "migrations"))
        self.mailadm("domain", "add", DOMAIN, "--description", "the demo domain")
        self.mailadm("account", "add", "alice@" + DOMAIN, "--quota", "1024", "--generate")
        self.mailadm("alias", "add", "postmaster@" + DOMAIN, "alice@" + DOMAIN)
        self.mailadm("redirect", "add", "forward@" + DOMAIN, "friend@elsewhere.example")
        self.mailadm("account", "add", "bob@" + DOMAIN, "--quota", "-5", "--no-password")
        self.mailadm("account", "list")
        # greylisting is on: this machine and a partner's relays need not wait
        self.mailadm("greylist", "add", "client-network", "127.0.0.0/8", "--comment", "this machine")
        self.mailadm("greylist", "add", "client-network", "198.51.100.0/24", "--comment",
                     "a partner's relays")
        self.mailadm("dkim", "keygen", DOMAIN, "--algo", "rsa", "--selector", "rsa1")
        self.mailadm("dkim", "keygen", DOMAIN, "--algo", "ed25519", "--selector", "ed1")
        records = self.mailadm("dns", DOMAIN)
        say("   (the demo's nsd publishes those records; then the keys can sign)")
        self.stack.set_zone(DOMAIN, "mx IN A 127.0.0.1\n" + dkimtools.zone_lines(records))
        self.mailadm("dkim", "activate", DOMAIN, "rsa1")
        self.mailadm("dkim", "activate", DOMAIN, "ed1")
        say()

    def mail(self):
        stack = self.stack
        secrets = stack.path("srs.secrets")
        harness.write_secret(secrets, "demo-secret-change-me")
        sock = stack.path("srsd.sock")
        conf = stack.config({"srsd": {"domain": SRS_DOMAIN, "secrets_file": secrets, "user": "",
                                      "socket_group": "postfix", "listen": ["unix:" + sock]}},
                            redis=False, dns=False)
        stack.start_daemon("srsd", "srs/limristem-srsd", conf, lambda: os.path.exists(sock))
        policy_sock = self.start_policyd()
        milter_sock = self.start_milter()
        maps = {"smtpd_milters": "unix:" + milter_sock, "milter_default_action": "tempfail",
                "local_header_rewrite_clients": "","virtual_alias_domains": stack.postfix_sql_map("virtual_domains.cf"),
                "virtual_alias_maps": stack.postfix_sql_map("virtual_aliases.cf"),
                # XCLIENT lets the demo's swaks speak as a remote client would
                "smtpd_authorized_xclient_hosts": "127.0.0.1",
                "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination, "
                                                "check_policy_service unix:%s, permit" % policy_sock}
        maps.update(harness.srs_canonical_maps(sock))
        smtp = stack.start_postfix(maps)
        say("2. Postfix (127.0.0.1:%d) reads those tables through sql/postfix/*.cf, and" % smtp)
        say("   limristem-srsd (SRS domain %s) rewrites forwarded senders:" % SRS_DOMAIN)
        srs_sender = self.relay("someone@origin.example", "forward@" + DOMAIN, "forwarded by the demo")
        say("   a bounce to that address goes back to the original sender:")
        self.relay("", srs_sender, "bounce of the demo")
        say()
        self.policy()
        self.milter()

    def start_milter(self):
        stack = self.stack
        sock = stack.path("milter.sock")
        seal_key = os.path.join(stack.path("dkim"), DOMAIN, "rsa1.key")
        conf = stack.config({"milter": {
            "user": "", "socket_group": "postfix", "listen": ["unix:" + sock],
            "authserv_id": "mx." + DOMAIN, "internal_networks": ["10.99.0.0/16"],
            "change_check": "200ms", "arc_seal_domain": DOMAIN, "arc_seal_selector": "rsa1",
            "arc_seal_key": seal_key, "greylisting": True}})
        stack.start_daemon("milter", "milter/limristem-milter", conf, lambda: os.path.exists(sock))
        return sock

    def milter(self):
        say("4. limristem-milter verifies inbound mail, signs outbound mail and seals what")
        say("   is forwarded. alice sends out (logged in; XCLIENT stands in for SMTP AUTH):")
        self.swaks_message("alice@" + DOMAIN, "friend@elsewhere.example", "signed by the demo",
                           ["--xclient", "LOGIN=alice@" + DOMAIN], ("DKIM-Signature",))
        say("   someone outside forges alice's address (DMARC p=reject of %s):" % DOMAIN)
        self.swaks_message("ceo@" + DOMAIN, "postmaster@" + DOMAIN, "a spoof",
                           ["--xclient-addr", "198.51.100.7"], ())
        say("   mail from outside to forward@%s leaves sealed for friend@elsewhere.example:" % DOMAIN)
        self.swaks_message("someone@origin.example", "forward@" + DOMAIN, "sealed by the demo",
                           ["--xclient-addr", "198.51.100.7"],
                           ("Authentication-Results", "ARC-Seal", "X-Rcpt-Args"))
        say("   a client never seen before (192.0.2.50) is greylisted at RCPT:")
        self.swaks_message("news@shop.example", "forward@" + DOMAIN, "greylisted by the demo",
                           ["--xclient-addr", "192.0.2.50"], ())
        self.stack.advance_clock(360)
        say("   it retries six minutes later (the demo moves the daemons' clock) and is delivered,")
        say("   with the trace \"mailadm learn spam|ham\" reads when a user sorts Junk:")
        self.swaks_message("news@shop.example", "forward@" + DOMAIN, "greylisted by the demo",
                           ["--xclient-addr", "192.0.2.50"], ("X-Limristem-Reputation",))
        say("   a user who moves it into Junk runs the shipped Dovecot Sieve script, which does:")
        learned = self.stack.sink_message("greylisted by the demo")
        self.mailadm("learn", "spam", stdin=learned)
        say("   the trace ends with a MAC under the milter's learning secret: a user who writes")
        say("   another client into it (or a trace of their own) gets exit status 6, nothing learned:")
        self.mailadm("learn", "spam", stdin=re.sub(r"\bip=[0-9.]+", "ip=209.85.220.41", learned))
        say()

    def swaks_message(self, sender, rcpt, subject, extra, fields):
        """Sends; shows the answer to the end of DATA and the fields the sink got."""
        r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % self.stack.postfix["smtp_port"],
                            "--from", sender, "--to", rcpt, "--header", "Subject: " + subject]
                           + extra, capture_output=True, text=True, timeout=60)
        answers = [l for l in r.stdout.splitlines() if l.startswith(("<-  250 2.0.0", "<** "))]
        show("from <%s> to <%s>:" % (sender, rcpt), "\n".join(answers[-1:]) or r.stdout[-300:])
        if not fields or not answers or not answers[-1].startswith("<-"):
            return
        message = self.stack.sink_message(subject)
        for name in fields:
            for m in re.finditer(r"(?m)^%s:((?:.*)(?:\n[ \t].*)*)" % re.escape(name), message):
                value = " ".join(m.group(1).split())
                say("      %s: %s" % (name, value if len(value) < 110 else value[:107] + "..."))

    def start_policyd(self):
        stack = self.stack
        sock = stack.path("policyd.sock")
        conf = stack.config({"policyd": {"user": "", "socket_group": "postfix",
                                         "listen": ["unix:" + sock], "change_check": "200ms"}})
        stack.start_daemon("policyd", "policyd/limristem-policyd", conf,
                           lambda: os.path.exists(sock))
        return sock

    def policy(self):
        say("3. limristem-policyd answers Postfix at RCPT. The operator adds a spam trap and")
        say("   Dovecot reports a full mailbox:")
        self.stack.mysql_root("INSERT INTO quota_usage (username, bytes, messages) VALUES "
                              "('carol@%s', 2000000, 12)" % DOMAIN, self.stack.db_name)
        self.mailadm("trap", "add", "trap@" + DOMAIN, "--comment", "seeded on an old web page")
        self.mailadm("account", "add", "carol@" + DOMAIN, "--quota", "1", "--no-password")
        time.sleep(1.5)  # policyd notices the change within change_check
        for client, rcpt, what in (("198.51.100.7", "carol@" + DOMAIN, "a full mailbox"),
                                   ("203.0.113.9", "trap@" + DOMAIN, "a spam trap"),
                                   ("203.0.113.10", "alice@" + DOMAIN,
                                    "the next client from that network"),
                                   ("198.51.100.7", "postmaster@" + DOMAIN, "a good client")):
            r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % self.stack.postfix["smtp_port"],
                                "--xclient-addr", client, "--from", "someone@origin.example",
                                "--to", rcpt, "--quit-after", "RCPT"],
                               capture_output=True, text=True, timeout=60)
            lines = r.stdout.splitlines()
            rcpt_at = [i for i, l in enumerate(lines) if l.startswith(" -> RCPT TO")]
            answer = lines[rcpt_at[0] + 1][4:] if rcpt_at else r.stdout[-300:]
            show("from %s to <%s> (%s):" % (client, rcpt, what), answer)
        say()

    def relay(self, sender, rcpt, subject):
        """Sends through Postfix, shows the envelope the sink got, returns its sender.
        A bounce (null sender) comes From the remote MAILER-DAEMON, as real ones do:
        the milter refuses a From without a mailbox."""
        subprocess.run(["swaks", "--server", "127.0.0.1:%d" % self.stack.postfix["smtp_port"],
                        "--from", sender or "<>", "--to", rcpt, "--header", "Subject: " + subject,
                        "--h-From", sender or "MAILER-DAEMON@elsewhere.example"],
                       capture_output=True, text=True, timeout=60)
        message = self.stack.sink_message(subject)
        envelope = [l for l in message.splitlines() if l.startswith(("X-Mail-Args", "X-Rcpt-Args"))]
        show("MAIL FROM:<%s> RCPT TO:<%s> left as:" % (sender, rcpt), "\n".join(envelope))
        return envelope[0].split()[1].strip("<>")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--srcdir", required=True)
    parser.add_argument("--builddir", required=True)
    parser.add_argument("--once", action="store_true", help="stop after showing the stack")
    args = parser.parse_args()

    stack = harness.Stack(args.builddir, args.srcdir)
    harness.set_stack(stack)
    signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(KeyboardInterrupt()))
    demo = Demo(stack, args.srcdir, args.builddir)
    try:
        demo.start()
        demo.manage()
        demo.mail()
        if args.once:
            return 0
        say("Everything is running (mailadm -c %s ...). Press Ctrl-C to stop it all." % demo.conf)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        say()
        return 0
    finally:
        say("Stopping the demo stack ...")
        stack.teardown()
        left = stack.leftovers()
        say("stopped." if not left else "still running: %s" % left)


if __name__ == "__main__":
    sys.exit(main())
