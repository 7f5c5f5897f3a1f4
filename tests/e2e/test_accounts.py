"""Accounts and sessions end to end: real tracker, two or more daemons, gsctl."""

import os
import pty
import select
import subprocess
import time
import unittest

from harness import GSCTL_BIN, GsTestCase, run_gsctl, wait_until


class Accounts(GsTestCase):
    def test_create_login_logout(self):
        a = self.sb.daemon("a")
        self.assertIn("alice", a.ok("create_user", "alice", "pw1"))
        self.assertIn("alice", a.ok("login", "alice", "pw1"))
        status = a.json("status")
        self.assertEqual(status["user"], "alice")
        a.ok("logout")
        self.assertIsNone(a.json("status")["user"])
        self.assertRefused(a.ctl("create_group", "g"), "not logged in")

    def test_refusals(self):
        a = self.sb.daemon("a")
        a.ok("create_user", "alice", "pw1")
        self.assertRefused(a.ctl("create_user", "alice", "other"), "already exists")
        self.assertRefused(a.ctl("login", "alice", "wrong"), "wrong password")
        self.assertRefused(a.ctl("login", "nobody", "pw"), "no such user")
        self.assertRefused(a.ctl("list_groups"), "not logged in")
        a.ok("login", "alice", "pw1")
        a.ok("create_user", "bob", "pw2")
        self.assertRefused(a.ctl("login", "bob", "pw2"), "already logged in")

    def test_one_session_per_user_across_daemons(self):
        a = self.logged_in("a", "alice")
        b = self.sb.daemon("b")
        self.assertRefused(b.ctl("login", "alice", "pw-secret"), "logged in on another daemon")
        a.ok("logout")
        b.ok("login", "alice", "pw-secret")
        self.assertEqual(b.json("status")["user"], "alice")
        self.assertRefused(a.ctl("login", "alice", "pw-secret"), "logged in on another daemon")

    def test_dead_daemon_session_ends_after_heartbeats_stop(self):
        a = self.logged_in("a", "alice")
        b = self.sb.daemon("b")
        self.assertRefused(b.ctl("login", "alice", "pw-secret"), "another daemon")
        a.kill9()
        # The tracker TTL is 3 s in the sandbox; allow a generous bound.
        wait_until(lambda: b.ctl("login", "alice", "pw-secret").returncode == 0, timeout=15,
                   interval=0.5, what="the dead daemon's session to expire")
        self.assertEqual(b.json("status")["user"], "alice")

    def test_daemon_restart_restores_session(self):
        a = self.logged_in("a", "alice")
        self.assertEqual(a.stop(), 0)
        a.start()
        wait_until(lambda: a.json("status")["user"] == "alice", what="session restored")
        a.ok("create_group", "after-restart")
        self.assertIn("after-restart", a.ok("list_groups"))

    def test_password_from_stdin_and_never_stored_or_logged(self):
        a = self.sb.daemon("a")
        secret = "s3cr3t-Pa55word-xyzzy"
        a.ok("create_user", "--password-stdin", "alice", stdin=secret + "\n")
        self.assertRefused(a.ctl("login", "--password-stdin", "alice", stdin="nope\n"),
                           "wrong password")
        a.ok("login", "--password-stdin", "alice", stdin=secret + "\n")
        a.stop()
        self.sb.trackers[0].stop()
        for root, _, files in os.walk(self.sb.dir):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNotIn(secret.encode(), f.read(), f"password found in {name}")

    def test_password_prompt_without_echo(self):
        a = self.sb.daemon("a")
        a.ok("create_user", "alice", "typed-secret")
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(GSCTL_BIN, [GSCTL_BIN, "--socket", a.socket, "login", "alice"])
        out = b""
        deadline = time.monotonic() + 15
        sent = False
        status = None
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                out += chunk
            if not sent and b"assword" in out:
                os.write(fd, b"typed-secret\n")
                sent = True
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        if status is None or not os.WIFEXITED(status):
            _, status = os.waitpid(pid, 0)
        os.close(fd)
        self.assertTrue(sent, f"no password prompt seen: {out!r}")
        self.assertNotIn(b"typed-secret", out, "password was echoed")
        self.assertEqual(os.WEXITSTATUS(status), 0, out)
        self.assertEqual(a.json("status")["user"], "alice")


class ExitCodes(GsTestCase):
    def test_usage_errors_exit_2(self):
        a = self.sb.daemon("a")
        for args in (["no_such_command"], ["create_group"], ["accept_request", "g"],
                     ["create_group", "bad name"], ["--bogus-option", "list_groups"], []):
            r = a.ctl(*args)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stderr}")
            self.assertTrue(r.stderr.strip(), args)

    def test_daemon_unreachable_exits_3(self):
        r = run_gsctl(["--socket", os.path.join(self.sb.dir, "none.sock"), "list_groups"])
        self.assertEqual(r.returncode, 3)
        self.assertIn("none.sock", r.stderr)
        env = dict(os.environ, GSD_SOCKET=os.path.join(self.sb.dir, "env.sock"))
        r = subprocess.run([GSCTL_BIN, "list_groups"], capture_output=True, text=True,
                           env=env, timeout=20)
        self.assertEqual(r.returncode, 3)
        self.assertIn("env.sock", r.stderr)

    def test_help_lists_every_command(self):
        r = run_gsctl(["--help"])
        self.assertEqual(r.returncode, 0)
        for cmd in ("create_user", "login", "logout", "create_group", "join_group", "leave_group",
                    "list_requests", "accept_request", "reject_request", "list_groups"):
            self.assertIn(cmd, r.stdout)


if __name__ == "__main__":
    unittest.main()
