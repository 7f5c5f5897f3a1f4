"""The replicated tracker cluster with real processes: three gs-tracker
processes of one trackers file, several gsd daemons, and the failures of
docs/replication.md: SIGKILL of the primary under a stream of writes, two of
three killed, restarts that catch up, a primary paused past the timeout, and
all three killed and started again in reverse order.

Each test ends by comparing the running trackers' tables row by row, after
they have caught up with the primary: replicas that agree, and hold every
write a client saw acknowledged.
"""

import os
import signal
import threading
import time

from harness import wait_until
from test_transfer import PIECE, TransferCase, digest, make_file


class Writer:
    """A stream of create_group writes from one daemon, in a thread: which
    were acknowledged, which failed and how, and when each ended."""

    def __init__(self, daemon, prefix):
        self.daemon = daemon
        self.prefix = prefix
        self.acked = []     # (name, time acknowledged)
        self.failed = []    # (name, exit code, stderr)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        n = 0
        deadline = time.monotonic() + 120
        while not self.stop.is_set() and time.monotonic() < deadline:
            name = f"{self.prefix}{n}"
            n += 1
            r = self.daemon.ctl("create_group", name, timeout=30)
            if r.returncode == 0:
                self.acked.append((name, time.monotonic()))
            else:
                self.failed.append((name, r.returncode, r.stderr.strip()))
                time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the writer did not stop"

    def names(self):
        return [n for n, _ in self.acked]


class ClusterCase(TransferCase):
    TRACKERS = 3
    TTL = 4

    def tracker(self, i):
        return self.sb.trackers[i - 1]

    def status(self, t):
        return t.cluster()

    def wait_caught_up(self, trackers, timeout=30):
        """Every tracker of `trackers` runs, follows the one primary among
        them, is in its in-sync set and has its log up to the last entry."""
        def caught_up():
            states = [self.status(t) for t in trackers]
            if any(s is None for s in states):
                return False
            primaries = [s for s in states if s["role"] == "primary"]
            if len(primaries) != 1:
                return False
            p = primaries[0]
            return all(s["last"] == p["last"] and s["epoch"] == p["epoch"] for s in states) and \
                sorted(p["isr"]) == sorted(t.index for t in trackers) and p["commit"] == p["last"]
        wait_until(caught_up, timeout=timeout, interval=0.1,
                   what="the trackers to catch up: " + repr([self.status(t) for t in trackers]))

    def assert_same_rows(self, trackers):
        self.wait_caught_up(trackers)
        rows = [t.rows() for t in trackers]
        for t, r in zip(trackers[1:], rows[1:]):
            for table in rows[0]:
                self.assertEqual(r.get(table), rows[0][table],
                                 f"table {table}: tracker {t.index} differs from tracker {trackers[0].index}")
            self.assertEqual(sorted(r), sorted(rows[0]))
        return rows[0]

    def groups_on(self, t):
        return {row[0] for row in t.rows()["groups"]}

    def assert_writes_kept(self, writer, trackers):
        failures = [f for f in writer.failed if "exists" in f[2]]
        self.assertEqual(failures, [], "a write was applied twice (its retry found it done)")
        for t in trackers:
            missing = set(writer.names()) - self.groups_on(t)
            self.assertEqual(missing, set(), f"acknowledged writes missing on tracker {t.index}")



class Cluster(ClusterCase):
    def test_sigkill_of_the_primary_under_writes_loses_nothing(self):
        primary = self.sb.wait_primary()
        owner = self.member("alice")
        seeder = self.member("carol", owner=owner, extra_toml="max_upload_rate = 4194304\n")
        leech = self.member("bob", owner=owner)
        size = 24 * PIECE
        src = make_file(os.path.join(self.sb.dir, "f.bin"), size)
        seeder.ok("upload_file", src, "g")
        out = os.path.join(self.sb.dir, "f-copy.bin")
        # At 4 MiB/s the download spans the failover.
        leech.ok("download_file", "g", "f.bin", out)

        with Writer(owner, "w") as writer:
            wait_until(lambda: len(writer.acked) >= 5, timeout=30, what="writes before the kill")
            killed_at = time.monotonic()
            primary.kill9()
            wait_until(lambda: any(t > killed_at for _, t in writer.acked), timeout=30,
                       what="a write acknowledged after the kill")
            after = min(t for _, t in writer.acked if t > killed_at) - killed_at
            time.sleep(1.0)
        self.assertLess(after, 10.0, "clients wrote again within a few seconds")
        survivors = [t for t in self.sb.trackers if t is not primary]
        new_primary = self.sb.wait_primary(among=survivors)
        self.assertIsNot(new_primary, primary)
        self.assertIn("cluster: primary of", new_primary.log())

        e = self.wait_complete(leech, "f.bin", timeout=60)
        self.assertEqual(e["state"], "complete")
        self.assertEqual(digest(out), digest(src))

        self.assert_same_rows(survivors)
        self.assert_writes_kept(writer, survivors)
        # And the daemons see it all through the new primary.
        listed = {g["group"] for g in owner.json("list_groups")}
        self.assertLessEqual(set(writer.names()), listed)

    def test_two_of_three_killed_then_restarted_catch_up_and_serve(self):
        owner = self.member("alice")
        with Writer(owner, "a") as writer:
            wait_until(lambda: len(writer.acked) >= 3, timeout=30, what="first writes")
        first = self.sb.wait_primary()
        others = [t for t in self.sb.trackers if t is not first]
        # Kill the primary and one backup: the last one serves alone.
        first.kill9()
        others[0].kill9()
        last = others[1]
        self.sb.wait_primary(among=[last])
        with Writer(owner, "b") as alone:
            wait_until(lambda: len(alone.acked) >= 5, timeout=30, what="writes to the last tracker")
        self.assertIn("b0", {g["group"] for g in owner.json("list_groups")})
        self.assert_writes_kept(writer, [last])
        self.assert_writes_kept(alone, [last])

        # The killed ones come back and catch up, with what was written
        # while they were down.
        first.start()
        others[0].start()
        self.assert_same_rows(self.sb.trackers)
        for t in self.sb.trackers:
            self.assert_writes_kept(alone, [t])

        # Now the one that stayed goes: the restarted ones serve.
        last.kill9()
        back = [first, others[0]]
        self.sb.wait_primary(among=back)
        with Writer(owner, "c") as again:
            wait_until(lambda: len(again.acked) >= 3, timeout=30, what="writes after the survivor died")
        self.assert_same_rows(back)
        for w in (writer, alone, again):
            self.assert_writes_kept(w, back)

    def test_a_paused_primary_steps_down_and_loses_nothing(self):
        owner = self.member("alice")
        with Writer(owner, "a") as before:
            wait_until(lambda: len(before.acked) >= 3, timeout=30, what="first writes")
        stale = self.sb.wait_primary()
        os.kill(stale.pid, signal.SIGSTOP)
        try:
            others = [t for t in self.sb.trackers if t is not stale]
            taken_over = self.sb.wait_primary(among=others, timeout=30)
            with Writer(owner, "b") as during:
                wait_until(lambda: len(during.acked) >= 3, timeout=30, what="writes while paused")
        finally:
            os.kill(stale.pid, signal.SIGCONT)
        # It comes back, finds out, and follows the new primary.
        wait_until(lambda: (self.status(stale) or {}).get("role") == "backup", timeout=20,
                   what="the paused primary to step down and follow")
        self.assertEqual(self.sb.primary(), taken_over)
        self.assertRegex(stale.log(), r"cluster: (paused|stepped down)")
        rows = self.assert_same_rows(self.sb.trackers)
        self.assertTrue(rows["groups"])
        for w in (before, during):
            self.assert_writes_kept(w, self.sb.trackers)

    def test_all_killed_then_started_in_reverse_order(self):
        owner = self.member("alice")
        with Writer(owner, "a") as writer:
            wait_until(lambda: len(writer.acked) >= 3, timeout=30, what="first writes")
        t1, t2, t3 = self.sb.trackers
        primary = self.sb.wait_primary()
        # Tracker 3 goes first (or 2, when 3 is the primary): the others go
        # on without it, and it misses the writes that follow.
        early = t3 if primary is not t3 else t2
        early.kill9()
        with Writer(owner, "b") as later:
            wait_until(lambda: len(later.acked) >= 3, timeout=30, what="writes without it")
        for t in self.sb.trackers:
            t.kill9()

        # Started in reverse order, one at a time: the first ones up must not
        # serve (tracker `early` was not in the last in-sync set; the next is
        # waiting for the member it cannot see).
        order = [t3, t2, t1]
        for i, t in enumerate(order[:-1]):
            t.start()
            time.sleep(3.0)
            for up in order[:i + 1]:
                s = self.status(up)
                self.assertIsNotNone(s, f"tracker {up.index} does not answer")
                self.assertNotEqual(s["role"], "primary",
                                    f"tracker {up.index} serves before the cluster is whole: {s}")
        order[-1].start()
        self.sb.wait_primary(timeout=30)
        self.assert_same_rows(self.sb.trackers)
        for w in (writer, later):
            self.assert_writes_kept(w, self.sb.trackers)
        listed = {g["group"] for g in owner.json("list_groups")}
        self.assertLessEqual(set(later.names()), listed)


class Snapshots(ClusterCase):
    # Trackers keep 20 log entries: one that misses more catches up from a
    # copy of the primary's whole state file.
    TRACKER_TOML = "replica_log_keep = 20\n"

    def test_a_tracker_too_far_behind_gets_the_whole_state_and_can_serve(self):
        owner = self.member("alice")
        primary = self.sb.wait_primary()
        behind = next(t for t in self.sb.trackers if t is not primary)
        behind.kill9()
        with Writer(owner, "a") as writer:
            wait_until(lambda: len(writer.acked) >= 45, timeout=60, what="writes while it is down")
        behind.start()
        self.assert_same_rows(self.sb.trackers)
        self.assertIn("cluster: installed a snapshot", behind.log())
        self.assert_writes_kept(writer, [behind])
        # It serves from that copy once the others are gone, and writes on.
        for t in self.sb.trackers:
            if t is not behind:
                t.kill9()
        # Alone of the last in-sync set it cannot know the others are gone
        # for good (they may hold newer writes): the operator forces it.
        behind.stop()
        behind.argv.append("--force-primary")
        behind.start()
        self.sb.wait_primary(among=[behind])
        self.assertIn("--force-primary", behind.log())
        with Writer(owner, "b") as more:
            wait_until(lambda: len(more.acked) >= 3, timeout=30, what="writes on the forced primary")
        self.assert_writes_kept(writer, [behind])
        self.assert_writes_kept(more, [behind])


if __name__ == "__main__":
    import unittest
    unittest.main()
