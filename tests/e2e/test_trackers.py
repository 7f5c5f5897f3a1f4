"""gsctl trackers with real trackers: one row per tracker of the file, the
daemon's link marked, a tracker that is down or silent costs its own row at
most 2 s and never holds up the daemon, and the link moving to another
tracker is logged in one line."""

import socket
import threading
import time
import unittest

from harness import GsTestCase, wait_until


class Trackers(GsTestCase):
    TRACKERS = 2

    def rows(self, d):
        rows = d.json("trackers")
        self.assertEqual([r["index"] for r in rows], [1, 2])
        return rows

    def link_of(self, rows):
        linked = [r["index"] for r in rows if r["link"]]
        self.assertLessEqual(len(linked), 1, rows)
        return linked[0] if linked else None

    def test_rows_and_the_link_moving(self):
        d = self.sb.daemon("alice")
        wait_until(lambda: self.link_of(self.rows(d)) is not None, what="a tracker link")
        rows = self.rows(d)
        for r, t in zip(rows, self.sb.trackers):
            self.assertEqual(r["address"], f"127.0.0.1:{t.port}")
            self.assertTrue(r["reachable"], r)
            self.assertIsNone(r["error"], r)
        first = self.link_of(rows)
        self.assertEqual(rows[first - 1]["role"], "primary", rows)
        text = d.ok("trackers")
        self.assertIn("TRACKER", text)
        self.assertIn("* this daemon's tracker link", text)

        # The tracker of the link goes away: its row says so, and the link
        # moves to the other one, with one line in the log.
        gone = self.sb.trackers[first - 1]
        other = 3 - first
        gone.stop()
        wait_until(lambda: self.link_of(self.rows(d)) == other, timeout=20, what="the link to move")
        rows = self.rows(d)
        self.assertFalse(rows[first - 1]["reachable"], rows)
        self.assertTrue(rows[first - 1]["error"], rows)
        self.assertIn("unreachable: ", d.ok("trackers"))
        wait_until(lambda: f"tracker link: now tracker {other} (primary" in d.log(),
                   what="the log line of the move")
        self.assertIn(f"; tracker {first}: ", d.log())

    def test_a_silent_tracker_costs_two_seconds_and_blocks_nothing(self):
        # Tracker 2's port answers TCP but never says a word.
        self.sb.trackers[1].stop()
        hole = socket.socket()
        hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hole.bind(("127.0.0.1", self.sb.trackers[1].port))
        hole.listen(16)
        self.addCleanup(hole.close)
        d = self.sb.daemon("alice")
        wait_until(lambda: d.json("status")["tracker"] is not None, what="a tracker link")

        result = {}

        def probe():
            start = time.monotonic()
            result["rows"] = d.json("trackers")
            result["took"] = time.monotonic() - start

        t = threading.Thread(target=probe)
        t.start()
        time.sleep(0.3)
        # The daemon answers other commands while the probe waits.
        start = time.monotonic()
        self.assertIsNone(d.json("status")["user"])
        self.assertLess(time.monotonic() - start, 1.0)
        t.join(timeout=10)
        self.assertFalse(t.is_alive())
        self.assertLess(result["took"], 4.0)
        self.assertGreaterEqual(result["took"], 1.5)
        rows = result["rows"]
        self.assertTrue(rows[0]["reachable"], rows)
        self.assertTrue(rows[0]["link"], rows)
        # TLS: a port that never speaks never finishes the handshake either.
        self.assertEqual(rows[1]["error"], "could not connect within 2 s", rows)
        self.assertFalse(rows[1]["reachable"], rows)


if __name__ == "__main__":
    unittest.main()
