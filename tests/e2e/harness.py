"""A sandbox that runs real gs-tracker and gsd processes on loopback and
drives them with gsctl.

Every process gets a timeout and is stopped by PID (SIGTERM, then SIGKILL
after a bounded wait). Every wait is bounded. Binaries come from GS_BIN_DIR
(set by CTest), which holds tracker/, daemon/ and ctl/ build outputs.
"""

import json
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import ssl
import struct
import subprocess
import tempfile
import time
import unittest

import tlsclient

BIN_DIR = os.environ.get("GS_BIN_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
TRACKER_BIN = os.path.join(BIN_DIR, "tracker", "gs-tracker")
GSD_BIN = os.path.join(BIN_DIR, "daemon", "gsd")
GSCTL_BIN = os.path.join(BIN_DIR, "ctl", "gsctl")

# Fast but real: scrypt with N=2^10 keeps logins quick under sanitizers.
TRACKER_TOML = """[tracker]
log_level = "debug"
session_ttl_seconds = {ttl}
kdf_log2_n = 10
"""
GSD_TOML = """[daemon]
log_level = "debug"
heartbeat_seconds = 1
tracker_timeout_seconds = 5
"""


def free_port():
    """A port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=15.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Process:
    """One child process with its log file; stopped by PID."""

    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.user = None  # a user name to run as (the tests run as root), else ours
        self.preexec = None  # runs in the child before exec (subprocess's preexec_fn)
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env, preexec_fn=self.preexec,
                                     **as_user(self.user))
        log.close()
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM and wait; returns the exit code. SIGKILL if it hangs."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            os.kill(self.proc.pid, signal.SIGCONT)  # a stopped process takes SIGTERM when it runs
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
                raise AssertionError(f"{self.name} ignored SIGTERM for {timeout} s")
        return self.proc.returncode

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


class Tracker(Process):
    def __init__(self, sandbox, index, port, ttl, extra_toml=""):
        self.index = index
        self.port = port
        self.tls = "tls = false" not in extra_toml
        self.state_dir = os.path.join(sandbox.dir, f"tracker-{index}")
        self.config = os.path.join(sandbox.dir, f"tracker-{index}.toml")
        with open(self.config, "w") as f:
            f.write(TRACKER_TOML.format(ttl=ttl) + extra_toml)
        super().__init__(f"tracker-{index}",
                         [TRACKER_BIN, sandbox.trackers_file, str(index),
                          "--state-dir", self.state_dir, "--config", self.config],
                         os.path.join(sandbox.dir, f"tracker-{index}.log"))

    def start(self):
        super().start()
        wait_until(lambda: self._accepting() or not self.alive(), what=f"{self.name} to listen")
        if not self.alive():
            raise AssertionError(f"{self.name} exited at start:\n{self.log()}")
        return self

    def _accepting(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def cluster(self, timeout=1.0):
        """The tracker's answer to `cluster` (its view of the cluster), or
        None when it does not answer within `timeout`."""
        try:
            with tlsclient.connect(self.port, timeout=timeout, tls=self.tls) as s:
                send_frame(s, {"hello": "gs-tracker", "version": 1})
                recv_frame(s)
                send_frame(s, {"id": 1, "op": "cluster"})
                answer = recv_frame(s)
                return answer if answer.get("ok") else None
        except (OSError, ValueError, ssl.SSLError):
            return None

    def rows(self):
        """Every row of the tracker's replicated tables, by table: what two
        trackers of one cluster must hold alike."""
        db = sqlite3.connect(f"file:{self.state_dir}/tracker.db?mode=ro", uri=True, timeout=10)
        try:
            tables = [r[0] for r in db.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT LIKE 'replica_%' ORDER BY name")]
            return {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
        finally:
            db.close()


def send_frame(sock, obj):
    data = json.dumps(obj).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ValueError("connection closed")
        data += chunk
    return data


def recv_frame(sock):
    (size,) = struct.unpack(">I", recv_exact(sock, 4))
    return json.loads(recv_exact(sock, size))


class Daemon(Process):
    def __init__(self, sandbox, name, extra_toml=""):
        self.port = free_port()
        self.state_dir = os.path.join(sandbox.dir, name)
        self.socket = os.path.join(sandbox.dir, f"{name}.sock")
        self.config = os.path.join(sandbox.dir, f"{name}.toml")
        with open(self.config, "w") as f:
            f.write(GSD_TOML + extra_toml)
        super().__init__(name,
                         [GSD_BIN, "--config", self.config, "--state-dir", self.state_dir,
                          "--socket", self.socket, "--listen", f"127.0.0.1:{self.port}",
                          "--trackers", sandbox.trackers_file],
                         os.path.join(sandbox.dir, f"{name}.log"))

    def start(self):
        super().start()
        # A socket file alone proves nothing: after kill -9 the old one stays.
        wait_until(lambda: self._accepting() or not self.alive(), what=f"{self.name} control socket")
        if not self.alive():
            raise AssertionError(f"{self.name} exited at start:\n{self.log()}")
        return self

    def _accepting(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.socket)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def ctl(self, *args, stdin=None, timeout=180, env=None, user=None):
        """Runs gsctl against this daemon (as `user` when given); returns
        CompletedProcess (text)."""
        return run_gsctl(["--socket", self.socket, *args], stdin=stdin, timeout=timeout, env=env,
                         user=user)

    def ok(self, *args, stdin=None):
        """Runs gsctl and asserts exit 0; returns stdout."""
        r = self.ctl(*args, stdin=stdin)
        if r.returncode != 0:
            raise AssertionError(f"gsctl {' '.join(args)} exited {r.returncode}: "
                                 f"{r.stderr.strip()}\n--- {self.name} log tail:\n{self.log()[-3000:]}")
        return r.stdout

    def json(self, *args):
        return json.loads(self.ok("--json", *args))


def as_user(user):
    """subprocess keyword arguments that run a child as `user` (its uid, its
    primary group, no other groups), or none for None."""
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def run_gsctl(args, stdin=None, timeout=180, env=None, user=None):
    return subprocess.run([GSCTL_BIN, *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env, **as_user(user))


class Sandbox:
    """A temp dir with a trackers file, N trackers and any number of daemons."""

    def __init__(self, trackers=1, ttl=3, tracker_toml=""):
        self.dir = tempfile.mkdtemp(prefix="gs-e2e-")
        self.ttl = ttl
        ports = [free_port() for _ in range(trackers)]
        self.trackers_file = os.path.join(self.dir, "trackers.txt")
        with open(self.trackers_file, "w") as f:
            f.write("# e2e cluster\n")
            for p in ports:
                f.write(f"127.0.0.1 {p}\n")
        self.trackers = [Tracker(self, i + 1, p, ttl, tracker_toml) for i, p in enumerate(ports)]
        self.daemons = []

    def start_trackers(self):
        for t in self.trackers:
            t.start()
        self.wait_primary()
        return self

    def primary(self, among=None):
        """The tracker that answers as the primary (the newest epoch if two
        do), among the running ones; None when none does."""
        best = None
        for t in among or self.trackers:
            if not t.alive():
                continue
            c = t.cluster()
            if c and c["role"] == "primary" and (best is None or c["epoch"] > best[1]):
                best = (t, c["epoch"])
        return best[0] if best else None

    def wait_primary(self, among=None, timeout=20):
        return wait_until(lambda: self.primary(among), timeout=timeout, interval=0.1,
                          what="a primary tracker")

    def daemon(self, name, extra_toml=""):
        d = Daemon(self, name, extra_toml)
        self.daemons.append(d)
        return d.start()

    def close(self):
        errors = []
        for p in self.daemons + self.trackers:
            try:
                p.stop()
            except AssertionError as e:
                errors.append(str(e))
        if os.environ.get("GS_KEEP_SANDBOX"):
            print(f"sandbox kept at {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            raise AssertionError("; ".join(errors))


class GsTestCase(unittest.TestCase):
    """Base: a fresh sandbox with running trackers per test."""

    TRACKERS = 1
    TTL = 3
    TRACKER_TOML = ""  # more [tracker] lines for every tracker

    def setUp(self):
        for b in (TRACKER_BIN, GSD_BIN, GSCTL_BIN):
            if not os.access(b, os.X_OK):
                self.fail(f"missing binary {b}; set GS_BIN_DIR to the build directory")
        self.sb = Sandbox(trackers=self.TRACKERS, ttl=self.TTL, tracker_toml=self.TRACKER_TOML)
        self.addCleanup(self.sb.close)
        self.sb.start_trackers()

    def logged_in(self, name, user=None, password="pw-secret"):
        """A started daemon with `user` created and logged in on it."""
        user = user or name
        d = self.sb.daemon(name)
        d.ok("create_user", user, password)
        d.ok("login", user, password)
        return d

    def assertRefused(self, result, fragment):
        """gsctl exited 1 with `fragment` in its stderr message."""
        self.assertEqual(result.returncode, 1,
                         f"expected refusal, got {result.returncode}: {result.stdout} {result.stderr}")
        self.assertIn(fragment, result.stderr)
