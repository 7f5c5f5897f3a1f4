"""gsctl as the original client was used: `gsctl shell` fed the original
commands from a pipe, against two daemons and a tracker; upload_file of a
file that takes longer to hash than gsctl's timeout; the bash completion."""

import json
import os
import socket
import subprocess
import time

from harness import BIN_DIR, GSCTL_BIN, Daemon, GsTestCase

COMPLETION = os.path.join(os.path.dirname(__file__), "..", "..", "completion", "gsctl.bash")


def shell(daemon, script, *options):
    """Runs `gsctl --socket S OPTIONS shell` with `script` on stdin."""
    return subprocess.run([GSCTL_BIN, "--socket", daemon.socket, *options, "shell"],
                          input=script, capture_output=True, text=True, timeout=120)


class Shell(GsTestCase):
    def test_original_commands_from_a_pipe(self):
        a = self.sb.daemon("a")
        b = self.sb.daemon("b")
        r = shell(a, "create_user alice pw-alice\n"
                     "login alice pw-alice\n"
                     "create_group g1\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "created user 'alice'\n"
                                   "logged in as 'alice'\n"
                                   "created group 'g1'; you are its owner\n")
        self.assertEqual(r.stderr, "")

        r = shell(b, "# bob asks to join\n"
                     "\n"
                     "create_user bob \"pw with spaces\"\n"
                     "login bob \"pw with spaces\"\n"
                     "join_group g1\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "created user 'bob'\n"
                                   "logged in as 'bob'\n"
                                   "asked to join 'g1'; the owner must accept\n")

        r = shell(a, "list_requests g1\n"
                     "frobnicate g1\n"
                     "accept_request g1 bob\n"
                     "list_groups\n"
                     "quit\n"
                     "list_groups\n")
        self.assertEqual(r.stdout, "bob\n"
                                   "accepted 'bob' into 'g1'\n"
                                   "GROUP  OWNER  MEMBERS\n"
                                   "g1     alice        2\n")
        # The unknown command is named, the shell went on, and the status
        # is that of the last command that failed (a usage error).
        self.assertIn("gsctl: unknown command 'frobnicate'", r.stderr)
        self.assertEqual(r.returncode, 2)
        # The same words as separate gsctl calls print the same.
        self.assertEqual(b.ok("list_groups"), "GROUP  OWNER  MEMBERS\ng1     alice        2\n")
        # --json given to the shell goes to every command.
        r = shell(b, "list_groups\nstatus\n", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        groups, status = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(groups, [{"group": "g1", "owner": "alice", "members": 2}])
        self.assertEqual(status["user"], "bob")

    def test_failures_and_passwords_in_the_shell(self):
        a = self.sb.daemon("a")
        r = shell(a, "login nobody wrong-pw\nlist_groups\n")
        self.assertEqual(r.returncode, 1)  # the login failed; list_groups ran after it
        self.assertIn("gsctl: ", r.stderr)
        # No terminal to ask on, and stdin carries the commands.
        r = shell(a, "login alice\nlogin alice --password-stdin\nstatus\n")
        self.assertIn("stdin is not a terminal", r.stderr)
        self.assertIn("in the shell, stdin carries the commands", r.stderr)
        self.assertIn("user", r.stdout)  # status still ran, after both
        self.assertEqual(r.returncode, 2)
        r = shell(a, "shell\n")
        self.assertEqual((r.returncode, r.stderr), (2, "gsctl: already in the shell\n"))
        r = shell(a, "help\n")
        self.assertEqual(r.returncode, 0)
        self.assertIn("join_group GROUP", r.stdout)
        self.assertIn("quit, exit or Ctrl-D", r.stdout)

    def test_every_command_with_output_takes_json(self):
        a = self.logged_in("a", "alice")
        a.ok("create_group", "g")
        path = os.path.join(self.sb.dir, "f.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(1000))
        for args in (["status"], ["trackers"], ["list_groups"], ["list_requests", "g"],
                     ["upload_file", path, "g"], ["list_files", "g"], ["show_downloads"]):
            out = a.ok("--json", *args)
            json.loads(out)  # exactly one JSON document
            self.assertEqual(out.count("\n"), 1, args)


class SlowUpload(GsTestCase):
    DELAY_MS = 200  # per piece: 16 pieces on 2 threads hash in about 1.6 s

    def test_upload_outlasting_the_timeout_still_succeeds(self):
        d = Daemon(self.sb, "a")
        d.env = dict(os.environ, GS_TEST_HASH_PIECE_DELAY_MS=str(self.DELAY_MS))
        self.sb.daemons.append(d)
        d.start()
        d.ok("create_user", "alice", "pw-secret")
        d.ok("login", "alice", "pw-secret")
        d.ok("create_group", "g")
        path = os.path.join(self.sb.dir, "big.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(16 * 512 * 1024))

        # Without progress lines, no answer comes within the timeout used
        # below: this is what used to end in exit 3.
        request = {"cmd": "upload_file", "args": {"path": path, "group": "g"}}
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(d.socket)
            s.settimeout(0.8)
            s.sendall(json.dumps(request).encode() + b"\n")
            with self.assertRaises(socket.timeout):
                s.recv(1)
            s.settimeout(30)
            answer = json.loads(s.makefile().readline())
        self.assertTrue(answer["ok"], answer)

        # With them, gsd reports the bytes hashed, growing, then answers.
        os.utime(path)  # hashed again: a new mtime, the same content
        request["progress"] = True
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(d.socket)
            s.sendall(json.dumps(request).encode() + b"\n")
            s.shutdown(socket.SHUT_WR)  # gsd closes once it has answered
            s.settimeout(30)
            lines = [json.loads(line) for line in s.makefile()]
        progress = [line["progress"] for line in lines[:-1]]
        self.assertGreaterEqual(len(progress), 2, lines)
        self.assertTrue(all(p["total"] == 16 * 512 * 1024 for p in progress), progress)
        done = [p["done"] for p in progress]
        self.assertEqual(done, sorted(done))
        self.assertTrue(lines[-1]["ok"], lines[-1])

        # gsctl with a timeout shorter than the hashing: done, exit 0.
        os.utime(path)
        start = time.monotonic()
        r = d.ctl("--timeout", "0.8", "upload_file", path, "g")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreater(time.monotonic() - start, 1.0)
        self.assertIn("shared 'big.bin'", r.stdout)
        self.assertEqual(r.stderr, "")  # no bar when stderr is not a terminal


class Completion(GsTestCase):
    def complete(self, daemon, *words):
        """Calls _gsctl with COMP_WORDS = gsctl --socket S WORDS, the cursor
        on the last word; returns COMPREPLY."""
        comp_words = ["gsctl", "--socket", daemon.socket, *words]
        script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _gsctl; '
                  'printf "%s\\n" "${COMPREPLY[@]}"')
        env = dict(os.environ, PATH=os.path.join(BIN_DIR, "ctl") + os.pathsep + os.environ["PATH"])
        r = subprocess.run(["bash", "-c", script, "bash", COMPLETION, *comp_words],
                           capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [line for line in r.stdout.splitlines() if line]

    def test_commands_groups_and_files_complete(self):
        a = self.logged_in("a", "alice")
        for g in ("alpha", "beta", "other"):
            a.ok("create_group", g)
        path = os.path.join(self.sb.dir, "notes.txt")
        with open(path, "w") as f:
            f.write("hello\n")
        a.ok("upload_file", path, "alpha")

        self.assertEqual(self.complete(a, "jo"), ["join_group"])
        self.assertEqual(sorted(self.complete(a, "list_")),
                         ["list_files", "list_groups", "list_requests"])
        self.assertIn("shell", self.complete(a, ""))
        self.assertEqual(sorted(self.complete(a, "join_group", "")), ["alpha", "beta", "other"])
        self.assertEqual(self.complete(a, "list_files", "a"), ["alpha"])
        self.assertEqual(self.complete(a, "download_file", "alpha", ""), ["notes.txt"])
        self.assertEqual(self.complete(a, "download_file", "--w"), ["--wait"])
        self.assertEqual(self.complete(a, "help", "stop"), ["stop_share"])
        # A daemon that is not logged in: no names, and no error text.
        self.assertEqual(self.complete(self.sb.daemon("idle"), "join_group", ""), [])
