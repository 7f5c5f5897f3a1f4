"""Raw clients of gs's wire for e2e tests: peer frames and handshakes, the
access ticket layout (lib/ticket.h) to forge one, and a user logged in to the
tracker over a raw TLS link with a key pair of its own (RawMember), whose
tickets therefore name that key."""

import ssl
import struct
import time

import tlsclient
from harness import recv_frame, send_frame


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def handshake(file_id, ticket, seat=b"\x42" * 16):
    return b"gs-peer\x01" + file_id + seat + struct.pack(">H", len(ticket)) + ticket


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(sock):
    """A frame's payload; None when the far end closed the link."""
    try:
        head = read_exact(sock, 4)
        if head is None:
            return None
        return read_exact(sock, struct.unpack(">I", head)[0])
    except (ConnectionError, ssl.SSLError):
        return None


def make_ticket(user, group, file_id, holder, expires, signer):
    """A ticket laid out as lib/ticket.h says, signed by `signer`."""
    body = (b"gst1" + bytes([len(user)]) + user.encode() + bytes([len(group)]) + group.encode() +
            file_id + holder + struct.pack(">Q", expires))
    return body + signer.sign(body)


def ask_for_piece0(port, file_id, ticket, identity, tls=True):
    """Sends a handshake with `ticket` and, if answered, asks for piece 0.
    Returns (the frames received, piece 0's data or None)."""
    got = []
    try:
        s = tlsclient.connect(port, timeout=5.0, tls=tls, identity=identity)
    except (OSError, ssl.SSLError):
        return got, None
    with s:
        try:
            s.sendall(frame(handshake(file_id, ticket)))
        except (OSError, ssl.SSLError):
            return got, None
        for _ in range(2):  # their handshake, their bitfield
            f = read_frame(s)
            if f is None:
                return got, None
            got.append(f)
        s.sendall(frame(b"\x03" + struct.pack(">I", 0)))
        while True:
            f = read_frame(s)
            if f is None:
                return got, None
            got.append(f)
            if f[:1] == b"\x04":
                return got, f[5:]


class TrackerLink:
    """A raw client of the tracker's port: length-prefixed JSON frames over
    TLS, with the process's key pair unless `identity` names another."""

    def __init__(self, port, identity=None, timeout=10):
        self.identity = identity
        self.sock = tlsclient.connect(port, timeout=timeout, identity=identity)
        self.next_id = 0
        send_frame(self.sock, {"hello": "gs-tracker", "version": 1})
        self.hello = recv_frame(self.sock)
        assert "error" not in self.hello, self.hello

    def call(self, op, **fields):
        self.next_id += 1
        send_frame(self.sock, {"id": self.next_id, "op": op, **fields})
        answer = recv_frame(self.sock)
        assert answer.get("id") == self.next_id, answer
        return answer

    def close(self):
        self.sock.close()


class RawMember(TrackerLink):
    """A user logged in to the tracker over a raw TLS link with its own key
    pair: the tickets it gets name that key."""

    def __init__(self, port, user, identity, create=True):
        super().__init__(port, identity)
        self.cluster_key = bytes.fromhex(self.hello["cluster_key"])
        if create:
            assert self.call("create_user", user=user, password="pw")["ok"]
        login = self.call("login", user=user, password="pw", seat="cd" * 16)
        assert login["ok"], login
        self.token = login["token"]

    def wait(self, seconds):
        """Sleeps, keeping the session alive (a heartbeat a second)."""
        end = time.time() + seconds
        while time.time() < end:
            assert self.call("heartbeat", token=self.token)["ok"]
            time.sleep(min(1.0, max(0.0, end - time.time())))

    def ticket(self, group, name):
        """(ticket bytes, file id bytes) from file_info, or the error answer."""
        a = self.call("file_info", token=self.token, group=group, name=name, peers_only=True)
        if not a["ok"]:
            return a
        return bytes.fromhex(a["ticket"]), bytes.fromhex(a["file_id"])
