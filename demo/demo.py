#!/usr/bin/python3
"""demo.py - bring the Limristem stack up on loopback and show what it does.

Started by demo/run after the build. Uses the integration harness, so the
demo runs the same real services as the tests: Redis, MariaDB with the
schema migrated, nsd serving a demo zone, and a private Postfix.
"""

import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import harness  # noqa: E402

DEMO_ZONE = """
@              IN MX 10 mx
mx             IN A 127.0.0.1
@              IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
_dmarc         IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@demo.limristem.example"
"""


def say(text=""):
    print(text, flush=True)


def show(title, output):
    say("  " + title)
    for line in output.strip().splitlines():
        say("    " + line)


SRS_DOMAIN = "srs.demo.limristem.example"


def start_srsd(stack):
    secrets = stack.path("srs.secrets")
    harness.write_secret(secrets, "demo-secret-change-me")
    sock = stack.path("srsd.sock")
    conf = stack.config({"srsd": {"domain": SRS_DOMAIN, "secrets_file": secrets, "user": "",
                                  "socket_group": "postfix", "listen": ["unix:" + sock]}},
                        redis=False, dns=False)
    stack.start_daemon("srsd", "srs/limristem-srsd", conf, lambda: os.path.exists(sock))
    return sock


def relay(stack, sender, rcpt, subject):
    """Sends through Postfix, shows the envelope the sink got, returns its sender."""
    stack.send_mail(sender, rcpt, subject)
    message = stack.sink_message(subject)
    envelope = [l for l in message.splitlines() if l.startswith(("X-Mail-Args", "X-Rcpt-Args"))]
    show("sent MAIL FROM:<%s> RCPT TO:<%s>, relayed as:" % (sender, rcpt), "\n".join(envelope))
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
    try:
        say("Limristem demo: starting services on loopback in %s" % stack.dir)
        stack.start_redis()
        say("  redis-server    127.0.0.1:%d (password in %s)" % (stack.redis_port,
                                                                   stack.path("redis.password")))
        stack.start_mariadb()
        say("  mariadbd        %s, database %s" % (stack.mariadb_socket, stack.db_name))
        stack.start_dns({"demo.limristem.example": DEMO_ZONE})
        say("  nsd             127.0.0.1:%d serving demo.limristem.example" % stack.dns_port)
        conf = stack.config()
        r = harness.probe(conf, "migrate", os.path.join(args.srcdir, "sql", "migrations"))
        harness.probe(conf, "sql", "INSERT INTO domains (name, description) VALUES (?, ?)",
                      "demo.limristem.example", "the demo domain")
        srsd_sock = start_srsd(stack)
        say("  limristem-srsd  %s (SRS domain %s)" % (srsd_sock, SRS_DOMAIN))
        aliases = stack.path("virtual_aliases")
        with open(aliases, "w") as f:
            f.write("forward@demo.limristem.example  friend@elsewhere.example\n")
        smtp = stack.start_postfix(dict({
            "virtual_alias_domains": "demo.limristem.example",
            "virtual_alias_maps": "texthash:" + aliases}, **harness.srs_canonical_maps(srsd_sock)))
        say("  postfix         127.0.0.1:%d (relays to smtp-sink 127.0.0.1:%d)"
            % (smtp, stack.postfix["sink_port"]))
        say("  configuration   %s" % conf)
        say()

        say("1. The schema, applied by the migration runner:")
        show("migrate:", r.stdout + r.stderr)
        harness.probe(conf, "sql", "INSERT INTO accounts (local_part, domain, quota_mb) "
                      "VALUES (?, ?, ?)", "alice", "demo.limristem.example", "int:1024")
        r = harness.probe(conf, "sql", "SELECT email, maildir, quota_mb FROM accounts")
        show("accounts:", r.stdout)
        r = harness.probe(conf, "sql", "INSERT INTO accounts (local_part, domain, quota_mb) "
                          "VALUES (?, ?, ?)", "bob", "demo.limristem.example", "int:-5")
        show("a negative quota is refused by the schema:", r.stdout)
        say()

        say("2. The resolver (libunbound, cached) asking the demo DNS server:")
        r = harness.probe(conf, "dns", "demo.limristem.example", "MX",
                          "_dmarc.demo.limristem.example", "TXT", "demo.limristem.example", "TXT",
                          "demo.limristem.example", "MX")
        show("lookups (the last one comes from the cache):", r.stdout)
        say()

        say("3. Redis through the suite's client:")
        r = harness.probe(conf, "redis-loop", 1, 3)
        show("INCR three times:", r.stdout)
        say()

        say("4. Forwarding with SRS: mail to forward@demo.limristem.example goes on to")
        say("   friend@elsewhere.example; limristem-srsd rewrites its envelope sender:")
        srs_sender = relay(stack, "someone@origin.example", "forward@demo.limristem.example",
                           "forwarded by the demo")
        say("   and a bounce sent to that address goes back to the original sender:")
        relay(stack, "", srs_sender, "bounce of the demo")
        say()
        say("The milter, policyd and mailadm join this demo as they are built.")
        if args.once:
            return 0
        say("Everything is running. Press Ctrl-C to stop it all.")
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
