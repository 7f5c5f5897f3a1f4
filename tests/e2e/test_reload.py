"""Reloading the config with SIGHUP, and the transfer limits at run time.

gsd and gs-tracker reread their TOML file on SIGHUP and apply what may change
while running, to transfers already going, without dropping a peer or a
session; a file that does not load is refused (its log line names file, line
and key) and the old settings stay. `gsctl limits` changes the rates and the
peer limit at run time; those values are kept in gsd.db across restarts and
win over the file, also after a reload."""

import os
import re
import signal
import socket
import time

from harness import Daemon, wait_until
from test_limits import close_all, has_room, lines_with, open_many
from test_transfer import PIECE, TransferCase, digest, make_file

KIB = 1024
MIB = 1024 * 1024


def set_key(path, key, value):
    """Sets `key = value` in the TOML file at `path` (replacing the line
    that sets it, else appending to the file, whose one table is the
    program's)."""
    with open(path) as f:
        lines = f.read().splitlines()
    line = f"{key} = {value}"
    for i, old in enumerate(lines):
        if re.match(rf"\s*{re.escape(key)}\s*=", old):
            lines[i] = line
            break
    else:
        lines.append(line)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def hup_and_wait(proc, fragment, timeout=10):
    """SIGHUP `proc` and wait until its log has one more line with `fragment`."""
    before = len(lines_with(proc.log(), fragment))
    os.kill(proc.pid, signal.SIGHUP)
    wait_until(lambda: len(lines_with(proc.log(), fragment)) > before, timeout=timeout,
               what=f"{proc.name} to log '{fragment}'")
    return lines_with(proc.log(), fragment)[-1]


def hup_pending():
    """In the child before exec: SIGHUP blocked and pending, as if it came
    before the daemon's handler existed (a blocked mask and its pending
    signals survive exec)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    os.kill(os.getpid(), signal.SIGHUP)


class Reload(TransferCase):
    def done(self, d, name):
        return (self.download(d, name) or {}).get("done_bytes", 0)

    def rate_over(self, d, name, seconds, size):
        """Bytes per second the download of `name` made over `seconds` (or until
        it completed), from its done_bytes."""
        start, t0 = self.done(d, name), time.monotonic()
        while time.monotonic() - t0 < seconds and self.done(d, name) < size:
            time.sleep(0.1)
        return (self.done(d, name) - start) / (time.monotonic() - t0)

    def test_raised_upload_rate_speeds_up_the_running_transfer(self):
        seeder = self.member("seed", extra_toml="max_upload_rate = 524288\n")
        size = 16 * PIECE
        src = make_file(os.path.join(self.sb.dir, "r.bin"), size)
        seeder.ok("upload_file", src, "g")
        leech = self.member("leech", owner=seeder)
        out = os.path.join(self.sb.dir, "r.out")
        leech.ok("download_file", "g", "r.bin", out)
        wait_until(lambda: self.done(leech, "r.bin") >= PIECE, timeout=30, interval=0.1,
                   what="the first piece")
        slow = self.rate_over(leech, "r.bin", 4.0, size)
        self.assertLess(self.done(leech, "r.bin"), size // 2, "the capped transfer was too fast to measure")
        self.assertLess(slow, 1.5 * 524288, "the cap did not hold before the reload")

        set_key(seeder.config, "max_upload_rate", 16 * MIB)
        line = hup_and_wait(seeder, "config reloaded")
        self.assertIn("1 change(s) applied", line)
        self.assertIn(f"config: daemon.max_upload_rate 524288 -> {16 * MIB}", seeder.log())
        fast = self.rate_over(leech, "r.bin", 3.0, size)
        self.assertGreater(fast, 3 * slow, f"before {slow:.0f} B/s, after {fast:.0f} B/s")

        e = self.wait_complete(leech, "r.bin", timeout=30)
        self.assertEqual(digest(out), digest(src))
        self.assertEqual(e["refetched_bytes"], 0, e)
        # Nothing was dropped: one peer link for the whole transfer (closed,
        # if at all, only once it was done), and both sessions still there.
        log = seeder.log()
        self.assertEqual(len(re.findall(r"peer \S+ connected", log)), 1, "\n".join(lines_with(log, "peer ")))
        self.assertLessEqual(len(re.findall(r"peer \S+ closed: ", log)), 1)
        self.assertEqual(seeder.json("status")["user"], "seed")
        self.assertEqual(leech.json("status")["user"], "leech")
        self.assertEqual(seeder.json("limits")["upload_rate"],
                         {"value": 16 * MIB, "source": "config", "config": 16 * MIB})

    def test_broken_file_is_refused_and_the_old_settings_stay(self):
        d = self.member("d", extra_toml="max_upload_rate = 1000000\n")
        # A syntax error: the log names file, line and key.
        with open(d.config) as f:
            good = f.read()
        with open(d.config, "w") as f:
            f.write(good.replace("max_upload_rate = 1000000", "max_upload_rate = 2000000\nmax_peers = = 3"))
        bad_line = good.replace("max_upload_rate = 1000000", "max_upload_rate = 2000000\nmax_peers = = 3") \
            .splitlines().index("max_peers = = 3") + 1
        line = hup_and_wait(d, "config not reloaded")
        self.assertIn(f"{d.config}:{bad_line}:", line)
        self.assertIn("key 'daemon.max_peers'", line)
        self.assertIn("the running settings stay", line)
        self.assertTrue(d.alive())
        self.assertEqual(d.json("status")["user"], "d")
        self.assertEqual(d.json("limits")["upload_rate"]["value"], 1000000)

        # A value out of range, and an unknown key: the same.
        with open(d.config, "w") as f:
            f.write(good + "max_peers_per_download = 100000\n")
        line = hup_and_wait(d, "config not reloaded")
        n = len(good.splitlines()) + 1
        self.assertIn(f"{d.config}:{n}: key 'daemon.max_peers_per_download'", line)
        self.assertIn("out of range", line)
        with open(d.config, "w") as f:
            f.write(good + "max_uplaod_rate = 5\n")
        line = hup_and_wait(d, "config not reloaded")
        self.assertIn(f"{d.config}:{n}: key 'daemon.max_uplaod_rate': unknown key", line)
        self.assertTrue(d.alive())
        self.assertEqual(d.json("status")["user"], "d")
        self.assertEqual(d.json("limits")["upload_rate"]["value"], 1000000)

        # Fixed: it loads, and a key that needs a restart is kept, said once.
        with open(d.config, "w") as f:
            f.write(good.replace("1000000", "3000000") + "tls = false\n")
        line = hup_and_wait(d, "config reloaded")
        self.assertIn("1 change(s) applied, 1 kept until a restart", line)
        self.assertIn("daemon.tls needs a restart, kept true", d.log())
        self.assertEqual(d.json("limits")["upload_rate"]["value"], 3000000)
        d.ok("create_group", "after-reload")  # the tracker link is TLS still and works

    def test_runtime_limits_persist_across_a_restart_and_apply(self):
        seeder = self.member("seed")
        size = 8 * PIECE
        src = make_file(os.path.join(self.sb.dir, "d.bin"), size)
        seeder.ok("upload_file", src, "g")
        leech = self.member("leech", owner=seeder)
        self.assertIn("default", leech.ok("limits"))
        out = leech.ok("limits", "--download", "512K", "--peers", "5")
        self.assertRegex(out, r"download\s+512K/s\s+runtime")
        self.assertRegex(out, r"peers\s+5\s+runtime")
        # A bad value is a usage error, sent nowhere.
        r = leech.ctl("limits", "--upload", "fast")
        self.assertEqual(r.returncode, 2, r.stderr)

        leech.stop()
        leech.start()
        wait_until(lambda: leech.json("status")["user"] == "leech", what="the session back")
        limits = leech.json("limits")
        self.assertEqual(limits["download_rate"], {"value": 512 * KIB, "source": "runtime", "config": 0})
        self.assertEqual(limits["max_peers"], {"value": 5, "source": "runtime", "config": 0})
        self.assertEqual(limits["upload_rate"]["source"], "default")

        # A reload that changes the file's value keeps the override, and says so.
        set_key(leech.config, "max_download_rate", 8 * MIB)
        hup_and_wait(leech, "config reloaded")
        self.assertIn(f"daemon.max_download_rate: the file now says {8 * MIB}, but the value set with "
                      "gsctl limits (524288) stays in force", leech.log())
        limits = leech.json("limits")
        self.assertEqual(limits["download_rate"], {"value": 512 * KIB, "source": "runtime", "config": 8 * MIB})
        self.assertIn("--reset", leech.ok("limits"))

        # It applies: 4 MiB at 512 KiB/s takes several seconds (one second's
        # worth may go at once); unlimited on loopback it takes a fraction of one.
        t0 = time.monotonic()
        leech.ok("download_file", "g", "d.bin", os.path.join(self.sb.dir, "d.out"), "--wait")
        elapsed = time.monotonic() - t0
        self.assertEqual(digest(os.path.join(self.sb.dir, "d.out")), digest(src))
        self.assertGreater(elapsed, 4.0, f"{size} bytes in {elapsed:.1f} s under a 512 KiB/s limit")

        # Cleared: the file's value applies again.
        limits = leech.json("limits", "--reset")
        self.assertEqual(limits["download_rate"], {"value": 8 * MIB, "source": "config", "config": 8 * MIB})
        self.assertEqual(limits["max_peers"]["source"], "default")


def next_state(sock):
    """The next READY=1 or RELOADING=1 on a notify socket (other lines,
    STATUS= or WATCHDOG=1, are skipped)."""
    while True:
        lines = sock.recv(4096).split(b"\n")
        for state in (b"RELOADING=1", b"READY=1"):
            if state in lines:
                return state.decode()


class ReloadNotify(TransferCase):
    def test_a_reload_is_told_to_systemd(self):
        # systemd's notify socket, played by a datagram socket of our own.
        path = os.path.join(self.sb.dir, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        sock.settimeout(10)
        d = Daemon(self.sb, "n")
        d.env = dict(os.environ, NOTIFY_SOCKET=path)
        self.sb.daemons.append(d)
        d.start()
        self.assertEqual(next_state(sock), "READY=1")
        os.kill(d.pid, signal.SIGHUP)
        self.assertEqual(next_state(sock), "RELOADING=1")
        self.assertEqual(next_state(sock), "READY=1")
        # A refused file is a reload too: it ends, the daemon is ready.
        with open(d.config, "a") as f:
            f.write("bogus = 1\n")
        os.kill(d.pid, signal.SIGHUP)
        self.assertEqual(next_state(sock), "RELOADING=1")
        self.assertEqual(next_state(sock), "READY=1")
        self.assertIn("key 'daemon.bogus': unknown key", d.log())
        d.ok("status")


class TrackerReload(TransferCase):
    def test_a_sighup_before_the_handler_is_dropped_and_reloads_work_after(self):
        # Without take_signals() the pending SIGHUP either stays blocked for
        # good (no reload ever) or, once unblocked, ends the process.
        tracker = self.sb.trackers[0]
        d = self.member("d")
        for p in (tracker, d):
            p.stop()
            p.preexec = hup_pending
            p.start()
        wait_until(lambda: d.alive() and (d.json("status") or {}).get("user") == "d", timeout=30,
                   what=f"gsd to come back logged in\n{d.log()[-2000:]}")
        self.assertTrue(tracker.alive(), tracker.log()[-2000:])
        for p in (tracker, d):
            self.assertIn("1 change(s) applied", self.reload_a_change(p))
            self.assertTrue(p.alive())
        d.ok("create_group", "after-early-hup")

    def reload_a_change(self, p):
        """Changes a key that applies at once in `p`'s config, SIGHUPs it and
        returns its 'config reloaded' line."""
        set_key(p.config, "log_level", '"info"')  # the sandbox's is "debug"
        return hup_and_wait(p, "config reloaded")

    def test_tracker_survives_sighup_and_applies_a_changed_value(self):
        tracker = self.sb.trackers[0]
        d = self.member("alice")
        # A value out of range is refused; the tracker goes on as it was.
        with open(tracker.config) as f:
            good = f.read()
        with open(tracker.config, "w") as f:
            f.write(good + "ticket_ttl_seconds = 5\n")  # below the range (10 to 86400)
        line = hup_and_wait(tracker, "config not reloaded")
        n = len(good.splitlines()) + 1
        self.assertIn(f"{tracker.config}:{n}: key 'tracker.ticket_ttl_seconds'", line)
        self.assertTrue(tracker.alive())
        d.ok("create_group", "g2")

        # The per-address limit goes from 64 to 3: gsd's link is one.
        with open(tracker.config, "w") as f:
            f.write(good + "max_connections_per_address = 3\ncluster_timeout_ms = 3000\n")
        line = hup_and_wait(tracker, "config reloaded")
        self.assertIn("1 change(s) applied, 1 kept until a restart", line)
        self.assertIn("config: tracker.max_connections_per_address 64 -> 3", tracker.log())
        self.assertIn("tracker.cluster_timeout_ms needs a restart, kept 1500", tracker.log())
        live, refused = open_many(tracker.port, 6)
        try:
            self.assertEqual(len(live), 2, tracker.log()[-2000:])
            self.assertEqual(refused, 4)
        finally:
            close_all(live)
        self.assertIn("max_connections_per_address (3)", tracker.log())
        # gsd's session went on through all of it.
        wait_until(lambda: has_room(tracker.port), timeout=5, what="room at the tracker")
        self.assertTrue(tracker.alive())
        self.assertEqual(d.json("status")["user"], "alice")
        d.ok("create_group", "g3")
        self.assertIn("g3", d.ok("list_groups"))


if __name__ == "__main__":
    import unittest
    unittest.main()
