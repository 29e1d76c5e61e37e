"""milter_bench.py - limristem-milter next to OpenDKIM and OpenDMARC from
Debian, verifying the same messages with the same (cached) DNS.

Messages: DKIM-signed (RSA-2048 and Ed25519, relaxed/relaxed) mail from a
domain with SPF and a DMARC p=reject record, as an inbound MX receives it.
  - limristem-milter does everything in one pass: SPF (MAIL FROM and HELO),
    every DKIM signature, DMARC, ARC, Authentication-Results.
  - OpenDKIM verifies the signatures and adds its Authentication-Results.
  - OpenDMARC checks SPF itself and DMARC, reading the DKIM results from the
    Authentication-Results OpenDKIM would have added (present in its copy
    of the messages, from a trusted authserv-id).
The filters Postfix would chain to do what ours does are OpenDKIM then
OpenDMARC; the chain's throughput is 1 / (1/a + 1/b) of theirs. A no-op
libmilter filter (tests/bench/noop-milter.c: every callback continues)
runs too: the floor of any filter on libmilter, which ours must beat while
doing all its checks.

limristem-milter runs twice: with greylisting and reputation off (the
checks OpenDKIM and OpenDMARC do), and with both on, their state in a real
redis-server on loopback: per message a triplet read at RCPT, the client's
reputation before and the signer's after the message, and the counters'
update (four round trips). The triplet is seeded as passed and
good_reputation_score is out of reach, so every message pays for the
greylisting check instead of skipping it on a good reputation.

DNS: nsd on 127.0.1.53:53 (OpenDKIM takes no port, OpenDMARC only
/etc/resolv.conf, which it gets in a mount namespace of its own). Every
filter talks to Postfix's way over a unix socket, pinned to CPU 0, with
milter-bench on CPU 1. Runs alternate and medians are reported.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
from srsd_bench import bench_args, run_tool, taskset  # noqa: E402
from test_dkim_interop import make_ed25519, make_rsa  # noqa: E402

DOMAIN = "bench.limristem.example"
CLIENT = "192.0.2.25"
DNS_ADDRESS = "127.0.1.53"
CONNECTIONS = 8
STATE = "limristem-milter +greylist+reputation"
NOOP = "no-op libmilter filter"

BODY = "".join("Line %d of a message body of typical size, to be hashed.\r\n" % i for i in range(60))


def txt(value):
    return " ".join('"%s"' % value[i:i + 250] for i in range(0, len(value), 250))


def signed_message(n, key, signalg):
    msg = ("From: News <news@%s>\r\nTo: user@limristem.example\r\nSubject: bench %d\r\n"
           "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <b%d@%s>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n%s"
           % (DOMAIN, n, n, DOMAIN, BODY)).encode()
    selector = "rsa" if signalg == "rsa-sha256" else "ed"
    r = subprocess.run(["dkimsign", "--signalg", signalg, selector, DOMAIN, key], input=msg,
                       capture_output=True, check=True, timeout=30)
    return r.stdout


def write_messages(stack, rsa_key, ed_key):
    ours, dmarc = [], []
    for n, (key, alg) in enumerate(((rsa_key, "rsa-sha256"), (ed_key, "ed25519-sha256"))):
        msg = signed_message(n, key, alg)
        path = stack.path("bench-%d.eml" % n)
        with open(path, "wb") as f:
            f.write(msg)
        ours.append(path)
        path = stack.path("bench-%d-for-opendmarc.eml" % n)
        with open(path, "wb") as f:
            f.write(b"Authentication-Results: bench.opendkim; dkim=pass header.d=%s\r\n"
                    % DOMAIN.encode() + msg)
        dmarc.append(path)
    return ours, dmarc


def start_ours(stack, builddir, state=False):
    name = "limristem-milter" + ("-state" if state else "")
    sock = stack.path(name + ".sock")
    section = {"listen": ["unix:" + sock], "user": "", "socket_group": "", "internal_networks": [],
               "greylisting": state, "reputation": state, "good_reputation_score": -1000}
    conf = stack.config({"log": {"level": "warning"}, "milter": section},
                        redis=state, database=False)
    if state:   # the bench's one triplet passed greylisting long ago
        stack.redis_cli("SET", "lrtest:grey:spf:%s/bounce@%s/user@limristem.example"
                        % (DOMAIN, DOMAIN), "pass 1 %d" % int(time.time()))
    stack._start(name, taskset(0, [os.path.join(builddir, "milter", "limristem-milter"), "-f",
                                   "-c", conf]))
    harness.wait_for(lambda: os.path.exists(sock), 20, name)
    return "unix:" + sock


def start_noop(stack, builddir):
    sock = stack.path("noop.sock")
    stack._start("noop-milter", taskset(0, [os.path.join(builddir, "tests", "bench", "noop-milter"),
                                           "unix:" + sock]))
    harness.wait_for(lambda: os.path.exists(sock), 20, "noop-milter")
    return "unix:" + sock


def start_opendkim(stack):
    sock = stack.path("opendkim.sock")
    conf = stack.path("opendkim.conf")
    with open(conf, "w") as f:
        f.write("Mode v\nSocket local:%s\nNameservers %s\nSyslog no\nUserID root\n"
                "AuthservID bench.opendkim\nAlwaysAddARHeader yes\nPidFile %s\n"
                % (sock, DNS_ADDRESS, stack.path("opendkim.pid")))
    stack._start("opendkim", taskset(0, ["opendkim", "-f", "-x", conf]))
    harness.wait_for(lambda: os.path.exists(sock), 20, "opendkim")
    return "unix:" + sock


def start_opendmarc(stack):
    sock = stack.path("opendmarc.sock")
    conf, resolv = stack.path("opendmarc.conf"), stack.path("resolv.conf")
    with open(resolv, "w") as f:
        f.write("nameserver %s\n" % DNS_ADDRESS)
    with open(conf, "w") as f:
        f.write("Socket local:%s\nAuthservID bench.opendmarc\nTrustedAuthservIDs bench.opendkim\n"
                "SPFSelfValidate true\nRejectFailures true\nSyslog false\nUserID root\n"
                "PublicSuffixList /usr/share/publicsuffix/public_suffix_list.dat\nPidFile %s\n"
                % (sock, stack.path("opendmarc.pid")))
    shell = "mount --bind %s /etc/resolv.conf && exec opendmarc -f -c %s" % (resolv, conf)
    stack._start("opendmarc", taskset(0, ["unshare", "--mount", "sh", "-c", shell]))
    harness.wait_for(lambda: os.path.exists(sock), 20, "opendmarc")
    return "unix:" + sock


def run_load(builddir, address, files, seconds):
    argv = taskset(1, [os.path.join(builddir, "tests", "bench", "milter-bench"), "--address",
                       address, "--connections", str(CONNECTIONS), "--seconds", str(seconds),
                       "--client-ip", CLIENT, "--helo", "mail." + DOMAIN,
                       "--mail-from", "bounce@" + DOMAIN, "--rcpt", "user@limristem.example"] + files)
    return run_tool(argv, seconds, address)


def main(builddir, srcdir, seconds=5, rounds=3):
    stack = harness.Stack(builddir, srcdir)
    harness.set_stack(stack)
    try:
        rsa_key, rsa_txt = make_rsa(stack.dir, "bench-rsa")
        ed_key, ed_txt = make_ed25519(stack.dir, "bench-ed")
        stack.start_dns({DOMAIN: "rsa._domainkey IN TXT %s\ned._domainkey IN TXT %s\n"
                                 '@ IN TXT "v=spf1 ip4:%s -all"\n'
                                 'mail IN TXT "v=spf1 ip4:%s -all"\n'
                                 '_dmarc IN TXT "v=DMARC1; p=reject"\n'
                                 % (txt(rsa_txt), txt(ed_txt), CLIENT, CLIENT)},
                        address=DNS_ADDRESS, port=53)
        ours_files, dmarc_files = write_messages(stack, rsa_key, ed_key)
        stack.start_redis()
        targets = [("limristem-milter", start_ours(stack, builddir), ours_files),
                   (STATE, start_ours(stack, builddir, state=True), ours_files),
                   ("opendkim", start_opendkim(stack), ours_files),
                   (NOOP, start_noop(stack, builddir), ours_files),
                   ("opendmarc", start_opendmarc(stack), dmarc_files)]
        runs = {name: [] for name, _, _ in targets}
        for name, address, files in targets:  # warm up: caches, and check they work
            r = run_load(builddir, address, files, 1)
            if r["accepted"] == 0 or r["tempfailed"] or r["rejected"]:
                raise RuntimeError("%s did not accept everything: %s" % (name, r))
        for _ in range(rounds):
            for name, address, files in targets:
                runs[name].append(run_load(builddir, address, files, seconds))
        report(runs, seconds, rounds)
    finally:
        stack.teardown()


def report(runs, seconds, rounds):
    def med(name, key):
        return statistics.median(r[key] for r in runs[name])
    print()
    print("milter benchmark: %d rounds of %g s per filter, %d connections, unix sockets; "
          "filters on CPU 0, milter-bench on CPU 1; medians" % (rounds, seconds, CONNECTIONS))
    print("%-34s %10s %9s %9s" % ("filter", "msgs/s", "p50 us", "p99 us"))
    for name in runs:
        print("%-34s %10.0f %9.1f %9.1f" % (name, med(name, "mps"), med(name, "p50_us"),
                                          med(name, "p99_us")))
    chain = [1 / (1 / a["mps"] + 1 / b["mps"]) for a, b in zip(runs["opendkim"], runs["opendmarc"])]
    ratios = [o["mps"] / c for o, c in zip(runs["limristem-milter"], chain)]
    print("%-34s %10.0f" % ("opendkim + opendmarc (chained)", statistics.median(chain)))
    print("ratio limristem-milter / (opendkim + opendmarc) per round: %s (median %.2f)"
          % (" ".join("%.2f" % r for r in ratios), statistics.median(ratios)))
    noop = [o["mps"] / n["mps"] for o, n in zip(runs["limristem-milter"], runs[NOOP])]
    print("ratio limristem-milter / no-op libmilter filter per round: %s (median %.2f)"
          % (" ".join("%.2f" % r for r in noop), statistics.median(noop)))
    print("ratio limristem-milter / opendkim alone: %.2f"
          % statistics.median(o["mps"] / d["mps"] for o, d in zip(runs["limristem-milter"],
                                                                  runs["opendkim"])))
    print("ratio with greylisting and reputation on (Redis) / off: %.2f"
          % statistics.median(s["mps"] / o["mps"] for s, o in zip(runs[STATE],
                                                                  runs["limristem-milter"])))


if __name__ == "__main__":
    a = bench_args()
    if shutil.which("opendkim") is None or shutil.which("opendmarc") is None:
        sys.exit("milter_bench: needs the Debian packages opendkim and opendmarc")
    main(a.builddir, a.srcdir, a.seconds, a.rounds)
