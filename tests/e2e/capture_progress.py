"""Captures, for the README, what `gsctl download_file --wait` shows on a
terminal: a tracker and two daemons in a sandbox (harness.py), a 96 MiB file
sent at 8 MiB/s (the seeder's max_upload_rate), the download run in a
detached tmux window 80 columns wide, and `tmux capture-pane` after a few
seconds. Not a test: run it by hand (needs tmux) and paste what it prints.

usage: GS_BIN_DIR=build python3 tests/e2e/capture_progress.py
"""

import os
import shutil
import subprocess
import sys
import time

from harness import GSCTL_BIN, Sandbox

SIZE = 96 * 1024 * 1024


def main():
    if not shutil.which("tmux"):
        sys.exit("capture_progress: tmux is not installed (apt-get install tmux)")
    sb = Sandbox()
    session = f"gs-capture-{os.getpid()}"
    try:
        sb.start_trackers()
        seeder = sb.daemon("alice", "max_upload_rate = 8388608\n")
        leecher = sb.daemon("bob")
        for d, user in ((seeder, "alice"), (leecher, "bob")):
            d.ok("create_user", user, "pw-secret")
            d.ok("login", user, "pw-secret")
        seeder.ok("create_group", "friends")
        leecher.ok("join_group", "friends")
        seeder.ok("accept_request", "friends", "bob")
        path = os.path.join(sb.dir, "big.iso")
        with open(path, "wb") as f:
            for _ in range(SIZE // (1 << 20)):
                f.write(os.urandom(1 << 20))
        seeder.ok("upload_file", path, "friends")
        dest = os.path.join(sb.dir, "down")
        os.mkdir(dest)
        command = (f"cd {dest} && {GSCTL_BIN} --socket {leecher.socket} "
                   f"download_file friends big.iso . --wait")
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "4",
                        "bash", "--norc", "-c", f"PS1='$ '; echo '$ gsctl download_file friends "
                        f"big.iso . --wait'; {command}; sleep 30"], check=True)
        time.sleep(4)
        shot = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                              capture_output=True, text=True, check=True).stdout
        print(shot.rstrip())
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        sb.close()


if __name__ == "__main__":
    main()
