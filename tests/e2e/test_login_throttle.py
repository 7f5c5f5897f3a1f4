"""Login throttling end to end: real tracker and daemons, `gsctl login`.

Two rules (tracker/rate_limit.h per account, tracker/address_limit.h per
source address over every account), each set here to a small count and a
delay of seconds so that a test sees a refusal and its end. The address a tracker
sees is the daemon's host: every daemon of this sandbox is 127.0.0.1, and a
raw client bound to 127.0.0.2 plays another host."""

import re
import time
import unittest

import tlsclient
from harness import GsTestCase, recv_frame, send_frame

THROTTLED = re.compile(r"too many wrong passwords (for user '[^']+'|from this address \(\S+\), for all its users); "
                       r"try again in (\d+) s")


class ThrottleCase(GsTestCase):
    def assertThrottled(self, result, who, most):
        """gsctl exited 1 with the throttle message naming `who` (the user's
        quoted name or the address) and a wait of 1 to `most` seconds, which
        it returns."""
        self.assertRefused(result, "too many wrong passwords")
        m = THROTTLED.search(result.stderr)
        self.assertIsNotNone(m, result.stderr)
        self.assertIn(who, m.group(1), result.stderr)
        wait = int(m.group(2))
        self.assertTrue(1 <= wait <= most, result.stderr)
        return wait


class AccountThrottle(ThrottleCase):
    TRACKER_TOML = "login_failures_before_delay = 3\nlogin_delay_seconds = 3\n"

    def test_wrong_passwords_then_refused_even_right_then_allowed(self):
        a = self.sb.daemon("a")
        a.ok("create_user", "alice", "right-pw")
        a.ok("create_user", "bob", "bob-pw")
        for _ in range(3):
            self.assertRefused(a.ctl("login", "alice", "wrong"), "wrong password for user 'alice'")
        self.assertThrottled(a.ctl("login", "alice", "wrong"), "'alice'", 3)
        # The right password waits too: else the answer would tell a guesser
        # which guess was right.
        wait = self.assertThrottled(a.ctl("login", "alice", "right-pw"), "'alice'", 3)
        refused_at = time.monotonic()  # after the answer: the wait counts from before it
        # Another account, from the same daemon, is not held back.
        a.ok("login", "bob", "bob-pw")
        a.ok("logout")
        # The wait the tracker gave has passed.
        time.sleep(max(0.0, refused_at + wait + 0.2 - time.monotonic()))
        self.assertIn("alice", a.ok("login", "alice", "right-pw"))
        self.assertEqual(a.json("status")["user"], "alice")


class AddressThrottle(ThrottleCase):
    # The per-account count (5 by default) is never reached here: one guess
    # per account is enough for the address's. The address's count drains
    # (one failure per delay) while the guesses are made, so the delay is
    # long enough that the refusals below all fall inside it.
    TRACKER_TOML = "login_address_failures_before_delay = 4\nlogin_address_delay_seconds = 8\n"

    def raw_login(self, source, user, password):
        """The tracker's answer to a login sent from the local address
        `source`, by a raw client (a daemon on another host); logs out again
        when it succeeds."""
        with tlsclient.connect(self.sb.trackers[0].port, timeout=10, source=source) as s:
            send_frame(s, {"hello": "gs-tracker", "version": 1})
            recv_frame(s)
            send_frame(s, {"id": 1, "op": "login", "user": user, "password": password, "seat": "0e0e0e0e"})
            answer = recv_frame(s)
            if answer.get("ok"):
                send_frame(s, {"id": 2, "op": "logout", "token": answer["token"]})
                recv_frame(s)
            return answer

    def test_guesses_over_many_accounts_from_one_address(self):
        a = self.sb.daemon("a")
        b = self.sb.daemon("b")  # another user's daemon on the same host
        for u in ("u1", "u2", "u3", "u4", "u5", "far"):
            a.ok("create_user", u, "right-pw")
        for u in ("u1", "u2", "u3", "u4"):
            self.assertRefused(a.ctl("login", u, "wrong"), f"wrong password for user '{u}'")
        wait = self.assertThrottled(a.ctl("login", "u5", "right-pw"), "(127.0.0.1)", 8)
        refused_at = time.monotonic()
        # The address, not the daemon, is held back: a user on the same host
        # waits too (the trade-off the per-address count is sized for).
        self.assertThrottled(b.ctl("login", "u1", "right-pw"), "(127.0.0.1)", 8)
        # Unknown users count for the address as well, and are held back alike.
        self.assertThrottled(a.ctl("login", "nobody", "x"), "(127.0.0.1)", 8)
        # Another host is not.
        answer = self.raw_login("127.0.0.2", "far", "right-pw")
        self.assertTrue(answer.get("ok"), answer)
        self.assertIn("too many failed logins from 127.0.0.1", self.sb.trackers[0].log())
        time.sleep(max(0.0, refused_at + wait + 0.2 - time.monotonic()))
        self.assertIn("u5", a.ok("login", "u5", "right-pw"))
        # A right password does not clear the address's count: it drained
        # just below the limit, so one more wrong guess holds the address again.
        self.assertRefused(b.ctl("login", "u1", "wrong"), "wrong password for user 'u1'")
        self.assertThrottled(b.ctl("login", "u1", "right-pw"), "(127.0.0.1)", 8)


if __name__ == "__main__":
    unittest.main()
