"""srsclient.py - small clients for the SRS tests: Postfix's socketmap
protocol (netstrings) and postsrsd 1.x's tcp_table protocol."""

import socket


def netstring(text):
    data = text.encode() if isinstance(text, str) else text
    return str(len(data)).encode() + b":" + data + b","


class Socketmap:
    def __init__(self, address, timeout=5):
        if isinstance(address, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self.buf = b""

    def send(self, raw):
        self.sock.sendall(raw)

    def read_reply(self):
        """The next reply netstring as text, or None at EOF."""
        while True:
            colon = self.buf.find(b":")
            if colon > 0:
                n = int(self.buf[:colon])
                if len(self.buf) >= colon + n + 2:
                    payload = self.buf[colon + 1:colon + 1 + n]
                    assert self.buf[colon + 1 + n:colon + 2 + n] == b",", self.buf
                    self.buf = self.buf[colon + n + 2:]
                    return payload.decode()
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def query(self, name, key):
        self.send(netstring("%s %s" % (name, key)))
        return self.read_reply()

    def at_eof(self):
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def tcp_table(port, key, timeout=5):
    """postsrsd 1.x: 'get KEY' -> '200 value' / '500 ...'."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"get " + key.encode().replace(b"%", b"%25").replace(b" ", b"%20") + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    code, _, value = reply.decode().strip().partition(" ")
    return code, value
