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

from harness import wait_until
from test_transfer import PIECE, TransferCase, digest, make_file

ROUNDS = 10


def kill_seed():
    """GS_RESTART_SEED=N replays the kill points of a failed run."""
    return int(os.environ.get("GS_RESTART_SEED") or random.randrange(1 << 30))


class Restarts(TransferCase):
    TTL = 4

    def one_round(self, leech, src, out, kill_at, finish_within, what):
        """Starts a download to `out`, kills the leecher once `kill_at` bytes
        are done (or it completed), restarts it and waits for completion."""
        leech.ok("download_file", "g", os.path.basename(src), out)
        name = os.path.basename(src)

        def reached():
            for e in leech.json("show_downloads"):
                if e["dest"] == out and (e["done_bytes"] >= kill_at or e["state"] == "complete"):
                    return True
            return False
        wait_until(reached, timeout=60, interval=0.02, what=f"{what}: {kill_at} bytes done")
        leech.kill9()
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
        wait_until(done, timeout=finish_within, interval=0.1,
                   what=f"{what}: {name} to complete after the restart\n{leech.log()[-3000:]}")
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
        # 8 MiB/s: a round takes about two seconds, and the spreader's
        # offers (a few pieces per connection) are what the leecher sees.
        seeder = self.member("seed", extra_toml="max_upload_rate = 8388608\n")
        size = 32 * PIECE
        src = make_file(os.path.join(self.sb.dir, "capped.bin"), size)
        seeder.ok("upload_file", src, "g")
        leech = self.member("leech", owner=seeder)
        for r in range(ROUNDS):
            out = os.path.join(self.sb.dir, f"capped-{r}.bin")
            kill_at = int(size * rng.uniform(0.85, 1.0))
            # The rest is at most 15 % of the file, under a second at the cap:
            # 30 s is stalled, not slow.
            self.one_round(leech, src, out, kill_at, finish_within=30,
                           what=f"seed {seed} round {r} (kill at {kill_at} of {size})")


if __name__ == "__main__":
    import unittest
    unittest.main()
