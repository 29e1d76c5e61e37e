"""milter_concurrency.py - limristem-milter under many SMTP sessions at
once while DNS is slow: 500 concurrent sessions (milter-bench), every
message from a sender domain of its own (--vary) so that no cache answers
for another, and every DNS answer held back 200 ms by a forwarder in front
of nsd.

What it shows: every message is decided; throughput is what the DNS delay
allows when the sessions wait side by side (a filter that made sessions
wait for each other's answers would decide a handful of messages a
second); the milter's resident memory stays small. Part of make bench;
the numbers go into the README.
"""

import asyncio
import os
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
from srsd_bench import bench_args, run_tool, taskset  # noqa: E402

DOMAIN = "bulk.example"
CLIENT = "192.0.2.25"
SESSIONS = int(os.environ.get("SESSIONS", "500"))
DELAY_S = 0.2


class SlowForwarder(threading.Thread):
    """A UDP DNS forwarder that passes every query on to upstream after
    DELAY_S and relays the answer at once."""

    def __init__(self, upstream_port):
        super().__init__(daemon=True)
        self.upstream = ("127.0.0.1", upstream_port)
        self.port = harness.free_port()
        self.ready = threading.Event()
        self.loop = None
        self.forwarded = 0

    def run(self):
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.serve())

    async def serve(self):
        loop = asyncio.get_running_loop()
        pending = {}
        front = None

        def key(data):
            """The id and the question, which the answer repeats."""
            end = data.find(b"\0", 12)
            return data[:2] + data[12:end + 5] if end > 0 else None

        class Upstream(asyncio.DatagramProtocol):
            def datagram_received(proto, data, addr):
                client = pending.pop(key(data), None)
                if client is not None:
                    front.sendto(data, client)

        back, _ = await loop.create_datagram_endpoint(Upstream, remote_addr=self.upstream)
        big_buffers(back)

        def forward(data):
            self.forwarded += 1
            back.sendto(data)

        class Front(asyncio.DatagramProtocol):
            def datagram_received(proto, data, addr):
                if len(data) < 12 or key(data) is None:
                    return
                pending[key(data)] = addr
                loop.call_later(DELAY_S, forward, data)

        front, _ = await loop.create_datagram_endpoint(Front, local_addr=("127.0.0.1", self.port))
        big_buffers(front)
        self.ready.set()
        await asyncio.Event().wait()


def big_buffers(transport):
    """Room for hundreds of queries and answers at once: a burst must not
    be dropped by the forwarder itself."""
    sock = transport.get_extra_info("socket")
    for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        sock.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main(builddir, srcdir, seconds=10, rounds=1):
    stack = harness.Stack(builddir, srcdir)
    harness.set_stack(stack)
    try:
        stack.start_dns({DOMAIN: '* IN TXT "v=spf1 ip4:%s -all"\n'
                                 '_dmarc IN TXT "v=DMARC1; p=none"\n' % CLIENT})
        slow = SlowForwarder(stack.dns_port)
        slow.start()
        slow.ready.wait(10)
        sock = stack.path("milter.sock")
        dns = {"upstream": ["127.0.0.1:%d" % slow.port], "timeout": "5s"}
        if os.environ.get("DNS_CACHE"):     # else the daemon's default
            dns["cache_size"] = os.environ["DNS_CACHE"]
        conf = stack.config({"log": {"level": "warning"},
                             "dns": dns,
                             "milter": {"listen": ["unix:" + sock], "user": "",
                                        "socket_group": "", "internal_networks": [],
                                        "max_connections": 1000}},
                            redis=False, database=False, dns=False)
        milter = stack._start("limristem-milter", taskset(0, [
            os.path.join(builddir, "milter", "limristem-milter"), "-f", "-c", conf]))
        harness.wait_for(lambda: os.path.exists(sock), 20, "limristem-milter")
        msg = stack.path("bulk.eml")
        with open(msg, "w") as f:
            f.write("From: News <news@uVVVVVVVV.%s>\nTo: user@limristem.example\n"
                    "Subject: many at once\nMessage-ID: <VVVVVVVV@%s>\n\nHello.\n"
                    % (DOMAIN, DOMAIN))
        peak = [0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_kb(milter.proc.pid))
                time.sleep(0.1)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        idle_kb = rss_kb(milter.proc.pid)
        runs = []
        for _ in range(rounds):
            argv = taskset(1, [os.path.join(builddir, "tests", "bench", "milter-bench"),
                               "--address", "unix:" + sock, "--connections", str(SESSIONS),
                               "--seconds", str(seconds), "--client-ip", CLIENT,
                               "--helo", "mail." + DOMAIN,
                               "--mail-from", "bounce@uVVVVVVVV." + DOMAIN,
                               "--rcpt", "user@limristem.example", "--vary", msg])
            runs.append(run_tool(argv, seconds + 10, "milter-bench"))
        done.set()
        sampler.join()
        report(runs, seconds, idle_kb, peak[0], slow.forwarded)
        for r in runs:
            if r["errors"] or r["accepted"] == 0:
                raise RuntimeError("not every message was decided: %s" % r)
    finally:
        stack.teardown()


def report(runs, seconds, idle_kb, peak_kb, forwarded):
    def med(key):
        return statistics.median(r[key] for r in runs)
    print()
    print("milter under %d concurrent sessions, every DNS answer %d ms late, each message "
          "from a domain of its own; %d rounds of %g s" % (SESSIONS, DELAY_S * 1000, len(runs),
                                                          seconds))
    print("messages/s %.0f  p50 %.0f ms  p99 %.0f ms  max %.0f ms  decided %d (accepted %d, "
          "tempfailed %d, rejected %d, errors %d)"
          % (med("mps"), med("p50_us") / 1000, med("p99_us") / 1000, med("max_us") / 1000,
             sum(r["messages"] for r in runs), sum(r["accepted"] for r in runs),
             sum(r["tempfailed"] for r in runs), sum(r["rejected"] for r in runs),
             sum(r["errors"] for r in runs)))
    print("milter RSS: %.1f MB idle, %.1f MB at most under load; DNS queries delayed: %d"
          % (idle_kb / 1024, peak_kb / 1024, forwarded))


if __name__ == "__main__":
    a = bench_args()
    main(a.builddir, a.srcdir, a.seconds * 2, a.rounds)
