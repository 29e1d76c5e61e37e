"""hostile_clients.py - clients that misbehave, for hostile_bench.py.

    hostile_clients.py --proto socketmap|policy --address unix:/path|host:port
                       [--pipeliners 50] [--tricklers 50] [--interval 0.1]
                       [--seconds 10]

Keeps --pipeliners + --tricklers connections open at all times (a closed
one is opened again at once), from one process with a selector:

  pipeliners  send requests back to back and never read a byte of the
              answers; half send valid requests, half garbage the server
              answers and keeps reading (socketmap: netstrings that are no
              "NAME KEY"; policy: requests of unknown attributes), and
              every eighth connection of those opens with bytes that are
              not the protocol at all, which closes it;
  tricklers   send a valid request one byte every --interval seconds and
              never finish it.

Prints one line at the end:
  connects=N closed_by_server=N bytes_sent=N
"""

import argparse
import os
import random
import selectors
import socket
import time


def address_of(text):
    if text.startswith("unix:"):
        return socket.AF_UNIX, text[5:]
    host, port = text.rsplit(":", 1)
    return socket.AF_INET, (host, int(port))


def netstring(text):
    data = text.encode()
    return str(len(data)).encode() + b":" + data + b","


def policy_request(i):
    return ("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
            "client_address=10.%d.%d.%d\nclient_name=h%d.hostile.example\n"
            "sender=s%d@hostile.example\nrecipient=r%d@hostile.example\ninstance=h.%d\n"
            "size=%d\n\n" % (i % 250, (i // 250) % 250, 1 + i % 200, i, i, i, i, i)).encode()


def payloads(proto):
    """(valid, garbage, not-the-protocol) blobs to pipeline, and one
    request to trickle."""
    if proto == "socketmap":
        valid = b"".join(netstring("forward h%d@hostile%d.example" % (i, i % 50))
                         for i in range(4000))
        garbage = netstring("garbage") * 8000
        broken = b"GET / HTTP/1.0\r\n\r\n" * 10
        trickle = netstring("forward slowly-but-surely@hostile.example")
    else:
        valid = b"".join(policy_request(i) for i in range(1000))
        garbage = b"junk=1\nmore_junk=2\n\n" * 8000
        broken = b"GET / HTTP/1.0\r\n\r\n" * 10
        trickle = policy_request(7)
    return valid, garbage, broken, trickle


class Client:
    def __init__(self, kind, index):
        self.kind, self.index = kind, index
        self.sock, self.data, self.offset, self.next_at = None, b"", 0, 0.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--proto", choices=("socketmap", "policy"), required=True)
    p.add_argument("--address", required=True)
    p.add_argument("--pipeliners", type=int, default=50)
    p.add_argument("--tricklers", type=int, default=50)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--seconds", type=float, default=10)
    a = p.parse_args()
    family, address = address_of(a.address)
    valid, garbage, broken, trickle = payloads(a.proto)
    sel = selectors.DefaultSelector()
    stats = {"connects": 0, "closed_by_server": 0, "bytes_sent": 0}
    rng = random.Random(1)

    def connect(c):
        c.sock = socket.socket(family, socket.SOCK_STREAM)
        c.sock.setblocking(False)
        try:
            c.sock.connect(address)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            c.sock.close()
            c.sock, c.next_at = None, time.monotonic() + 0.05
            return
        stats["connects"] += 1
        c.offset = 0
        if c.kind == "trickle":
            c.data, c.next_at = trickle, time.monotonic() + rng.random() * a.interval
        elif c.index % 2 == 0:
            c.data = valid
        elif stats["connects"] % 8 == 0:
            c.data = broken
        else:
            c.data = garbage
        sel.register(c.sock, selectors.EVENT_WRITE if c.kind == "pipe" else selectors.EVENT_READ,
                     c)

    def drop(c):
        stats["closed_by_server"] += 1
        sel.unregister(c.sock)
        c.sock.close()
        c.sock = None
        connect(c)

    clients = [Client("pipe", i) for i in range(a.pipeliners)] + \
        [Client("trickle", i) for i in range(a.tricklers)]
    for c in clients:
        connect(c)
    deadline = time.monotonic() + a.seconds
    while time.monotonic() < deadline:
        now = time.monotonic()
        for c in clients:
            if c.sock is None and now >= c.next_at:
                connect(c)
            elif c.sock is not None and c.kind == "trickle" and now >= c.next_at:
                try:
                    # the last byte never goes: the request is never complete
                    if c.offset < len(c.data) - 1:
                        stats["bytes_sent"] += c.sock.send(c.data[c.offset:c.offset + 1])
                        c.offset += 1
                    c.next_at = now + a.interval
                except BlockingIOError:
                    pass
                except OSError:
                    drop(c)
        for key, events in sel.select(min(a.interval, 0.05)):
            c = key.data
            if c.sock is None:
                continue
            if events & selectors.EVENT_READ and c.kind == "trickle":
                try:
                    gone = c.sock.recv(4096) == b""
                except BlockingIOError:
                    gone = False
                except OSError:
                    gone = True
                if gone:
                    drop(c)
                continue
            if events & selectors.EVENT_WRITE:
                try:
                    n = c.sock.send(c.data[c.offset:c.offset + 65536])
                    stats["bytes_sent"] += n
                    c.offset = (c.offset + n) % len(c.data)
                except BlockingIOError:
                    pass
                except OSError:
                    drop(c)
    for c in clients:
        if c.sock is not None:
            c.sock.close()
    print(" ".join("%s=%d" % kv for kv in stats.items()), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
