"""Makes release-*.db: state files written by the gsd and gs-tracker of the
commit this is run at, for the tests that open old files with new code.

Runs a real tracker and two real daemons on loopback (tests/e2e/harness.py):
alice shares a.bin in group g; bob joins g, shares b.bin and downloads a.bin
from alice. Then every process is stopped by SIGTERM (so sqlite folds its WAL
into the file) and bob's gsd.db and the tracker's tracker.db are copied out.

  GS_BIN_DIR=build python3 tests/assets/make_release_state.py OUT_DIR
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import harness  # noqa: E402


def main(out_dir):
    sb = harness.Sandbox(trackers=1)
    try:
        sb.start_trackers()
        alice = sb.daemon("alice")
        alice.ok("create_user", "alice", "pw-alice")
        alice.ok("login", "alice", "pw-alice")
        alice.ok("create_group", "g")
        a_src = os.path.join(sb.dir, "a.bin")
        with open(a_src, "wb") as f:
            f.write(bytes(range(256)) * 1200)  # 300 KiB: several pieces
        alice.ok("upload_file", a_src, "g")

        bob = sb.daemon("bob")
        bob.ok("create_user", "bob", "pw-bob")
        bob.ok("login", "bob", "pw-bob")
        bob.ok("join_group", "g")
        alice.ok("accept_request", "g", "bob")
        b_src = os.path.join(sb.dir, "b.bin")
        with open(b_src, "wb") as f:
            f.write(b"bob's file\n" * 100)
        bob.ok("upload_file", b_src, "g")
        bob.ok("download_file", "g", "a.bin", os.path.join(sb.dir, "a-copy.bin"), "--wait")

        for p in sb.daemons + sb.trackers:
            if p.stop() != 0:
                raise AssertionError(f"{p.name} did not exit cleanly:\n{p.log()[-3000:]}")
        for src, name in ((os.path.join(bob.state_dir, "gsd.db"), "release-gsd.db"),
                          (os.path.join(sb.trackers[0].state_dir, "tracker.db"), "release-tracker.db")):
            if os.path.exists(src + "-wal"):
                raise AssertionError(f"{src} still has a WAL file after a clean stop")
            shutil.copyfile(src, os.path.join(out_dir, name))
            print(f"wrote {name} ({os.path.getsize(src)} bytes)")
    finally:
        sb.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
