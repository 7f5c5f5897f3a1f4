"""gsd and gs-tracker as systemd services see them (Type=notify, WatchdogSec=,
journald): each test binds the datagram socket systemd would listen on,
points NOTIFY_SOCKET at it and reads what the daemon says there. No systemd
is needed; the protocol is sd_notify(3)'s, one datagram per message.

The watchdog tests use the test hook GS_TEST_BLOCK_LOOP_AFTER_SECONDS (builds
with GS_TEST_HOOKS, like every e2e test), which blocks the event loop for
good: such a process is stopped with SIGKILL.
"""

import os
import re
import socket
import sqlite3
import subprocess
import threading
import time
import unittest

from harness import GSCTL_BIN, GSD_BIN, TRACKER_BIN, Daemon, Sandbox, wait_until

WATCHDOG_USEC = 1_000_000  # pings every 0.5 s


class NotifySocket:
    """The AF_UNIX datagram socket that stands in for systemd's, read by a
    thread as systemd reads its own (a full queue would make the daemons
    drop messages). Every message is kept with its arrival time."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.received = []  # (monotonic time, text)
        self.closed = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while not self.closed:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.received.append((time.monotonic(), data.decode("utf-8", "replace")))

    def close(self):
        self.closed = True
        self.reader.join(timeout=5)
        self.sock.close()

    def messages(self):
        return [m for _, m in list(self.received)]

    def wait_for(self, predicate, timeout=15.0, what="a message"):
        """Waits until a message (one datagram's text) satisfies
        `predicate`; returns it."""
        def match():
            return next((m for m in self.messages() if predicate(m)), None)
        try:
            return wait_until(match, timeout=timeout, what=what)
        except AssertionError as e:
            raise AssertionError(f"{e}; the last messages: {self.messages()[-10:]}") from None

    def times_of(self, text):
        return [t for t, m in list(self.received) if m == text]


class ServiceTest(unittest.TestCase):
    def setUp(self):
        for b in (TRACKER_BIN, GSD_BIN):
            if not os.access(b, os.X_OK):
                self.fail(f"missing binary {b}; set GS_BIN_DIR to the build directory")
        self.sb = Sandbox(trackers=1, ttl=3)
        self.addCleanup(self.sb.close)
        self.tracker = self.sb.trackers[0]

    def notify_socket(self, name):
        n = NotifySocket(os.path.join(self.sb.dir, name))
        self.addCleanup(n.close)
        return n

    def service_env(self, notify, **extra):
        env = dict(os.environ, NOTIFY_SOCKET=notify.path, WATCHDOG_USEC=str(WATCHDOG_USEC))
        env.pop("JOURNAL_STREAM", None)
        env.pop("WATCHDOG_PID", None)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start_daemon(self, name, env):
        d = Daemon(self.sb, name)
        d.env = env
        self.sb.daemons.append(d)
        return d.start()

    def assert_pings(self, notify, seconds):
        """WATCHDOG=1 arrives about every half of WATCHDOG_USEC while the
        loop turns: at least 2 per second, with no gap of a whole timeout."""
        start = time.monotonic()
        time.sleep(seconds)
        pings = [t for t in notify.times_of("WATCHDOG=1") if t >= start]
        self.assertGreaterEqual(len(pings), int(seconds * 2) - 1, f"pings at {pings}")
        gaps = [b - a for a, b in zip([start] + pings, pings + [time.monotonic()])]
        self.assertLess(max(gaps), WATCHDOG_USEC / 1e6, f"gaps {gaps}")

    def test_tracker_ready_status_watchdog_stopping(self):
        notify = self.notify_socket("tracker-notify")
        self.tracker.env = self.service_env(notify)
        self.sb.start_trackers()
        notify.wait_for(lambda m: "READY=1" in m.split("\n"), what="READY=1")
        notify.wait_for(lambda m: m.startswith("STATUS=tracker 1 of 1: primary, epoch "),
                        what="a STATUS= naming the primary")
        self.assert_pings(notify, 3)

        # A logged-in daemon is a session the tracker's STATUS= counts.
        d = self.sb.daemon("a")
        d.ok("create_user", "alice", "pw-secret")
        d.ok("login", "alice", "pw-secret")
        notify.wait_for(lambda m: m.startswith("STATUS=") and "; 1 session, " in m,
                        what="a STATUS= with the session")

        self.assertEqual(self.tracker.stop(), 0)
        notify.wait_for(lambda m: m == "STOPPING=1", timeout=2, what="STOPPING=1")

    def test_gsd_ready_status_watchdog_stopping(self):
        self.sb.start_trackers()
        notify = self.notify_socket("gsd-notify")
        d = self.start_daemon("a", self.service_env(notify))
        notify.wait_for(lambda m: "READY=1" in m.split("\n"), what="READY=1")
        # Before a login, then after: the line follows what the daemon does.
        notify.wait_for(lambda m: m.startswith("STATUS=not logged in"), what="STATUS= before the login")
        d.ok("create_user", "alice", "pw-secret")
        d.ok("login", "alice", "pw-secret")
        line = notify.wait_for(lambda m: m.startswith("STATUS=alice via tracker 1 "),
                               what="STATUS= after the login")
        self.assertIn("0 downloading; down 0 B/s, up 0 B/s", line)
        self.assert_pings(notify, 3)

        self.assertEqual(d.stop(), 0)
        notify.wait_for(lambda m: m == "STOPPING=1", timeout=2, what="STOPPING=1")

    def check_blocked_loop_stops_pings(self, proc):
        """Pings while the loop turns, none once the hook blocked it, while
        the process lives on."""
        wait_until(lambda: "blocking the event loop for good" in proc.log() or not proc.alive(),
                   timeout=30, what="the test hook to block the loop")
        time.sleep(0.3)  # pings sent before the block have arrived by now
        before = len(self.notify.times_of("WATCHDOG=1"))
        self.assertGreater(before, 0, "no ping before the block")
        time.sleep(5 * WATCHDOG_USEC / 1e6 / 2)  # five ping intervals
        self.assertEqual(len(self.notify.times_of("WATCHDOG=1")), before, "pings went on with the loop blocked")
        self.assertTrue(proc.alive(), "a blocked loop must not end the process")
        proc.kill9()

    def test_tracker_watchdog_stops_when_its_loop_blocks(self):
        self.notify = self.notify_socket("tracker-notify")
        self.tracker.env = self.service_env(self.notify, GS_TEST_BLOCK_LOOP_AFTER_SECONDS=2)
        self.sb.start_trackers()
        self.check_blocked_loop_stops_pings(self.tracker)

    def test_gsd_watchdog_stops_when_its_loop_blocks(self):
        self.sb.start_trackers()
        self.notify = self.notify_socket("gsd-notify")
        d = self.start_daemon("a", self.service_env(self.notify, GS_TEST_BLOCK_LOOP_AFTER_SECONDS=2))
        self.check_blocked_loop_stops_pings(d)

    def test_no_pings_for_another_pid(self):
        # WATCHDOG_PID names the process systemd started; a child that
        # inherited the variables must not ping in its place.
        notify = self.notify_socket("gsd-notify")
        self.sb.start_trackers()
        d = self.start_daemon("a", self.service_env(notify, WATCHDOG_PID=1))
        notify.wait_for(lambda m: "READY=1" in m.split("\n"), what="READY=1")
        time.sleep(1.5)
        self.assertEqual(notify.times_of("WATCHDOG=1"), [])
        self.assertEqual(d.stop(), 0)


class SocketActivationTest(unittest.TestCase):
    """gsd under gsd.socket: the control socket comes from systemd as fd 3
    (LISTEN_FDS=1, LISTEN_PID=its pid); gsd serves on it, never removes it,
    and a gsctl call made while gsd restarts waits in its backlog."""

    def setUp(self):
        self.sb = Sandbox(trackers=1, ttl=3)
        self.addCleanup(self.sb.close)
        self.sb.start_trackers()
        # What systemd would make from ListenStream=: bound and listening.
        self.path = os.path.join(self.sb.dir, "activated.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(self.listener.close)
        self.listener.bind(self.path)
        self.listener.listen(16)
        self.d = Daemon(self.sb, "a")
        self.own_socket = self.d.socket  # gsd's --socket, unused when activated
        self.d.socket = self.path  # where d.ok() sends gsctl
        self.sb.daemons.append(self.d)

    def start_activated(self, listen_pid="$$"):
        """Starts gsd with the listener as fd 3, as systemd would. The shell
        sets LISTEN_PID to its own pid, which exec gives to gsd."""
        log = open(self.d.log_path, "ab")
        fd = self.listener.fileno()
        self.d.proc = subprocess.Popen(
            ["sh", "-c", f'LISTEN_PID={listen_pid} LISTEN_FDS=1 exec "$0" "$@"', *self.d.argv],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, pass_fds=(3,),
            preexec_fn=lambda: os.dup2(fd, 3))
        log.close()

    def test_gsd_serves_on_the_socket_it_was_given_and_leaves_it(self):
        self.start_activated()
        self.assertIn("listen", self.d.json("status"))  # answered: gsd may still be starting
        self.assertIn(f"control socket {self.path} from systemd", self.d.log())
        self.assertFalse(os.path.exists(self.own_socket), "gsd made a socket of its own")
        self.assertEqual(self.d.stop(), 0)
        self.assertTrue(os.path.exists(self.path), "gsd removed systemd's socket")

    def test_a_call_during_a_restart_waits_for_the_new_gsd(self):
        self.start_activated()
        self.d.ok("create_user", "alice", "pw-secret")
        self.assertEqual(self.d.stop(), 0)
        # gsd is down; the socket listens on: this call waits in the backlog.
        waiting = subprocess.Popen([GSCTL_BIN, "--socket", self.path, "--json", "status"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: waiting.poll() is None and waiting.kill())
        time.sleep(1)
        self.assertIsNone(waiting.poll(), "gsctl gave up while gsd was down")
        self.start_activated()
        out, err = waiting.communicate(timeout=30)
        self.assertEqual(waiting.returncode, 0, err)
        self.assertIn("listen", out)

    def test_sockets_meant_for_another_process_are_not_taken(self):
        # LISTEN_PID of another process (the variables leaked to a child):
        # gsd makes its own socket at --socket.
        self.start_activated(listen_pid="1")
        self.d.socket = self.own_socket
        wait_until(lambda: os.path.exists(self.own_socket) or not self.d.alive(), what="gsd's own socket")
        self.d.ok("status")
        self.assertNotIn("from systemd", self.d.log())


class JournalTest(unittest.TestCase):
    """With JOURNAL_STREAM naming its stderr (what systemd sets when stderr
    is a stream to journald), each line starts with its syslog priority."""

    def setUp(self):
        self.sb = Sandbox(trackers=1, ttl=3)
        self.addCleanup(self.sb.close)

    def stream_of(self, path):
        open(path, "ab").close()
        st = os.stat(path)
        return f"{st.st_dev}:{st.st_ino}"

    def test_lines_carry_their_priority_when_stderr_is_the_journal(self):
        t = self.sb.trackers[0]
        t.env = dict(os.environ, JOURNAL_STREAM=self.stream_of(t.log_path))
        self.sb.start_trackers()
        d = Daemon(self.sb, "a")
        d.env = dict(os.environ, JOURNAL_STREAM=self.stream_of(d.log_path))
        self.sb.daemons.append(d)
        d.start()
        d.ok("create_user", "alice", "pw-secret")
        self.assertEqual(d.stop(), 0)
        self.assertEqual(t.stop(), 0)
        for proc in (t, d):
            lines = [l for l in proc.log().splitlines() if l]
            self.assertTrue(lines)
            self.assertTrue(all(l[:3] in ("<3>", "<4>", "<6>", "<7>") for l in lines),
                            f"{proc.name}: lines without a priority: {lines[:5]}")
            self.assertTrue(any(l.startswith("<6>") and "stopped" in l for l in lines), lines[-5:])
            self.assertTrue(any(l.startswith("<7>") for l in lines))  # the harness logs at debug

    def test_no_prefix_when_journal_stream_names_another_file(self):
        # Inherited from a service whose stderr this is not.
        d = Daemon(self.sb, "a")
        d.env = dict(os.environ, JOURNAL_STREAM="1:1")
        self.sb.start_trackers()
        self.sb.daemons.append(d)
        d.start()
        self.assertEqual(d.stop(), 0)
        lines = [l for l in d.log().splitlines() if l]
        self.assertFalse([l for l in lines if l.startswith("<")], lines[:5])
        self.assertTrue(any(" gsd info: stopped" in l for l in lines), lines[-5:])


class SecretsTest(unittest.TestCase):
    """What the logs must never hold, at debug level, through a login, a
    share and a download with tickets: passwords, session tokens, access
    tickets, private keys."""

    def setUp(self):
        self.sb = Sandbox(trackers=1, ttl=3)
        self.addCleanup(self.sb.close)
        self.sb.start_trackers()

    def test_logs_hold_no_password_token_ticket_or_private_key(self):
        password = "pw-Secret-4242"
        seed, leech = self.sb.daemon("seed"), self.sb.daemon("leech")
        seed.ok("create_user", "alice", password)
        seed.ok("login", "alice", password)
        leech.ok("create_user", "bob", password + "b")
        leech.ok("login", "bob", password + "b")
        seed.ok("create_group", "g")
        leech.ok("join_group", "g")
        seed.ok("accept_request", "g", "bob")
        data = os.path.join(self.sb.dir, "f.bin")
        with open(data, "wb") as f:
            f.write(os.urandom(1 << 20))
        seed.ok("upload_file", data, "g")
        out = os.path.join(self.sb.dir, "out")
        os.mkdir(out)
        leech.ok("download_file", "g", "f.bin", out, "--wait")
        self.assertTrue(os.path.exists(os.path.join(out, "f.bin")))

        secrets = {"password": password, "password b": password + "b"}
        for d in (seed, leech):
            db = sqlite3.connect(f"file:{d.state_dir}/gsd.db?mode=ro", uri=True, timeout=10)
            try:
                (token,) = db.execute("SELECT token FROM session WHERE id = 1").fetchone()
            finally:
                db.close()
            secrets[f"{d.name}'s session token"] = token
            with open(os.path.join(d.state_dir, "gsd.key")) as f:
                secrets[f"{d.name}'s private key"] = "".join(
                    l for l in f.read().splitlines() if not l.startswith("-----"))
        for p in [seed, leech, *self.sb.trackers]:
            log = p.log()
            self.assertIn("logged in" if p in (seed, leech) else "login", log)  # the log is the debug one
            for what, secret in secrets.items():
                self.assertNotIn(secret, log, f"{p.name}'s log holds {what}")
            # A ticket is a signed blob far longer than a key's 64 hex digits.
            self.assertFalse(re.search(r"[0-9a-f]{100,}|[A-Za-z0-9+/=]{100,}", log),
                             f"{p.name}'s log holds a long encoded blob (a ticket?)")


if __name__ == "__main__":
    unittest.main()
