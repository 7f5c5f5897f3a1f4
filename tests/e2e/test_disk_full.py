"""A download onto a disk that fills up: it pauses with the reason and the
room it needs, keeps what it verified, answers `gsctl resume` and survives a
restart of gsd while paused, and resumes by itself once room is made, ending
byte-identical with the source. And a disk that reports a write error (the
test hook GS_TEST_WRITE_ERRORS): the download pauses with that reason and
goes on by itself once writes succeed again.

The small disk is a tmpfs mounted in the sandbox, so these tests need root
(CI runs them as root); elsewhere they are skipped with the reason.
"""

import os
import re
import subprocess
import time

from harness import wait_until
from test_transfer import TransferCase, digest, make_file

MIB = 1024 * 1024


class DiskFull(TransferCase):
    def small_disk(self, size_mib):
        """A tmpfs of `size_mib` MiB in the sandbox, unmounted at cleanup
        (after every daemon of the sandbox is stopped: one may hold a file
        open there)."""
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs needs root")
        path = os.path.join(self.sb.dir, "small")
        os.mkdir(path)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0755", "tmpfs", path],
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs: {r.stderr.strip() or r.returncode}")
        self.addCleanup(self.unmount, path)
        return path

    def unmount(self, path):
        for d in self.sb.daemons:
            d.stop()
        r = subprocess.run(["umount", path], capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            # Never leave a mount behind a test: detach it at least.
            subprocess.run(["umount", "-l", path], capture_output=True, timeout=30,
                           stdin=subprocess.DEVNULL)

    def paused_on_disk(self, d, name):
        """The download's entry once it is paused by its full disk, with the
        room it needs in its reason; None before."""
        e = self.download(d, name)
        if e and e["state"] == "failed":
            raise AssertionError(f"download failed: {e}\n{d.log()[-3000:]}")
        if e and e["state"] == "paused" and e.get("disk_trouble") == "no_space" and "more)" in (e["error"] or ""):
            return e
        return None

    def test_full_disk_pauses_and_resumes_with_identical_bytes(self):
        small = self.small_disk(64)
        seeder = self.member("seed")
        src = make_file(os.path.join(self.sb.dir, "big.bin"), 40 * MIB)
        seeder.ok("upload_file", src, "g")
        leech = self.member("leech", owner=seeder)

        # The seeder steps away while the download is queued (the tracker
        # still lists the file; gsd refuses a download that does not fit at
        # that moment), and the filler takes 40 of the 64 MiB before any
        # byte arrives: 24 MiB of room for 40.
        seeder.ok("logout")
        out = os.path.join(small, "big.bin")
        leech.ok("download_file", "g", "big.bin", out)
        filler = make_file(os.path.join(small, "filler"), 40 * MIB, seed=2)
        seeder.ok("login", "seed", "pw")

        e = wait_until(lambda: self.paused_on_disk(leech, "big.bin"), timeout=60, interval=0.2,
                       what=f"the download to pause on the full disk\n{leech.log()[-3000:]}")
        self.assertRegex(e["error"], r"^no space left in " + re.escape(small) + r" \(needs \d+\.\d [KM]iB more\)$")
        self.assertEqual(e["peers"], 0, "a paused download keeps no peers")
        done = e["done_bytes"]
        self.assertGreater(done, 0)
        self.assertLessEqual(done, 24 * MIB)
        text = leech.ok("show_downloads")
        self.assertIn("[P] [g] big.bin", text)
        self.assertIn(f"paused: no space left in {small} (needs ", text)

        # gsd is well and answers everything else.
        self.assertTrue(leech.alive())
        self.assertEqual(leech.json("status")["user"], "leech")
        self.assertIn("big.bin", leech.ok("list_files", "g"))

        # resume tries at once: still full, so it pauses again.
        r = leech.ctl("resume", "g", "big.bin")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^(resumed 'big.bin' from 'g'|'big.bin' from 'g' is still paused: no space)")
        wait_until(lambda: "download of big.bin in g: trying the disk again (gsctl resume)" in leech.log(),
                   what="the attempt of gsctl resume")
        e = wait_until(lambda: self.paused_on_disk(leech, "big.bin"), timeout=30, interval=0.2,
                       what="the download to pause again")
        self.assertGreaterEqual(e["done_bytes"], done)
        done = e["done_bytes"]
        self.assertRefused(leech.ctl("resume", "g", "nothing.bin"), "no download of 'nothing.bin' in 'g'")

        # A restart while paused: still paused, for the same reason, with
        # what it had; the session coming back does not restart it.
        leech.stop()
        leech.start()
        e = self.paused_on_disk(leech, "big.bin")
        self.assertIsNotNone(e, f"not paused after the restart: {self.download(leech, 'big.bin')}")
        self.assertGreaterEqual(e["done_bytes"], done)
        wait_until(lambda: leech.json("status").get("user") == "leech", what="the leecher's session to resume")
        time.sleep(2)
        self.assertIsNotNone(self.paused_on_disk(leech, "big.bin"),
                             f"restarted while the disk is full: {self.download(leech, 'big.bin')}")

        # Room made: it goes on by itself and ends identical.
        os.remove(filler)
        self.wait_complete(leech, "big.bin", timeout=90)
        self.assertEqual(digest(out), digest(src))
        self.assertFalse(os.path.exists(out + ".gs-part"), "partial file left behind")
        entry = self.download(leech, "big.bin")
        self.assertIsNone(entry["error"])
        self.assertIsNone(entry["disk_trouble"])
        self.assertIn("trying the disk again (by itself)", leech.log())
        self.assertTrue(leech.alive())

    def test_write_error_pauses_and_the_download_goes_on_by_itself(self):
        # No root needed: the failing device is the test hook's (the first N
        # piece writes of the leecher fail with EIO).
        seeder = self.member("seed")
        src = make_file(os.path.join(self.sb.dir, "w.bin"), 8 * MIB)
        seeder.ok("upload_file", src, "g")
        leech = self.member("leech", owner=seeder)
        leech.stop()
        leech.env = dict(os.environ, GS_TEST_WRITE_ERRORS="3")
        leech.start()
        wait_until(lambda: leech.json("status").get("user") == "leech", what="the leecher's session to resume")

        out = os.path.join(self.sb.dir, "w.out")
        leech.ok("download_file", "g", "w.bin", out)

        def paused():
            e = self.download(leech, "w.bin")
            if e and e["state"] == "paused" and e.get("disk_trouble") == "write_error":
                return e
            if e and e["state"] == "complete" and "GS_TEST_WRITE_ERRORS=3 is active" not in leech.log():
                self.skipTest("gsd built without GS_TEST_HOOKS (no write failed)")
            self.assertNotEqual(e and e["state"], "failed", f"download failed: {e}\n{leech.log()[-3000:]}")
            return None

        e = wait_until(paused, timeout=30, interval=0.05, what=f"the download to pause on the write error\n{leech.log()[-3000:]}")
        self.assertEqual(e["error"], f"write error in {self.sb.dir}: cannot write the partial file: Input/output error")
        self.assertIn(f"paused: write error in {self.sb.dir}: cannot write the partial file: Input/output error",
                      leech.ok("show_downloads"))
        self.assertTrue(leech.alive())

        # The device works again after three failed writes: the download
        # tries again on its timer (5 s, doubling), without gsctl resume,
        # and ends identical.
        self.wait_complete(leech, "w.bin", timeout=120)
        self.assertEqual(digest(out), digest(src))
        entry = self.download(leech, "w.bin")
        self.assertIsNone(entry["error"])
        self.assertIsNone(entry["disk_trouble"])
        self.assertIn("trying the disk again (by itself)", leech.log())
        self.assertNotIn("trying the disk again (gsctl resume)", leech.log())


if __name__ == "__main__":
    import unittest
    unittest.main()
