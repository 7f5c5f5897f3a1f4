"""Groups end to end: ownership, join requests, hand-over, deletion."""

import unittest

from harness import GsTestCase


class Groups(GsTestCase):
    def setUp(self):
        super().setUp()
        self.a = self.logged_in("a", "alice")
        self.b = self.logged_in("b", "bob")
        self.c = self.logged_in("c", "carol")

    def groups(self, d):
        return {g["group"]: g for g in d.json("list_groups")}

    def test_create_join_accept_reject(self):
        self.a.ok("create_group", "g")
        self.assertRefused(self.b.ctl("create_group", "g"), "already exists")
        self.assertEqual(self.groups(self.b)["g"], {"group": "g", "owner": "alice", "members": 1})

        self.b.ok("join_group", "g")
        self.assertRefused(self.b.ctl("join_group", "g"), "already pending")
        self.c.ok("join_group", "g")
        self.assertEqual(self.a.json("list_requests", "g"), [{"user": "bob"}, {"user": "carol"}])
        self.assertIn("bob", self.a.ok("list_requests", "g"))
        self.assertRefused(self.b.ctl("list_requests", "g"), "only the owner")
        self.assertRefused(self.b.ctl("accept_request", "g", "carol"), "only the owner")

        self.a.ok("accept_request", "g", "bob")
        self.a.ok("reject_request", "g", "carol")
        self.assertEqual(self.a.json("list_requests", "g"), [])
        self.assertRefused(self.a.ctl("accept_request", "g", "carol"), "no pending request")
        self.assertEqual(self.groups(self.c)["g"]["members"], 2)
        self.assertRefused(self.b.ctl("join_group", "g"), "already a member")
        self.assertRefused(self.c.ctl("leave_group", "g"), "not a member")
        self.c.ok("join_group", "g")  # a rejected user may ask again
        self.assertEqual(self.a.json("list_requests", "g"), [{"user": "carol"}])

    def test_no_such_group(self):
        for args in (["join_group", "nope"], ["leave_group", "nope"], ["list_requests", "nope"],
                     ["accept_request", "nope", "bob"], ["reject_request", "nope", "bob"]):
            self.assertRefused(self.a.ctl(*args), "no such group")

    def test_owner_leaving_hands_over_to_longest_standing_member(self):
        self.a.ok("create_group", "g")
        for d in (self.c, self.b):  # carol asks first, but bob is accepted first
            d.ok("join_group", "g")
        self.a.ok("accept_request", "g", "bob")
        self.a.ok("accept_request", "g", "carol")
        out = self.a.json("leave_group", "g")
        self.assertEqual(out["new_owner"], "bob")
        self.assertFalse(out["deleted"])
        self.assertEqual(self.groups(self.c)["g"], {"group": "g", "owner": "bob", "members": 2})
        self.b.json("list_requests", "g")  # bob can act as owner now
        self.assertRefused(self.a.ctl("list_requests", "g"), "only the owner")

    def test_last_member_leaving_deletes_group_and_requests(self):
        self.a.ok("create_group", "g")
        self.b.ok("join_group", "g")
        out = self.a.json("leave_group", "g")
        self.assertTrue(out["deleted"])
        self.assertNotIn("g", self.groups(self.b))
        self.c.ok("create_group", "g")  # the name is free again, with no stale request
        self.assertEqual(self.c.json("list_requests", "g"), [])

    def test_human_output(self):
        self.a.ok("create_group", "team")
        table = self.b.ok("list_groups")
        self.assertIn("GROUP", table.splitlines()[0])
        self.assertIn("team", table)
        self.assertIn("alice", table)
        self.assertIn("owner", self.a.ok("create_group", "other").lower())


class TrackerRestart(GsTestCase):
    def test_tracker_restart_keeps_everything(self):
        a = self.logged_in("a", "alice")
        b = self.logged_in("b", "bob")
        c = self.logged_in("c", "carol")
        a.ok("create_group", "g")
        b.ok("join_group", "g")
        a.ok("accept_request", "g", "bob")
        c.ok("join_group", "g")

        t = self.sb.trackers[0]
        self.assertEqual(t.stop(), 0, t.log()[-2000:])
        t.start()
        # Sessions survive: the daemons reconnect and carry on without a new login.
        self.assertEqual(a.json("list_requests", "g"), [{"user": "carol"}])
        groups = {g["group"]: g for g in b.json("list_groups")}
        self.assertEqual(groups["g"], {"group": "g", "owner": "alice", "members": 2})
        d = self.sb.daemon("d")
        self.assertRefused(d.ctl("create_user", "alice", "x"), "already exists")
        a.ok("logout")
        d.ok("login", "alice", "pw-secret")


if __name__ == "__main__":
    unittest.main()
