"""Raw clients for gs's TCP ports, over TLS 1.3 (as gsd speaks to trackers
and peers) or plaintext (what a client that ignores TLS gets).

gs pins keys instead of trusting certificate authorities, and asks every
client for a certificate of its own: this module makes one key pair and a
self-signed certificate (Ed25519, with the openssl command) per process,
and checks nothing of the server's certificate unless a key is given.
"""

import atexit
import os
import shutil
import socket
import ssl
import subprocess
import tempfile

_context = None


def client_identity():
    """(cert_path, key_path) of this process's own client key pair."""
    d = tempfile.mkdtemp(prefix="gs-tls-client-")
    atexit.register(shutil.rmtree, d, True)
    key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=gs-test-client"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def context():
    global _context
    if _context is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # gs pins keys; see server_key()
        ctx.load_cert_chain(*client_identity())
        _context = ctx
    return _context


class Identity:
    """A key pair of its own, for tests that need several daemons' worth of
    keys (a stolen ticket is one held by another key): its client context,
    a server context (to pose as a peer), its raw public key, and signing."""

    def __init__(self):
        self.cert, self.key = client_identity()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_3
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE
        self.context.load_cert_chain(self.cert, self.key)

    def server_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def public_key(self):
        """The raw Ed25519 public key, 32 bytes."""
        r = subprocess.run(["openssl", "pkey", "-in", self.key, "-pubout", "-outform", "DER"],
                           check=True, capture_output=True, timeout=30)
        return r.stdout[-32:]

    def sign(self, data):
        """An Ed25519 signature (64 bytes) of `data`."""
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            r = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", self.key, "-in", f.name],
                               check=True, capture_output=True, timeout=30)
        return r.stdout


def connect(port, timeout=5.0, tls=True, host="127.0.0.1", identity=None, source=None):
    """A connected socket to host:port, TLS unless tls=False; with the
    process's own client key pair unless `identity` names another; from the
    local address `source` when given (another loopback address is another
    client host to the far end)."""
    s = socket.create_connection((host, port), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    if not tls:
        return s
    try:
        t = (identity.context if identity else context()).wrap_socket(s)
        t.settimeout(timeout)
        return t
    except Exception:
        s.close()
        raise


def server_key(sock):
    """The raw Ed25519 key (hex) the server proved it holds on a TLS socket."""
    der = sock.getpeercert(binary_form=True)
    # The SubjectPublicKeyInfo of an Ed25519 key ends with its 32 raw bytes,
    # after the fixed prefix 302a300506032b6570032100.
    prefix = bytes.fromhex("302a300506032b6570032100")
    at = der.find(prefix)
    if at < 0:
        raise ValueError("no Ed25519 key in the server's certificate")
    return der[at + len(prefix):at + len(prefix) + 32].hex()
