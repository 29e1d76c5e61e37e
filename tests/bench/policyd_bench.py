"""policyd_bench.py - limristem-policyd next to Debian's postgrey, answering
the same stream of policy requests.

The stream is what an inbound MX sees at RCPT: 2,000 client addresses, their
senders, and recipients of a domain with quotas and a spam trap. policyd runs
with real Redis, MariaDB and a blocklist zone served by nsd (so each request
costs it a snapshot lookup, a Redis round trip for the network block and,
until cached, blocklist lookups); postgrey does its greylisting (a Berkeley
DB lookup and write per triplet). Different work, same protocol and
request stream: the numbers say how fast each answers Postfix.

Each server is pinned to CPU 0, the load generator to CPU 1; runs alternate
(A B A B ...) and medians are reported with the ratio ours/theirs.
"""

import os
import pwd
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
from srsd_bench import Target, bench_args, run_tool, taskset, write_keys  # noqa: E402

DOMAIN = "bench.example"
BL_ZONE = "2.0.0.127 IN A 127.0.0.2\n77.0.0.10 IN A 127.0.0.2\n"
SHAPES = ((32, 1), (8, 4))


def request_keys():
    keys = []
    for i in range(20000):
        client = "10.%d.%d.%d" % (i % 7, (i // 7) % 250, 1 + i % 2000 % 250)
        keys.append("client_address=%s client_name=mx%d.remote.example helo_name=mx%d.remote.example "
                    "sender=user%d@remote%d.example recipient=user%d@%s instance=%d.%d size=%d"
                    % (client, i % 2000, i % 2000, i, i % 97, i % 50, DOMAIN, i, i, 1000 + i))
    return keys


def start_policyd(stack, builddir, extra=None, name="policyd", setup=True):
    """Starts policyd as name (the tables filled by mailadm first, unless
    setup is False); extra overrides settings of its section."""
    mailadm = os.path.join(builddir, "mailadm", "mailadm")
    conf = stack.config({"mailadm": {"dkim_key_dir": stack.path("keys")}})
    for args in ([("domain", "add", DOMAIN), ("trap", "add", "trap@" + DOMAIN)] + [
            ("account", "add", "user%d@%s" % (i, DOMAIN), "--quota", "100", "--no-password")
            for i in range(50)] if setup else []):
        subprocess.run([mailadm, "-c", conf] + list(args), check=True, capture_output=True)
    port = harness.free_port()
    section = {"listen": ["127.0.0.1:%d" % port], "user": "", "socket_group": "",
               "max_connections": 200, "trusted_networks": []}
    section.update(extra or {})
    conf = stack.config({"log": {"level": "warning"}, "policyd": section,
                         "blocklists": {"zones": ["bl.bench.example"]}})
    stack._start(name, taskset(0, [os.path.join(builddir, "policyd", "limristem-policyd"),
                                   "-f", "-c", conf]))
    harness.wait_for(lambda: harness.port_open(port), 20, name)
    return port


def start_postgrey(stack):
    port = harness.free_port()
    dbdir = stack.path("postgrey")
    os.makedirs(dbdir, exist_ok=True)
    user = "postgrey" if _user_exists("postgrey") else "nobody"
    shutil.chown(dbdir, user)
    stack._start("postgrey", taskset(0, ["postgrey", "--inet=127.0.0.1:%d" % port,
                                         "--dbdir=" + dbdir, "--user=" + user,
                                         "--pidfile=" + stack.path("postgrey.pid")]))
    harness.wait_for(lambda: harness.port_open(port), 20, "postgrey")
    return port


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def run_load(builddir, address, keys_file, seconds, connections, depth):
    argv = taskset(1, [os.path.join(builddir, "tests", "bench", "lookup-bench"),
                       "--proto", "policy", "--address", address, "--keys", keys_file,
                       "--seconds", str(seconds), "--connections", str(connections),
                       "--depth", str(depth)])
    return run_tool(argv, seconds, address)


def main(builddir, srcdir, seconds=5, rounds=3):
    stack = harness.Stack(builddir, srcdir)
    harness.set_stack(stack)
    try:
        stack.start_redis()
        stack.fresh_database()
        stack.start_dns({"bl.bench.example": BL_ZONE})
        keys = stack.path("policy.keys")
        write_keys(keys, request_keys())
        ours = Target("limristem-policyd", "policy", "127.0.0.1:%d" % start_policyd(stack, builddir),
                      keys)
        theirs = Target("postgrey", "policy", "127.0.0.1:%d" % start_postgrey(stack), keys)
        for t in (ours, theirs):  # warm up: caches, greylist database
            run_load(builddir, t.address, keys, 5, 8, 1)
        for connections, depth in SHAPES:
            ours.runs, theirs.runs = [], []
            for _ in range(rounds):
                for t in (ours, theirs):
                    t.runs.append(run_load(builddir, t.address, keys, seconds, connections, depth))
            report(ours, theirs, seconds, rounds, connections, depth)
    finally:
        stack.teardown()


def report(ours, theirs, seconds, rounds, connections, depth):
    def med(t, key):
        return statistics.median(r[key] for r in t.runs)
    print()
    print("policyd benchmark: %d rounds of %g s per server, %d connections, %d request(s) in "
          "flight each; servers on CPU 0, load on CPU 1; medians" % (rounds, seconds, connections,
                                                                      depth))
    print("%-20s %12s %9s %9s %9s %7s" % ("server", "requests/s", "p50 us", "p99 us", "p99.9 us",
                                         "errors"))
    for t in (ours, theirs):
        print("%-20s %12.0f %9.1f %9.1f %9.1f %7d" % (t.name, med(t, "rps"), med(t, "p50_us"),
                                                     med(t, "p99_us"), med(t, "p999_us"),
                                                     sum(r["errors"] for r in t.runs)))
    ratios = [a["rps"] / b["rps"] for a, b in zip(ours.runs, theirs.runs)]
    print("ratio limristem-policyd/postgrey per round: %s (median %.2f)"
          % (" ".join("%.2f" % r for r in ratios), statistics.median(ratios)))


if __name__ == "__main__":
    a = bench_args()
    main(a.builddir, a.srcdir, a.seconds, a.rounds)
