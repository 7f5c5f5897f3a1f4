"""A download killed at every named step of its life, then restarted.

The steps are listed in daemon/download_steps.h; gsd built with
GS_TEST_HOOKS kills itself with SIGKILL at the step GS_TEST_CRASH_AT names
(lib/crash_point.h). For every step the restarted daemon must end with the
download complete, the file byte-identical under its final name, no
.gs-part left behind, and the file shared from its new home. A step added
to the header without a test here fails test_every_step_has_a_case.
"""

import os
import re

from harness import wait_until
from test_transfer import PIECE, TransferCase, digest, make_file

STEPS_HEADER = os.path.join(os.path.dirname(__file__), "..", "..", "daemon", "download_steps.h")
# Capped so that the download lasts a few seconds: there is time to log
# out or stop the share while it runs.
CAP = "max_upload_rate = 3145728\n"


def download_steps():
    with open(STEPS_HEADER) as f:
        return re.findall(r'\{DownloadStep::(\w+), "\w+"\}', f.read())


class CrashPoints(TransferCase):
    TTL = 4

    def crash_and_finish(self, step, trigger=None, before_restart=None, after_restart=None):
        seeder = self.member("seed", extra_toml=CAP)
        src = make_file(os.path.join(self.sb.dir, "c.bin"), 12 * PIECE + 777)
        seeder.ok("upload_file", src, "g")
        leech = self.member("leech", owner=seeder)
        # Armed for this run only: restarted with the hook, the session is
        # resumed from the state directory.
        leech.stop()
        leech.env = dict(os.environ, GS_TEST_CRASH_AT=step)
        leech.start()
        out_dir = os.path.join(self.sb.dir, "out")
        os.mkdir(out_dir)
        out = os.path.join(out_dir, "c.bin")
        leech.ok("download_file", "g", "c.bin", out_dir)
        if trigger:
            trigger(seeder, leech)
        wait_until(lambda: not leech.alive(), timeout=60, interval=0.05, what=f"gsd to die at {step}")
        self.assertEqual(leech.proc.returncode, -9, leech.log()[-2000:])
        self.assertIn("crash point reached", leech.log())

        if before_restart:
            before_restart(seeder, leech)
        leech.env = None
        leech.start()
        if after_restart:
            after_restart(seeder, leech)
        entry = self.wait_complete(leech, "c.bin", timeout=90)
        self.assertEqual(entry["done_bytes"], os.path.getsize(src))
        self.assertEqual(digest(out), digest(src))
        self.assertEqual(sorted(os.listdir(out_dir)), ["c.bin"], "something left behind")
        self.assertNotIn("appeared while downloading", leech.log())
        # Shared from its new home: the tracker lists both daemons.
        wait_until(lambda: seeder.json("list_files", "g")[0]["peers"] == 2, timeout=20, interval=0.2,
                   what="the finished download to be shared")
        return leech

    def wait_progress(self, leech):
        wait_until(lambda: (self.download(leech, "c.bin") or {}).get("done_bytes", 0) > 0,
                   timeout=60, interval=0.05, what="some progress")

    def test_every_step_has_a_case(self):
        steps = download_steps()
        self.assertGreaterEqual(len(steps), 10, STEPS_HEADER)
        missing = [s for s in steps if not hasattr(self, f"test_crash_at_{s}")]
        self.assertEqual(missing, [], "steps in download_steps.h without a crash test")

    def test_crash_at_piece_written(self):
        self.crash_and_finish("piece_written@3")

    def test_crash_at_progress_synced(self):
        self.crash_and_finish("progress_synced@2")

    def test_crash_at_progress_saved(self):
        self.crash_and_finish("progress_saved@2")

    def test_crash_at_pause_synced(self):
        def logout(seeder, leech):
            self.wait_progress(leech)
            leech.ctl("logout")  # gsd dies while answering: no exit code to check

        self.crash_and_finish("pause_synced", trigger=logout,
                              after_restart=lambda seeder, leech: leech.ok("login", "leech", "pw"))

    def test_crash_at_fail_synced(self):
        # The only seeder stops sharing: the leecher's next peer refresh
        # hears no_such_file and the download fails. Shared again before the
        # restart, the download (its failure never recorded) goes on.
        src = os.path.join(self.sb.dir, "c.bin")

        def stop_share(seeder, leech):
            self.wait_progress(leech)
            seeder.ok("stop_share", "g", "c.bin")

        self.crash_and_finish("fail_synced", trigger=stop_share,
                              before_restart=lambda seeder, leech: seeder.ok("upload_file", src, "g"))

    def test_crash_at_final_synced(self):
        self.crash_and_finish("final_synced")

    def test_crash_at_renamed(self):
        leech = self.crash_and_finish("renamed")
        self.assertIn("already holds the whole file", leech.log())

    def test_crash_at_rename_durable(self):
        leech = self.crash_and_finish("rename_durable")
        self.assertIn("already holds the whole file", leech.log())

    def test_crash_at_share_kept(self):
        leech = self.crash_and_finish("share_kept")
        self.assertIn("already holds the whole file", leech.log())

    def test_crash_at_complete_saved(self):
        self.crash_and_finish("complete_saved")


class DestinationTaken(TransferCase):
    def test_someone_elses_file_at_the_destination_is_refused(self):
        # Same size, different bytes, put there while the download runs:
        # not ours, so never overwritten and never taken for ours.
        seeder = self.member("seed", extra_toml=CAP)
        src = make_file(os.path.join(self.sb.dir, "c.bin"), 12 * PIECE)
        seeder.ok("upload_file", src, "g")
        leech = self.member("leech", owner=seeder)
        out = os.path.join(self.sb.dir, "taken.bin")
        leech.ok("download_file", "g", "c.bin", out)
        make_file(out, 12 * PIECE, seed=2)
        theirs = digest(out)

        def failed():
            e = self.download(leech, "c.bin")
            return e if e and e["state"] == "failed" else None
        entry = wait_until(failed, timeout=60, interval=0.2, what="the download to be refused")
        self.assertIn("appeared while downloading", entry["error"])
        self.assertEqual(digest(out), theirs)


if __name__ == "__main__":
    import unittest
    unittest.main()
