"""limristem-srsd with the rest of the world: local domains from MariaDB,
addresses from Debian's postsrsd and from Mail::SRS, and a real Postfix
forwarding mail and bouncing it back."""

import os
import subprocess
import time
import unittest

import harness
from srsclient import Socketmap, tcp_table
from test_srsd import SRS_DOMAIN, start_srsd


class SrsdDatabaseTest(unittest.TestCase):
    """Local domains come from the domains table and follow its changes;
    while MariaDB is down the last list keeps serving."""

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.stack()
        cls.stack.fresh_database()
        cls.sql("INSERT INTO domains (name) VALUES ('first.limristem.example')")

    @classmethod
    def sql(cls, statement):
        cls.stack.mysql_root(statement + "; UPDATE change_counter SET generation = generation + 1 "
                             "WHERE id = 1", cls.stack.db_name)

    def test_domains_follow_the_table(self):
        svc, sock, _, _ = start_srsd(self.stack, "srsd-db", database=True)
        self.addCleanup(lambda: self.stack.services.pop("srsd-db").stop())
        c = Socketmap(sock)
        self.addCleanup(c.close)
        self.assertEqual(c.query("forward", "a@first.limristem.example"), "NOTFOUND ")
        self.assertTrue(c.query("forward", "a@second.limristem.example").startswith("OK "))
        self.sql("INSERT INTO domains (name) VALUES ('second.limristem.example')")
        harness.wait_for(lambda: c.query("forward", "a@second.limristem.example") == "NOTFOUND ",
                         5, "the new domain")
        self.sql("UPDATE domains SET active = 0 WHERE name = 'first.limristem.example'")
        harness.wait_for(lambda: c.query("forward", "a@first.limristem.example").startswith("OK "),
                         5, "the deactivated domain")

        # database down: the last good list keeps serving
        self.stack.stop_mariadb(kill=True)
        time.sleep(1)
        self.assertEqual(c.query("forward", "a@second.limristem.example"), "NOTFOUND ")
        self.assertTrue(c.query("forward", "a@remote.example").startswith("OK "))
        # back up: changes made meanwhile arrive by themselves
        self.stack.start_mariadb()
        self.sql("INSERT INTO domains (name) VALUES ('third.limristem.example')")
        harness.wait_for(lambda: c.query("forward", "a@third.limristem.example") == "NOTFOUND ",
                         10, "the domain added after the outage")
        log = self.stack.daemon_log("srsd-db")
        self.assertIn("unavailable", log)
        self.assertIn("reachable again", log)


def srs_day(stack):
    """The SRS day number on the daemons' clock (and the tools')."""
    return (int(time.time()) + stack.clock_offset()) // 86400


def same_day(stack, check):
    """Runs check() (which compares our day stamps with a tool's), again
    once if the SRS day turned over while it ran: at midnight UTC two
    correct implementations asked a moment apart differ."""
    day = srs_day(stack)
    try:
        check()
    except AssertionError:
        if srs_day(stack) == day:
            raise
        check()


def mail_srs(stack, op, secret, address, alias=SRS_DOMAIN):
    """Mail::SRS (libmail-srs-perl) forward or reverse."""
    script = ("use Mail::SRS; my $s = Mail::SRS->new(Secret => [$ARGV[0]], MaxAge => 21, "
              "HashLength => 4, HashMin => 4);"
              "my $r = $ARGV[1] eq 'forward' ? $s->forward($ARGV[2], $ARGV[3]) "
              ": $s->reverse($ARGV[2]); print $r;")
    r = subprocess.run(stack.outside_clock(["perl", "-e", script, secret, op, address, alias]),
                       capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else "ERROR " + r.stderr.strip()


def same_hash(a, b):
    """Equal up to the base64 alphabet ('+/' from Mail::SRS, '-_' ours)."""
    return a.replace("+", "-").replace("/", "_") == b.replace("+", "-").replace("/", "_")


class SrsdCrossCheckTest(unittest.TestCase):
    """Ours writes base64url hashes like postsrsd 2.x and reads both
    alphabets; postsrsd 1.x and Mail::SRS read only '+' and '/', so the
    mutual checks use a second instance with hash_alphabet = "base64"."""

    SECRET = "cr0ss-ch3ck"
    SENDERS = ["alice@remote.example", "Bob.Smith+list@Sub.Remote.Example",
               "user=with=equals@remote.example", "x@[192.0.2.7]"] + [
               "user%d@remote.example" % i for i in range(40)]

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.stack()
        cls.svc, cls.sock, _, _ = start_srsd(cls.stack, "srsd-x", secrets=(cls.SECRET,))
        cls.classic, cls.classic_sock, _, _ = start_srsd(cls.stack, "srsd-x1", {
            "hash_alphabet": "base64"}, secrets=(cls.SECRET,))

    @classmethod
    def tearDownClass(cls):
        cls.stack.services.pop("srsd-x").stop()
        cls.stack.services.pop("srsd-x1").stop()

    def test_postsrsd_addresses_reverse_with_ours(self):
        secrets = self.stack.path("postsrsd.secret")
        harness.write_secret(secrets, self.SECRET)
        fport, rport = harness.free_port(), harness.free_port()
        self.stack._start("postsrsd", self.stack.outside_clock(
            ["postsrsd", "-s" + secrets, "-d" + SRS_DOMAIN, "-l127.0.0.1",
             "-f%d" % fport, "-r%d" % rport, "-4", "-t10"]))
        self.addCleanup(lambda: self.stack.services.pop("postsrsd").stop())
        harness.wait_for(lambda: harness.port_open(fport), 10, "postsrsd")
        c = Socketmap(self.sock)
        self.addCleanup(c.close)
        c1 = Socketmap(self.classic_sock)
        self.addCleanup(c1.close)

        def check(sender):
            code, theirs = tcp_table(fport, sender)
            self.assertEqual(code, "200", theirs)
            self.assertEqual(c.query("reverse", theirs), "OK " + sender, theirs)
            ours = c.query("forward", sender)[3:]
            self.assertTrue(same_hash(ours, theirs), (ours, theirs))
            # with the classic alphabet: identical, and postsrsd 1.x reverses ours
            ours = c1.query("forward", sender)[3:]
            self.assertEqual(ours, theirs)
            self.assertEqual(tcp_table(rport, ours), ("200", sender))
        for sender in self.SENDERS:
            same_day(self.stack, lambda: check(sender))

    def test_mail_srs_agrees(self):
        c = Socketmap(self.sock)
        self.addCleanup(c.close)
        c1 = Socketmap(self.classic_sock)
        self.addCleanup(c1.close)

        def check(sender):
            ours = c.query("forward", sender)[3:]
            theirs = mail_srs(self.stack, "forward", self.SECRET, sender)
            self.assertTrue(same_hash(ours, theirs), (ours, theirs))
            self.assertEqual(c.query("reverse", theirs), "OK " + sender)
            classic = c1.query("forward", sender)[3:]
            self.assertEqual(classic, theirs)
            self.assertEqual(mail_srs(self.stack, "reverse", self.SECRET, classic), sender)
        for sender in self.SENDERS[:8]:
            same_day(self.stack, lambda: check(sender))

        def check_srs1():
            srs0 = mail_srs(self.stack, "forward", self.SECRET, "deep@remote.example",
                            "first.example")
            theirs = mail_srs(self.stack, "forward", self.SECRET, srs0)
            ours = c.query("forward", srs0)[3:]
            self.assertTrue(ours.startswith("SRS1=") and same_hash(ours, theirs), (ours, theirs))
            self.assertEqual(c.query("reverse", theirs), "OK " + srs0)
            classic = c1.query("forward", srs0)[3:]
            self.assertEqual(mail_srs(self.stack, "reverse", self.SECRET, classic), srs0)
        same_day(self.stack, check_srs1)


@unittest.skipUnless(os.geteuid() == 0, "a Postfix instance needs root")
class SrsdPostfixTest(unittest.TestCase):
    """Mail to a local address that redirects outside leaves with an SRS
    sender; a bounce to that address reaches the original sender."""

    def test_forward_and_bounce(self):
        stack = harness.stack()
        domains = stack.path("srsd-pf-domains")
        with open(domains, "w") as f:
            f.write("local.limristem.example\n")
        svc, sock, _, _ = start_srsd(stack, "srsd-pf", {"domains_file": domains,
                                                        "socket_group": "postfix"})
        self.addCleanup(lambda: stack.services.pop("srsd-pf").stop())
        aliases = stack.path("virtual_aliases")
        with open(aliases, "w") as f:
            f.write("fwd@local.limristem.example  someone@elsewhere.example\n")
        stack.start_postfix(dict({
            "virtual_alias_domains": "local.limristem.example",
            "virtual_alias_maps": "texthash:" + aliases}, **harness.srs_canonical_maps(sock)))
        self.addCleanup(stack.stop_postfix)

        def send(sender, rcpt, subject):
            r = stack.send_mail(sender, rcpt, subject)
            self.assertEqual(r.returncode, 0, r.stdout)

        header = harness.header
        send("origin@sender.example", "fwd@local.limristem.example", "forwarded")
        fwd = stack.sink_message("forwarded")
        self.assertIn("<someone@elsewhere.example>", header(fwd, "X-Rcpt-Args"))
        srs_sender = header(fwd, "X-Mail-Args").split()[0].strip("<>")
        self.assertRegex(srs_sender, r"^SRS0=[^=]+=[A-Z2-7]{2}=sender\.example=origin@" +
                         SRS_DOMAIN.replace(".", r"\."))

        send("", srs_sender, "bounce")
        bounce = stack.sink_message("bounce")
        self.assertIn("<origin@sender.example>", header(bounce, "X-Rcpt-Args"))
        self.assertEqual(header(bounce, "X-Mail-Args"), "<>")

        # a forged SRS address is not reversed: Postfix relays it as is
        # (and the SRS domain's own MX would bounce it); it never reaches
        # the address it pretends to stand for
        forged = srs_sender.replace("=sender.example=", "=victim.example=")
        send("", forged, "forged")
        self.assertIn("<%s>" % forged, header(stack.sink_message("forged"), "X-Rcpt-Args"))
