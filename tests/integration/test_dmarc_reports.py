"""mailadm dmarc import|summary against a real MariaDB: aggregate reports
made by another implementation (OpenDMARC's opendmarc-import and
opendmarc-reports from Debian, which mail a zip over SMTP), the RFC 7489
sample and hand-written RFC 9990 reports, gzipped and zipped by Debian's
gzip and zip, parse into the right rows; `mailadm dmarc summary` shows them
as text and JSON; a report imported twice counts once; hostile and foreign
reports change nothing."""

import base64
import json
import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import harness

DOMAIN = "reports.example"

RFC7489 = """<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata>
    <org_name>acme.com</org_name>
    <email>noreply-dmarc-support@acme.com</email>
    <extra_contact_info>http://acme.com/dmarc/support</extra_contact_info>
    <report_id>9391651994964116463</report_id>
    <date_range><begin>1335571200</begin><end>1335657599</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>reports.example</domain><adkim>r</adkim><aspf>r</aspf>
    <p>none</p><sp>none</sp><pct>100</pct>
  </policy_published>
  <record>
    <row>
      <source_ip>72.150.241.94</source_ip>
      <count>2</count>
      <policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>pass</spf></policy_evaluated>
    </row>
    <identifiers><header_from>reports.example</header_from></identifiers>
    <auth_results>
      <dkim><domain>reports.example</domain><result>fail</result><human_result></human_result></dkim>
      <spf><domain>reports.example</domain><result>pass</result></spf>
    </auth_results>
  </record>
</feedback>
"""

RFC9990 = """<?xml version="1.0" encoding="UTF-8"?>
<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0" xmlns:ext="urn:example:extension">
  <version>1.0</version>
  <report_metadata>
    <org_name>Receiver Example</org_name>
    <email>dmarc-reports@receiver.example</email>
    <report_id>{report_id}</report_id>
    <date_range><begin>{begin}</begin><end>{end}</end></date_range>
    <generator>Example MTA 4.2</generator>
  </report_metadata>
  <policy_published>
    <domain>reports.example</domain><p>reject</p><sp>quarantine</sp><np>reject</np>
    <adkim>s</adkim><aspf>r</aspf><discovery_method>treewalk</discovery_method><testing>n</testing>
  </policy_published>
  <ext:anything>ignored</ext:anything>
  <record>
    <row><source_ip>192.0.2.25</source_ip><count>40</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
    <identifiers><envelope_from>reports.example</envelope_from><header_from>reports.example</header_from></identifiers>
    <auth_results>
      <dkim><domain>reports.example</domain><selector>2026a</selector><result>pass</result></dkim>
      <spf><domain>reports.example</domain><scope>mfrom</scope><result>pass</result></spf>
    </auth_results>
  </record>
  <record>
    <row><source_ip>2001:db8::66</source_ip><count>3</count>
      <policy_evaluated><disposition>reject</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>
    <identifiers><header_from>reports.example</header_from></identifiers>
    <auth_results>
      <spf><domain>spoofer.example</domain><scope>mfrom</scope><result>fail</result></spf>
    </auth_results>
    <extensions><ext:note>ignored</ext:note></extensions>
  </record>
</feedback>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE feedback [
 <!ENTITY a "aaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
]>
<feedback><report_metadata><org_name>&h;</org_name></report_metadata></feedback>
"""


def message(attachment, content_type, filename):
    """A report mail as the big receivers send it: a text part, then the
    attachment in base64."""
    b64 = base64.encodebytes(attachment).decode().replace("\n", "\r\n")
    return ("From: noreply-dmarc@receiver.example\r\nTo: dmarc@%s\r\n"
            "Subject: Report Domain: %s Submitter: receiver.example\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"==b==\"\r\n\r\n"
            "--==b==\r\nContent-Type: text/plain\r\n\r\nThis is a DMARC aggregate report.\r\n"
            "--==b==\r\nContent-Type: %s; name=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n%s--==b==--\r\n"
            % (DOMAIN, DOMAIN, content_type, filename, filename, b64)).encode()


class SmtpSink:
    """Accepts one SMTP session after another on loopback and keeps each
    message's data: where opendmarc-reports sends its reports."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.messages = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            while True:
                conn, _ = self.sock.accept()
                with conn, conn.makefile("rb") as rf:
                    self.session(conn, rf)
        except OSError:
            return

    def session(self, conn, rf):
        conn.sendall(b"220 sink ESMTP\r\n")
        while True:
            line = rf.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"DATA":
                conn.sendall(b"354 go on\r\n")
                data = []
                for l in iter(rf.readline, b""):
                    if l in (b".\r\n", b".\n"):
                        break
                    data.append(l[1:] if l.startswith(b"..") else l)
                self.messages.append(b"".join(data))
                conn.sendall(b"250 kept\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            elif verb in (b"EHLO", b"HELO"):
                conn.sendall(b"250 sink\r\n")
            else:
                conn.sendall(b"250 ok\r\n")

    def close(self):
        self.sock.close()


class DmarcReportsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack = harness.stack()
        stack.fresh_database()
        cls.conf = stack.config()
        cls.tmp = tempfile.mkdtemp(prefix="dmarc-reports-", dir=stack.dir)
        r = cls.run_mailadm(cls, "domain", "add", DOMAIN)
        assert r.returncode == 0, r.stderr

    def setUp(self):
        self.sql("DELETE FROM dmarc_reports")

    def run_mailadm(self, *args, stdin=None):
        argv = [os.path.join(self.stack.builddir, "mailadm", "mailadm"), "-c", self.conf]
        return subprocess.run(argv + list(args), input=stdin, capture_output=True, timeout=120,
                              start_new_session=True)

    def mailadm(self, *args, stdin=None):
        r = self.run_mailadm(*args, stdin=stdin)
        self.assertEqual(r.returncode, 0, "mailadm %s: %s%s" % (" ".join(args), r.stdout.decode(),
                                                                r.stderr.decode()))
        return r.stdout.decode()

    def sql(self, statement):
        return self.stack.mysql_root(statement, self.stack.db_name)

    def rows(self):
        return self.sql("SELECT p.org_name, p.report_id, p.format, r.source_ip, r.message_count, "
                        "r.disposition, r.dmarc_dkim, r.dmarc_spf, r.header_from, r.dkim_domain, "
                        "r.dkim_selector, r.dkim_result, r.spf_domain, r.spf_scope, r.spf_result "
                        "FROM dmarc_reports p JOIN dmarc_report_rows r ON r.report = p.id "
                        "ORDER BY p.report_id, r.id").splitlines()

    def file(self, name, content):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(content)
        return path

    def gzip(self, name, xml):
        subprocess.run(["gzip", "-9", "-f", self.file(name, xml)], check=True)
        with open(os.path.join(self.tmp, name + ".gz"), "rb") as f:
            return f.read()

    def zip(self, name, xml):
        path = self.file(name, xml)
        archive = os.path.join(self.tmp, name + ".zip")
        if os.path.exists(archive):
            os.unlink(archive)
        subprocess.run(["zip", "-q", "-j", archive, path], check=True)
        with open(archive, "rb") as f:
            return f.read()

    def test_rfc_samples_gzip_and_zip(self):
        xml = RFC9990.format(report_id="r9990-1", begin=1777420800, end=1777507199)
        gz = self.gzip("receiver.example!reports.example!1777420800!1777507199.xml", xml)
        out = self.mailadm("dmarc", "import",
                           stdin=message(gz, "application/gzip", "receiver.example!reports.example!"
                                         "1777420800!1777507199.xml.gz"))
        self.assertIn("imported report r9990-1 from Receiver Example about reports.example: "
                      "2 records, 43 messages", out)
        zipped = self.zip("acme.com!reports.example!1335571200!1335657599.xml", RFC7489)
        self.mailadm("dmarc", "import", stdin=message(zipped, "application/zip", "acme.com!"
                                                       "reports.example!1335571200!1335657599.zip"))
        self.assertEqual(self.rows(), [
            "acme.com\t9391651994964116463\trfc7489\t72.150.241.94\t2\tnone\tfail\tpass\t"
            "reports.example\treports.example\t\tfail\treports.example\t\tpass",
            "Receiver Example\tr9990-1\trfc9990\t192.0.2.25\t40\tnone\tpass\tpass\treports.example\t"
            "reports.example\t2026a\tpass\treports.example\tmfrom\tpass",
            "Receiver Example\tr9990-1\trfc9990\t2001:db8::66\t3\treject\tfail\tfail\t"
            "reports.example\t\t\t\tspoofer.example\tmfrom\tfail",
        ])
        self.assertEqual(self.sql("SELECT policy_p, policy_sp, policy_np, adkim, testing, "
                                  "discovery_method, pct, records, messages, date_begin FROM "
                                  "dmarc_reports WHERE report_id = 'r9990-1'").strip(),
                         "reject\tquarantine\treject\ts\tn\ttreewalk\tNULL\t2\t43\t2026-04-29 00:00:00")

        # the same report again (re-sent): a success that changes nothing
        before = self.sql("SELECT * FROM dmarc_report_rows ORDER BY id")
        out = self.mailadm("dmarc", "import", stdin=message(gz, "application/gzip", "r.xml.gz"))
        self.assertIn("report r9990-1 from Receiver Example was imported before; nothing changed", out)
        self.assertEqual(self.sql("SELECT * FROM dmarc_report_rows ORDER BY id"), before)

        summary = json.loads(self.mailadm("--json", "dmarc", "summary", DOMAIN))
        self.assertEqual([(s["source_ip"], s["messages"], s["dmarc"], s["dkim"], s["spf"],
                           s["disposition"], s["spf_domain"], s["reporters"]) for s in summary], [
            ("192.0.2.25", 40, "pass", "pass", "pass", "none", "reports.example", 1),
            ("2001:db8::66", 3, "fail", "fail", "fail", "reject", "spoofer.example", 1),
            ("72.150.241.94", 2, "pass", "fail", "pass", "none", "reports.example", 1),
        ])
        text = self.mailadm("dmarc", "summary", DOMAIN)
        self.assertIn("reports.example since the first report: 2 reports from 2 reporters, "
                      "45 messages: DMARC pass 42, fail 3", text)
        self.assertIn("SOURCE IP", text)
        self.assertIn("spoofer.example", text)
        # --since leaves out the 2012 report
        since = json.loads(self.mailadm("--json", "dmarc", "summary", DOMAIN, "--since", "2026-01-01"))
        self.assertEqual(sum(s["messages"] for s in since), 43)
        r = self.run_mailadm("dmarc", "summary", DOMAIN, "--since", "2026-02-30")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"not a day", r.stderr)

    def refused(self, code, why, stdin):
        before = self.sql("SELECT COUNT(*) FROM dmarc_reports") + self.sql(
            "SELECT COUNT(*) FROM dmarc_report_rows")
        r = self.run_mailadm("dmarc", "import", stdin=stdin)
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        self.assertIn(why, r.stderr.decode())
        self.assertEqual(self.sql("SELECT COUNT(*) FROM dmarc_reports") + self.sql(
            "SELECT COUNT(*) FROM dmarc_report_rows"), before)

    def test_refused(self):
        self.refused(2, "has a DOCTYPE", message(self.gzip("bomb.xml", BILLION_LAUGHS),
                                                 "application/gzip", "bomb.xml.gz"))
        self.refused(2, "has a DOCTYPE", ("<?xml version=\"1.0\"?><!DOCTYPE feedback [<!ENTITY x "
                                          "SYSTEM \"file:///etc/passwd\">]><feedback>&x;</feedback>")
                     .encode())
        self.refused(2, "no report in the message", b"From: a@b.example\r\n\r\nhello\r\n")
        self.refused(2, "over 32 MiB uncompressed", message(self.gzip("big.xml", " " * (33 << 20)),
                                                            "application/gzip", "big.xml.gz"))
        foreign = RFC7489.replace("<domain>reports.example", "<domain>elsewhere.example")
        self.refused(3, "not a domain of this installation", foreign.encode())
        # for a Postfix pipe: dropped (exit 0), the reason on stderr and in the mail log
        r = self.run_mailadm("dmarc", "import", "--mta", stdin=b"not a report")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"no report in the message", r.stderr)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM dmarc_reports").strip(), "0")

    def test_postfix_pipe(self):
        """The wiring mailadm(8) documents: transport_maps sends the rua
        address to a pipe(8) service running `mailadm dmarc import --mta` as
        an unprivileged user; a report mailed through Postfix is stored, a
        message that is no report is delivered (dropped) and stores nothing."""
        st = self.stack
        nobody = pwd.getpwnam("nobody")
        password = os.path.join(self.tmp, "db.password.nobody")
        shutil.copyfile(st.path("db.password"), password)
        os.chown(password, nobody.pw_uid, nobody.pw_gid)
        os.chmod(password, 0o600)
        os.chmod(self.tmp, 0o755)
        conf = st.config({"database": {"password_file": password}}, redis=False)
        rua = "dmarc-reports@" + DOMAIN
        port = st.start_postfix(
            {"transport_maps": "inline:{%s=limristem-dmarc:}" % rua},
            "limristem-dmarc unix - n n - 2 pipe\n"
            "  flags=Rq user=nobody argv=%s -c %s dmarc import --mta\n"
            % (os.path.join(st.builddir, "mailadm", "mailadm"), conf))
        try:
            xml = RFC9990.format(report_id="via-postfix", begin=1777420800, end=1777507199)
            report = message(self.gzip("via-postfix.xml", xml), "application/gzip", "r.xml.gz")
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                smtp.sendmail("noreply-dmarc@receiver.example", [rua], report)
                smtp.sendmail("someone@elsewhere.example", [rua],
                              b"From: someone@elsewhere.example\r\nSubject: hi\r\n\r\nnot a report\r\n")
            maillog = os.path.join(st.postfix["dir"], "maillog")

            def delivered():
                with open(maillog, errors="replace") as f:
                    return f.read().count("delivered via limristem-dmarc service") >= 2
            harness.wait_for(delivered, 30, "two deliveries through the pipe")
        finally:
            st.stop_postfix()
        self.assertEqual(self.sql("SELECT report_id, records, messages FROM dmarc_reports").strip(),
                         "via-postfix\t2\t43")

    def test_opendmarc_report(self):
        """OpenDMARC's own tools: its history file imported into its schema
        by opendmarc-import, then opendmarc-reports mails a zipped report
        to the rua address (an SMTP sink here); that mail is imported."""
        st = self.stack
        password = "odm-%d" % os.getpid()
        with open("/usr/share/dbconfig-common/data/opendmarc/install/mysql") as f:
            schema = f.read()
        st.mysql_root("DROP DATABASE IF EXISTS opendmarc; CREATE DATABASE opendmarc;"
                      "CREATE OR REPLACE USER 'opendmarc'@'127.0.0.1' IDENTIFIED BY '%s';"
                      "GRANT ALL ON opendmarc.* TO 'opendmarc'@'127.0.0.1';" % password)
        st.mysql_root(schema, "opendmarc")
        now = int(time.time())
        jobs = [
            # job, ip, From domain, spf (0 pass, 7 fail), dkim result (0 pass, 7 fail), aligned dkim, spf, action (2 none, 0 reject)
            ("4D1A2B3C01", "192.0.2.10", "0", "0", "4", "4", "2"),
            ("4D1A2B3C02", "192.0.2.10", "0", "0", "4", "4", "2"),
            ("4D1A2B3C03", "198.51.100.7", "7", "7", "5", "5", "0"),
        ]
        history = ""
        for job, ip, spf, dkim, align_dkim, align_spf, action in jobs:
            history += ("job %s\nreporter mx.opendmarc.example\nreceived %d\nipaddr %s\n"
                        "from %s\nmfrom %s\nspf %s\npdomain %s\npolicy 15\n"
                        "rua mailto:dmarc@%s\np 114\nsp 113\npct 100\nadkim 114\naspf 114\n"
                        "dkim %s sel1 %s\nalign_dkim %s\nalign_spf %s\narc 0\narc_policy 0 json:[]\n"
                        "action %s\n"
                        % (job, now - 3600, ip, DOMAIN, DOMAIN, spf, DOMAIN, DOMAIN, DOMAIN, dkim,
                           align_dkim, align_spf, action))
        db = ["--dbhost=127.0.0.1", "--dbport=%d" % st.mariadb_port, "--dbname=opendmarc",
              "--dbuser=opendmarc", "--dbpasswd=" + password]
        r = subprocess.run(["opendmarc-import", "--verbose"] + db, input=history, text=True,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("failed", r.stderr)
        sink = SmtpSink()
        try:
            r = subprocess.run(["opendmarc-reports", "--utc", "--verbose", "--verbose",
                                "--report-email=dmarc-reports@opendmarc.example",
                                "--report-org=OpenDMARC Test", "--smtp-server=127.0.0.1",
                                "--smtp-port=%d" % sink.port, "--domain=" + DOMAIN] + db,
                               capture_output=True, text=True, timeout=60, cwd=self.tmp)
        finally:
            sink.close()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(sink.messages), 1, r.stdout + r.stderr)
        self.assertIn(b"Content-Type: application/zip", sink.messages[0])
        out = self.mailadm("dmarc", "import", stdin=sink.messages[0])
        # OpenDMARC writes one record per message
        self.assertIn("from OpenDMARC Test about reports.example: 3 records, 3 messages", out)
        got = sorted(tuple(row.split("\t")[3:9]) for row in self.rows())
        self.assertEqual(got, [
            ("192.0.2.10", "1", "none", "pass", "pass", DOMAIN),
            ("192.0.2.10", "1", "none", "pass", "pass", DOMAIN),
            ("198.51.100.7", "1", "reject", "fail", "fail", DOMAIN),
        ])
        summary = json.loads(self.mailadm("--json", "dmarc", "summary", DOMAIN))
        self.assertEqual({(s["source_ip"], s["messages"], s["dmarc"]) for s in summary},
                         {("192.0.2.10", 2, "pass"), ("198.51.100.7", 1, "fail")})
        # OpenDMARC sent it twice (a rerun): counted once
        self.assertIn("imported before", self.mailadm("dmarc", "import", stdin=sink.messages[0]))
        self.assertEqual(self.sql("SELECT SUM(messages) FROM dmarc_reports").strip(), "3")


if __name__ == "__main__":
    unittest.main()
