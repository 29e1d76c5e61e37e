"""srsd_bench.py - limristem-srsd next to Debian's postsrsd, same rewrites.

Both servers get the same secret, SRS domain and keys; each is pinned to
CPU 0 (one core, as the brief asks) while the load generator runs on CPU 1.
Runs alternate between the servers (A B A B ...) and the medians are
reported, with the ratio ours/theirs.

postsrsd in Debian 12 is 1.10, which speaks Postfix's tcp_table protocol
(one "get KEY" line per request); ours speaks socketmap. Each is measured
in its own protocol, over TCP on loopback, and ours also over its unix
socket (the way Postfix is wired to it by default).
"""

import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
from srsclient import Socketmap, tcp_table  # noqa: E402

SECRET = "b3nch-s3cret"
DOMAIN = "srs.bench.example"
KEYS = 20000


def parse(line):
    return {k: float(v) for k, v in (f.split("=") for f in line.split())}


def taskset(cpu, argv):
    return (["taskset", "-c", str(cpu)] if shutil.which("taskset") and os.cpu_count() > 1 else []) + argv


def run_tool(argv, seconds, what):
    """Runs a load tool of tests/bench for about seconds; its result line, parsed."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if r.returncode != 0:
        raise RuntimeError("%s: %s %s" % (what, r.stdout, r.stderr))
    return parse(r.stdout.strip())


def bench_args():
    """The options every *_bench.py takes (make bench passes them)."""
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--builddir", required=True)
    p.add_argument("--srcdir", required=True)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--rounds", type=int, default=3)
    return p.parse_args()


class Target:
    def __init__(self, name, proto, address, keys):
        self.name, self.proto, self.address, self.keys = name, proto, address, keys
        self.runs = []


def run_load(builddir, target, map_name, keys_file, seconds, connections, depth):
    argv = taskset(1, [os.path.join(builddir, "tests", "bench", "lookup-bench"),
                       "--proto", target.proto, "--address", target.address, "--map", map_name,
                       "--keys", keys_file, "--seconds", str(seconds),
                       "--connections", str(connections), "--depth", str(depth)])
    return run_tool(argv, seconds, target.name)


def write_keys(path, keys):
    with open(path, "w") as f:
        f.write("\n".join(keys) + "\n")


# (connections, requests in flight per connection): Postfix's cleanup and
# smtpd processes each ask one question at a time on their own connection;
# the second shape measures what one core can answer when pushed.
SHAPES = ((32, 1), (8, 16))


def main(builddir, srcdir, seconds=5, rounds=3):
    stack = harness.Stack(builddir, srcdir)
    harness.set_stack(stack)
    try:
        secrets = stack.path("bench.secrets")
        harness.write_secret(secrets, SECRET)
        conf = stack.config({"log": {"level": "warning"}, "srsd": {
            "domain": DOMAIN, "secrets_file": secrets, "user": "", "socket_group": "",
            "listen": ["unix:" + stack.path("srsd.sock"), "127.0.0.1:%d" % harness.free_port()],
            "max_connections": 100}}, redis=False, database=False, dns=False)
        section = open(conf).read()
        tcp_port = int(section.split("127.0.0.1:")[1].split('"')[0])
        srsd = stack._start("srsd", taskset(0, [os.path.join(builddir, "srs", "limristem-srsd"),
                                                "-f", "-c", conf]))
        harness.wait_for(lambda: os.path.exists(stack.path("srsd.sock")), 10, "srsd")
        fport, rport = harness.free_port(), harness.free_port()
        stack._start("postsrsd", taskset(0, ["postsrsd", "-s" + secrets, "-d" + DOMAIN,
                                             "-l127.0.0.1", "-4", "-f%d" % fport, "-r%d" % rport]))
        harness.wait_for(lambda: harness.port_open(fport), 10, "postsrsd")

        senders = ["user%05d@remote%d.example" % (i, i % 97) for i in range(KEYS)]
        fwd_keys = stack.path("forward.keys")
        write_keys(fwd_keys, senders)
        # reverse keys: each server reverses addresses it generated itself
        c = Socketmap(stack.path("srsd.sock"))
        ours_rev = [c.query("forward", s)[3:] for s in senders[:2000]]
        theirs_rev = [tcp_table(fport, s)[1] for s in senders[:2000]]
        write_keys(stack.path("ours.reverse.keys"), ours_rev)
        write_keys(stack.path("theirs.reverse.keys"), theirs_rev)

        for connections, depth in SHAPES:
            results = measure(builddir, stack, fwd_keys, tcp_port, fport, rport, seconds, rounds,
                              connections, depth)
            report(results, seconds, rounds, connections, depth)
        if not srsd.alive():
            raise RuntimeError("srsd died during the benchmark")
    finally:
        stack.teardown()


def measure(builddir, stack, fwd_keys, tcp_port, fport, rport, seconds, rounds, connections, depth):
    results = {}
    for map_name in ("forward", "reverse"):
        targets = [
            Target("limristem-srsd (tcp)", "socketmap", "127.0.0.1:%d" % tcp_port,
                   fwd_keys if map_name == "forward" else stack.path("ours.reverse.keys")),
            Target("limristem-srsd (unix)", "socketmap", "unix:" + stack.path("srsd.sock"),
                   fwd_keys if map_name == "forward" else stack.path("ours.reverse.keys")),
            Target("postsrsd 1.10 (tcp)", "tcp", "127.0.0.1:%d" % (fport if map_name == "forward"
                                                                 else rport),
                   fwd_keys if map_name == "forward" else stack.path("theirs.reverse.keys")),
        ]
        for _ in range(rounds):
            for t in targets:
                t.runs.append(run_load(builddir, t, map_name, t.keys, seconds,
                                       connections, depth))
        results[map_name] = targets
    return results


def median(t, key):
    return statistics.median(r[key] for r in t.runs)


def report(results, seconds, rounds, connections, depth):
    print()
    print("srsd benchmark: %d rounds of %g s per target, %d connections, %d request(s) in flight "
          "each; servers on CPU 0, load on CPU 1; medians" % (rounds, seconds, connections, depth))
    print("%-8s %-24s %12s %9s %9s %9s %7s" % ("map", "server", "lookups/s", "p50 us", "p99 us",
                                              "p99.9 us", "errors"))
    for map_name, targets in results.items():
        for t in targets:
            print("%-8s %-24s %12.0f %9.1f %9.1f %9.1f %7d" % (
                map_name, t.name, median(t, "rps"), median(t, "p50_us"), median(t, "p99_us"),
                median(t, "p999_us"), sum(r["errors"] for r in t.runs)))
        ours, theirs = targets[0], targets[2]
        ratios = [a["rps"] / b["rps"] for a, b in zip(ours.runs, theirs.runs)]
        print("%-8s ratio limristem-srsd/postsrsd over TCP, per round: %s (median %.2f)" % (
            map_name, " ".join("%.2f" % r for r in ratios), statistics.median(ratios)))


if __name__ == "__main__":
    a = bench_args()
    main(a.builddir, a.srcdir, a.seconds, a.rounds)
