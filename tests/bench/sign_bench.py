"""sign_bench.py - DKIM signing in process: our signer (mailauth/dkim_sign.c)
next to the bare signature operation (openssl speed) and libopendkim's
signer, for RSA-2048 and Ed25519, on one core (taskset -c 0). libopendkim's
columns need sign-bench built with libopendkim-dev installed (configure
looks for it only for this); without it they show "-".

Messages: a corpus of plain and MIME mail, most of a few KB, two of about
100 KB, with the header fields a mail user agent writes. Each round runs
openssl speed for rsa2048 and ed25519, then sign-bench for each signer and
key; medians over the rounds are printed. "ours/openssl" is the share of
the bare signature rate our signer keeps: what hashing, canonicalization
and building the field cost on top of the RSA or Ed25519 operation.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from srsd_bench import bench_args, run_tool, taskset  # noqa: E402
from test_dkim_interop import make_ed25519, make_rsa  # noqa: E402

DOMAIN = "bench.limristem.example"


def message(n, body_lines, mime):
    headers = ("Received: from client.example.net (client.example.net [192.0.2.25])\r\n"
               "\tby mx.%s (Postfix) with ESMTPSA id 4F2A%04d\r\n"
               "\tfor <user@example.net>; Mon, 23 Nov 2026 10:00:00 +0000\r\n"
               "From: \"News Desk\" <news@%s>\r\n"
               "To: \"A Reader\" <reader@example.net>, other@example.net\r\n"
               "Cc: archive@%s\r\n"
               "Subject: Bench message %d: the weekly summary of what happened\r\n"
               "Date: Mon, 23 Nov 2026 10:00:%02d +0000\r\n"
               "Message-ID: <bench.%d.1795450000@%s>\r\n"
               "In-Reply-To: <prev.%d@example.net>\r\n"
               "References: <first.%d@example.net> <prev.%d@example.net>\r\n"
               "User-Agent: Bench/1.0\r\n"
               "MIME-Version: 1.0\r\n"
               % (DOMAIN, n, DOMAIN, DOMAIN, n, n % 60, n, DOMAIN, n, n, n))
    text = "".join("Line %d of the message, with  some\tspacing and words to hash. \r\n" % i
                   for i in range(body_lines))
    if not mime:
        return (headers + "Content-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n" + text).encode()
    return (headers + 'Content-Type: multipart/alternative; boundary="b%d"\r\n\r\n'
            "--b%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"
            "--b%d\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>%s</p>\r\n--b%d--\r\n"
            % (n, n, text, n, text.replace("\r\n", "<br>\r\n"), n)).encode()


def write_corpus(directory):
    paths = []
    # (body lines, MIME): 2-8 KB mostly, two of about 100 KB
    shapes = [(20, False), (30, False), (40, True), (50, False), (25, True), (60, False),
              (1500, False), (700, True)]
    for n, (lines, mime) in enumerate(shapes):
        path = os.path.join(directory, "msg-%d.eml" % n)
        with open(path, "wb") as f:
            f.write(message(n, lines, mime))
        paths.append(path)
    return paths


def openssl_speed(seconds):
    r = subprocess.run(taskset(0, ["openssl", "speed", "-mr", "-seconds", str(int(seconds)),
                                   "rsa2048", "ed25519"]),
                       capture_output=True, text=True, timeout=seconds * 10 + 60, check=True)
    rates = {}
    for line in r.stdout.splitlines():
        f = line.split(":")
        if line.startswith("+F2:") and f[2] == "2048":
            rates["rsa"] = float(f[3])
        elif line.startswith("+F6:") and len(f) > 4 and f[3] == "Ed25519":
            rates["ed"] = float(f[4])
    if set(rates) != {"rsa", "ed"}:
        raise RuntimeError("openssl speed: unexpected output:\n" + r.stdout)
    return rates


def sign_bench(builddir, impl, key, files, seconds):
    argv = taskset(0, [os.path.join(builddir, "tests", "bench", "sign-bench"), "--impl", impl,
                       "--key", key, "--domain", DOMAIN, "--seconds", str(seconds)] + files)
    return run_tool(argv, seconds, "sign-bench %s %s" % (impl, key))["rate"]


def implementations(builddir):
    r = subprocess.run([os.path.join(builddir, "tests", "bench", "sign-bench"), "--list"],
                       capture_output=True, text=True, timeout=30, check=True)
    return r.stdout.split()


def main(builddir, srcdir, seconds=5, rounds=3):
    impls = implementations(builddir)
    directory = tempfile.mkdtemp(prefix="lr-sign-bench-")
    try:
        make_rsa(directory, "rsa")
        make_ed25519(directory, "ed")
        keys = {"rsa": "rsa:" + os.path.join(directory, "rsa.pem"),
                "ed": "ed:" + os.path.join(directory, "ed.pem")}
        files = write_corpus(directory)
        sizes = sorted(os.path.getsize(p) for p in files)
        small = files[:6]  # the few-KB ones only
        runs = {k: [] for k in ("openssl-rsa", "openssl-ed")}
        for r in range(rounds):
            speed = openssl_speed(seconds)
            runs["openssl-rsa"].append(speed["rsa"])
            runs["openssl-ed"].append(speed["ed"])
            for corpus, paths in (("all", files), ("small", small)):
                for alg in ("rsa", "ed"):
                    for impl in impls:
                        runs.setdefault("%s-%s-%s" % (impl, alg, corpus), []).append(
                            sign_bench(builddir, impl, keys[alg], paths, seconds))
            print("round %d: %s" % (r + 1, " ".join("%s=%.0f" % (k, v[-1]) for k, v in runs.items())),
                  flush=True)
        med = {k: statistics.median(v) for k, v in runs.items()}
        print()
        print("DKIM signing on one core, %d rounds of %d s, medians; corpus of %d messages, %s bytes"
              % (rounds, seconds, len(files), "/".join(str(s) for s in sizes)))
        print("| key, messages | openssl speed sign/s | ours msgs/s | ours/openssl | libopendkim msgs/s | ours/libopendkim |")
        print("|---|---|---|---|---|---|")
        for corpus, what in (("all", "all 8"), ("small", "the 6 of 2-6 KB")):
            for alg, name in (("rsa", "RSA-2048"), ("ed", "Ed25519")):
                o = med["openssl-" + alg]
                us, od = med["ours-%s-%s" % (alg, corpus)], med.get("opendkim-%s-%s" % (alg, corpus))
                print("| %s, %s | %.0f | %.0f | %.2f | %s | %s |"
                      % (name, what, o, us, us / o, "%.0f" % od if od else "-",
                         "%.2f" % (us / od) if od else "-"))
        return 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    a = bench_args()
    sys.exit(main(os.path.abspath(a.builddir), os.path.abspath(a.srcdir), int(a.seconds), a.rounds))
