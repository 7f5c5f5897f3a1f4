"""The control socket belongs to the daemon's user: another local user is
refused, the daemon's own user and root are let in (daemon/control_peer.h).

The suite runs as root; this test starts gsd as `nobody` in a directory of
its own and runs gsctl as `daemon` (uid 1), as `nobody` and as root."""

import os
import pwd
import shutil
import types
import unittest

from harness import Daemon, GsTestCase, wait_until

OWNER = "nobody"  # gsd runs as this user
OTHER = "daemon"  # another local user, not root


class ControlSocketUid(GsTestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root, to start gsd as one user and run gsctl as another")
        for name in (OWNER, OTHER):
            try:
                pwd.getpwnam(name)
            except KeyError:
                self.skipTest(f"no user '{name}' on this machine")
        super().setUp()
        owner = pwd.getpwnam(OWNER)
        # The sandbox is root's (0700): let other users through it, not into it.
        os.chmod(self.sb.dir, 0o711)
        home = os.path.join(self.sb.dir, "owner")
        os.mkdir(home, 0o755)
        os.chown(home, owner.pw_uid, owner.pw_gid)
        trackers = os.path.join(home, "trackers.txt")
        shutil.copyfile(self.sb.trackers_file, trackers)
        self.owner_uid = owner.pw_uid
        self.other_uid = pwd.getpwnam(OTHER).pw_uid
        self.d = Daemon(types.SimpleNamespace(dir=home, trackers_file=trackers), "gsd")
        self.d.user = OWNER
        self.sb.daemons.append(self.d)  # stopped by PID with the sandbox
        self.d.start()

    def refusal_lines(self):
        return [line for line in self.d.log().splitlines() if "control: refusing a connection from uid" in line]

    def test_another_uid_is_refused_its_own_user_and_root_are_not(self):
        d = self.d
        # The daemon's own user.
        r = d.ctl("--json", "status", user=OWNER)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Root, by design: it could read gsd's state and key, or become its
        # user, anyway.
        r = d.ctl("--json", "status")
        self.assertEqual(r.returncode, 0, r.stderr)

        # Another user, with the socket as gsd made it (0600): the kernel
        # refuses the connect, gsd never hears of it.
        self.assertEqual(os.stat(d.socket).st_mode & 0o777, 0o600)
        r = d.ctl("status", user=OTHER)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("no permission to connect", r.stderr)
        self.assertIn("belongs to another user", r.stderr)
        self.assertEqual(self.refusal_lines(), [])

        # The socket opened to everyone by mistake: gsd's own check refuses
        # the other uid, and says why.
        os.chmod(d.socket, 0o666)
        r = d.ctl("status", user=OTHER)
        self.assertEqual(r.returncode, 1, f"{r.returncode}: {r.stdout} {r.stderr}")
        self.assertIn(f"this gsd runs as uid {self.owner_uid}", r.stderr)
        self.assertIn(f"not from uid {self.other_uid}", r.stderr)
        self.assertEqual(r.stdout, "")
        lines = wait_until(self.refusal_lines, timeout=10, what="gsd's log line on the refusal")
        self.assertIn(f"from uid {self.other_uid} (pid ", lines[0])
        # A command that carries a password is refused the same way, and the
        # daemon goes on serving its user.
        r = d.ctl("login", "alice", "pw", user=OTHER)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("not from uid", r.stderr)
        self.assertTrue(d.alive())
        r = d.ctl("status", user=OWNER)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.refusal_lines()), 2)


if __name__ == "__main__":
    unittest.main()
