"""Downloads that always finish: a leecher killed with SIGKILL again and again,
at the moments that used to go wrong, and restarted each time.

- Near completion against fast seeders: the kill often lands while the last
  pieces are written, renamed or committed.
- Late in the download against one upload-capped seeder, whose piece
  spreader hands out a few pieces per connection: the restarted leecher must
  still get every piece it lacks (it used to stall for good).

Every round must end complete, byte-identical, with nothing left behind, in
bounded time. Kill points come from a seeded generator; the seed is in the
failure message (replay: GS_RESTART_SEED=N).
"""

import os
import random
import time

from harness import wait_until
from test_transfer import PIECE, TransferCase, digest, make_file

ROUNDS = 10


def kill_seed():
    """GS_RESTART_SEED=N replays the kill points of a failed run."""
    return int(os.environ.get("GS_RESTART_SEED") or random.randrange(1 << 30))


class Restarts(TransferCase):
    TTL = 4

    def one_round(self, leech, src, out, kill_at, finish_within, what, down_for=0.0):
        """Starts a download to `out`, kills the leecher once `kill_at` bytes
        are done (or it completed), restarts it `down_for` seconds later and
        waits for completion."""
        leech.ok("download_file", "g", os.path.basename(src), out)
        name = os.path.basename(src)

        def reached():
            for e in leech.json("show_downloads"):
                if e["dest"] == out and (e["done_bytes"] >= kill_at or e["state"] == "complete"):
                    return True
            return False
        try:
            wait_until(reached, timeout=60, interval=0.02, what=f"{what}: {kill_at} bytes done")
        except AssertionError as e:
            # Seen twice under load (a fresh download against the capped
            # seeder not reaching the kill point): keep what explains it.
            state = leech.json("show_downloads")
            raise AssertionError(f"{e}\nshow_downloads: {state}\n--- leecher log tail:\n"
                                 f"{leech.log()[-4000:]}") from None
        leech.kill9()
        time.sleep(down_for)
        leech.start()

        def done():
            for e in leech.json("show_downloads"):
                if e["dest"] != out:
                    continue
                if e["state"] == "failed":
                    raise AssertionError(f"{what}: failed: {e['error']}\n{leech.log()[-3000:]}")
                if e["state"] == "complete":
                    return e
            return None
        try:
            wait_until(done, timeout=finish_within, interval=0.1,
                       what=f"{what}: {name} to complete after the restart")
        except AssertionError as e:
            # The state and the log at the time out, not at the restart.
            raise AssertionError(f"{e}\nshow_downloads: {leech.json('show_downloads')}\n"
                                 f"--- leecher log tail:\n{leech.log()[-4000:]}") from None
        self.assertEqual(digest(out), digest(src), what)
        self.assertFalse(os.path.exists(out + ".gs-part"), f"{what}: partial file left behind")
        self.assertNotIn("appeared while downloading", leech.log(), what)

    def test_killed_near_completion_against_three_seeders(self):
        seed = kill_seed()
        rng = random.Random(seed)
        owner = self.member("s1")
        seeders = [owner] + [self.member(f"s{i}", owner=owner) for i in (2, 3)]
        size = 48 * PIECE + 4321
        src = make_file(os.path.join(self.sb.dir, "big.bin"), size)
        for s in seeders:
            s.ok("upload_file", src, "g")
        leech = self.member("leech", owner=owner)
        for r in range(ROUNDS):
            out = os.path.join(self.sb.dir, f"big-{r}.bin")
            kill_at = int(size * rng.uniform(0.3, 1.0))
            self.one_round(leech, src, out, kill_at, finish_within=60,
                           what=f"seed {seed} round {r} (kill at {kill_at} of {size})")

    def test_restarted_late_against_a_capped_seeder(self):
        seed = kill_seed()
        rng = random.Random(seed)
        # The reported setup at half the size: 40 MiB/s, 96 pieces. The
        # seeder forgets a file's spreading round about a second after its
        # last link closes, so a leecher that stays down longer comes back
        # to a fresh round as a newcomer holding most of the file: that is
        # when it used to be offered a few pieces per idle second (a minute
        # or more to finish).
        seeder = self.member("seed", extra_toml="max_upload_rate = 41943040\n")
        size = 96 * PIECE
        src = make_file(os.path.join(self.sb.dir, "capped.bin"), size)
        seeder.ok("upload_file", src, "g")
        leech = self.member("leech", owner=seeder)
        for r in range(ROUNDS):
            out = os.path.join(self.sb.dir, f"capped-{r}.bin")
            kill_at = int(size * rng.uniform(0.85, 1.0))
            down_for = rng.choice([0.0, 1.5, 2.5, 3.0])
            # The rest is at most 15 % of the file, a fraction of a second at
            # the cap: 10 s is stalled, not slow.
            self.one_round(leech, src, out, kill_at, finish_within=10, down_for=down_for,
                           what=f"seed {seed} round {r} (kill at {kill_at} of {size}, down {down_for} s)")

if __name__ == "__main__":
    import unittest
    unittest.main()
