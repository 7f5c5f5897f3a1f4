"""Scenario "cluster": what replication costs and how fast a failover is.

- writes/s: gs-tracker-load --writes 1 (bench/tracker_load.cc): create_group
  requests, each with its own request id, one outstanding on each of
  WRITE_CONNECTIONS connections, against a 3-tracker cluster's primary and
  against a tracker alone, in alternating rounds (medians). On the cluster
  each write is logged, applied, shipped to both backups and committed on
  all three before it is answered.
- look-ups/s: the "tracker" scenario's file_info load against the same
  3-tracker primary and the lone tracker, alternating: replication must not
  slow the read path (look-ups wait only for what they saw to be committed).
  Against opentracker: the 3-tracker figure over the "tracker" scenario's
  opentracker rate, when that scenario ran in the same run.
- failover: a client writes without pause to the primary (raw tracker
  protocol, a create_user per request with its rid); the primary gets
  SIGKILL; the client looks for the new primary (each tracker's hello says
  its role) and sends again. The figure is the time from the kill to the
  first write acknowledged after it, with the default cluster_timeout_ms.
  The killed tracker is restarted and the cluster whole again before the next
  round. Once more through a real gsd and `gsctl create_group` in a loop:
  what a user sees.

Every process is stopped by PID; every wait and loop is bounded.
"""

import json
import os
import signal
import socket
import statistics
import struct
import time

from benchlib import (PLAINTEXT_TOML, TRACKER_BIN, Daemon, Proc, div, free_port, log, ratio_row,
                      wait_until)
import tracker as lookups

NAME = "cluster"
TRACKERS = 3
WRITE_CONNECTIONS = 32  # a tracker commits one write at a time: more connections only queue
WRITES_TARGET = 0.5
LOOKUPS_TARGET = 0.9
FAILOVER_TARGET_S = 2.0
# As bench's other trackers, but a cluster's own log level shows role changes.
CLUSTER_TOML = """[tracker]
log_level = "info"
kdf_log2_n = 10
max_connections_per_address = 1000000
tls = false
"""


# --------------------------------------------------------------------------
# the raw tracker protocol


def send_frame(sock, obj):
    data = json.dumps(obj).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


def recv_frame(sock):
    def exact(n):
        buf = b""
        while len(buf) < n:
            part = sock.recv(n - len(buf))
            if not part:
                raise ConnectionError("closed")
            buf += part
        return buf
    (size,) = struct.unpack(">I", exact(4))
    return json.loads(exact(size))


def greet(port, timeout):
    """A connection to the tracker on `port` after the hello, and the hello's answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    try:
        send_frame(s, {"hello": "gs-tracker", "version": 1})
        return s, recv_frame(s)
    except Exception:
        s.close()
        raise


def ask(port, request, timeout=1.0):
    s, _ = greet(port, timeout)
    with s:
        send_frame(s, {"id": 1, **request})
        return recv_frame(s)


def cluster_of(port):
    try:
        a = ask(port, {"op": "cluster"})
        return a if a.get("ok") else None
    except (OSError, ValueError, ConnectionError):
        return None


# --------------------------------------------------------------------------
# a cluster of real trackers


class Cluster:
    def __init__(self, work, n):
        os.makedirs(work, exist_ok=True)
        self.work = work
        self.ports = [free_port() for _ in range(n)]
        self.file = os.path.join(work, "trackers.txt")
        with open(self.file, "w") as f:
            f.writelines(f"127.0.0.1 {p}\n" for p in self.ports)
        self.conf = os.path.join(work, "tracker.toml")
        with open(self.conf, "w") as f:
            f.write(CLUSTER_TOML)
        self.procs = [None] * n

    def start(self, i):
        self.procs[i] = Proc(f"gs-tracker-{i + 1}",
                             [TRACKER_BIN, self.file, str(i + 1), "--state-dir",
                              os.path.join(self.work, f"tracker-{i + 1}"), "--config", self.conf],
                             os.path.join(self.work, f"tracker-{i + 1}.log")).start()

    def start_all(self):
        for i in range(len(self.ports)):
            self.start(i)
        return self.wait_whole()

    def primary(self):
        """(index, port) of the tracker that answers as the primary, or None."""
        for i, p in enumerate(self.ports):
            if self.procs[i] is None or not self.procs[i].alive():
                continue
            c = cluster_of(p)
            if c and c["role"] == "primary":
                return i, p
        return None

    def wait_whole(self, timeout=30):
        """Until one primary has every tracker in its in-sync set, caught up."""
        def whole():
            p = self.primary()
            if not p:
                return None
            c = cluster_of(p[1])
            if c and len(c["isr"]) == len(self.ports) and c["commit"] == c["last"]:
                return p
            return None
        return wait_until(whole, timeout, "the cluster to be whole", interval=0.05)

    def stop(self):
        for p in self.procs:
            if p:
                p.stop()


# --------------------------------------------------------------------------
# rounds


def load_round(work, port, duration, k, writes):
    """One gs-tracker-load round (bench/tracker.py's, with --writes)."""
    log_path = os.path.join(work, f"load-{'w' if writes else 'r'}-{k}.log")
    argv = [lookups.LOAD_BIN, "--port", str(port), "--warmup", "1", "--duration", str(duration)]
    if writes:
        argv += ["--writes", "1", "--connections", str(WRITE_CONNECTIONS)]
    else:
        argv += ["--connections", str(lookups.CONNECTIONS)]
    # The same swarm for both (a set-up finds the users of an earlier one).
    argv += ["--peers", str(lookups.PEERS)]
    load = Proc("gs-tracker-load", argv, log_path).start()
    if load.wait(duration + 120) is None:
        load.stop()
        raise RuntimeError("gs-tracker-load did not finish in time: " + load.log_tail())
    out = next((ln for ln in reversed(load.log_tail(20000).splitlines()) if ln.startswith("{")),
               None)
    if load.status != 0 or out is None:
        raise RuntimeError(f"gs-tracker-load exited {load.status}: {load.log_tail()}")
    r = json.loads(out)
    if r["errors"]:
        raise RuntimeError(f"gs-tracker-load saw {r['errors']} bad answers: {r['first_error']}")
    return r["writes_per_s" if writes else "lookups_per_s"]


def failover_round(c, k):
    """Kills the primary under a stream of writes; seconds from the kill to
    the first write acknowledged after it."""
    victim, port = c.wait_whole()
    conn = None
    n = 0
    killed_at = None
    deadline = time.monotonic() + 60
    pending = None  # (name, rid) of the write in flight: sent again as it was
    while time.monotonic() < deadline:
        if conn is None:
            # Find a tracker that greets as the primary.
            for p in c.ports:
                try:
                    s, hello = greet(p, 0.3)
                except (OSError, ValueError, ConnectionError):
                    continue
                if hello.get("role") == "primary":
                    conn = s
                    break
                s.close()
            if conn is None:
                time.sleep(0.01)
                continue
        if pending is None:
            n += 1
            pending = (f"fo{k}x{n}", os.urandom(16).hex())
        try:
            send_frame(conn, {"id": n, "op": "create_user", "user": pending[0],
                              "password": "pw-bench", "rid": pending[1]})
            answer = recv_frame(conn)
        except (OSError, ValueError, ConnectionError):
            conn.close()
            conn = None
            continue
        if not answer.get("ok"):
            if answer.get("error") != "not_primary":
                raise RuntimeError(f"failover write refused: {answer}")
            conn.close()
            conn = None
            continue
        pending = None
        now = time.monotonic()
        if killed_at is not None:
            took = now - killed_at
            if conn:
                conn.close()
            return took
        if n >= 20:
            os.kill(c.procs[victim].pid, signal.SIGKILL)
            c.procs[victim].wait(10)
            killed_at = time.monotonic()
    raise RuntimeError("no write acknowledged within 60 s of the kill")


def gsd_failover(c, work):
    """The same through gsd: `gsctl create_group` in a loop, kill, time to
    the next exit 0."""
    d = Daemon(work, "fo-user", c.file, PLAINTEXT_TOML).start()
    try:
        d.ok("create_user", "fo-user", "--password-stdin", stdin="bench-pw\n")
        d.ok("login", "fo-user", "--password-stdin", stdin="bench-pw\n")
        victim, _ = c.wait_whole()
        killed_at = None
        deadline = time.monotonic() + 60
        n = 0
        while time.monotonic() < deadline:
            n += 1
            r = d.ctl("create_group", f"fo-g{n}", timeout=30)
            if r.returncode == 0 and killed_at is not None:
                return time.monotonic() - killed_at
            if r.returncode != 0 and killed_at is None:
                raise RuntimeError(f"create_group failed before the kill: {r.stderr}")
            if killed_at is None and n >= 5:
                os.kill(c.procs[victim].pid, signal.SIGKILL)
                c.procs[victim].wait(10)
                killed_at = time.monotonic()
        raise RuntimeError("gsd: no write acknowledged within 60 s of the kill")
    finally:
        d.stop()


def run(work, opts, res):
    if not os.path.exists(lookups.LOAD_BIN):
        raise RuntimeError(f"{lookups.LOAD_BIN} is missing (build the project with GS_BUILD_BENCH=ON)")
    duration = 3 if opts.quick else 6
    rounds = 2 if opts.quick else 3
    failovers = 3 if opts.quick else 7
    cw = os.path.join(work, "cluster")
    three = Cluster(os.path.join(cw, "three"), TRACKERS)
    one = Cluster(os.path.join(cw, "one"), 1)
    try:
        three.start_all()
        one.start_all()
        w3, w1, r3, r1 = [], [], [], []
        for k in range(rounds):
            w3.append(load_round(cw, three.wait_whole()[1], duration, f"3-{k}", True))
            w1.append(load_round(cw, one.wait_whole()[1], duration, f"1-{k}", True))
            r3.append(load_round(cw, three.wait_whole()[1], duration, f"3-{k}", False))
            r1.append(load_round(cw, one.wait_whole()[1], duration, f"1-{k}", False))
            log(f"cluster round {k}: writes/s 3 trackers {w3[-1]:,.0f}, alone {w1[-1]:,.0f}; "
                f"look-ups/s 3 trackers {r3[-1]:,.0f}, alone {r1[-1]:,.0f}")
        one.stop()

        times = []
        for k in range(failovers):
            t = failover_round(three, k)
            times.append(t)
            log(f"failover {k}: first write acknowledged {t:.2f} s after SIGKILL of the primary")
            for i, p in enumerate(three.procs):
                if not p.alive():
                    three.start(i)
            three.wait_whole()
        via_gsd = gsd_failover(three, cw)
        log(f"failover through gsd: first create_group done {via_gsd:.2f} s after the kill")
    finally:
        three.stop()
        one.stop()

    med = statistics.median
    res["cluster"] = {
        "duration_s": duration, "rounds": rounds,
        "w3": med(w3), "w1": med(w1), "w3_all": w3, "w1_all": w1,
        "r3": med(r3), "r1": med(r1), "r3_all": r3, "r1_all": r1,
        "failover_s": med(times), "failover_max_s": max(times), "failover_all": times,
        "failover_gsd_s": via_gsd,
    }


def fmt_rate(x):
    return "n/a" if x is None else f"{x:,.0f}/s"


def fmt_secs(x):
    return "n/a" if x is None else f"{x:.2f} s"


def rows(res):
    c = res.get("cluster")
    if not c:
        failed = "cluster_error" in res
        status = "FAILED" if failed else "not run"
        return [[f"cluster: {what}", status, "", "", "", "NO" if failed else "n/a"]
                for what in ("writes/s, 3 trackers vs 1", "look-ups/s, 3 vs 1",
                             "failover to first write")]
    out = [
        ratio_row("cluster: writes/s, 3 trackers vs 1", c["w3"], c["w1"], fmt_rate,
                  div(c["w3"], c["w1"]), ">=", WRITES_TARGET),
        ratio_row("cluster: look-ups/s, 3 trackers vs 1", c["r3"], c["r1"], fmt_rate,
                  div(c["r3"], c["r1"]), ">=", LOOKUPS_TARGET),
    ]
    t = res.get("tracker")
    if t and t.get("ot_rate"):
        out.append(ratio_row("cluster: look-ups/s, 3 trackers vs opentracker", c["r3"], t["ot_rate"],
                             fmt_rate, div(c["r3"], t["ot_rate"]), ">=", lookups.TARGET))
    met = "yes" if c["failover_s"] <= FAILOVER_TARGET_S else "NO"
    out.append(["cluster: failover, kill to first write (median)", fmt_secs(c["failover_s"]),
                "", "", f"<= {FAILOVER_TARGET_S} s", met])
    return out


def details(res):
    c = res.get("cluster")
    if not c:
        return []
    runs = lambda xs: ", ".join(f"{x:,.0f}" for x in xs)  # noqa: E731
    return [
        f"- cluster writes: `gs-tracker-load --writes 1`, {WRITE_CONNECTIONS} connections with one "
        f"create_group (own rid) outstanding each, 1 s warm-up + {c['duration_s']} s per round, "
        f"every answer checked. 3 trackers (primary + 2 backups, every write committed on all "
        f"three before its answer): {runs(c['w3_all'])} writes/s; one tracker alone: "
        f"{runs(c['w1_all'])} writes/s (medians used, rounds alternating)",
        f"- cluster look-ups: the tracker scenario's file_info load on the same two setups: "
        f"3 trackers {runs(c['r3_all'])}, alone {runs(c['r1_all'])} look-ups/s",
        f"- cluster failover (default cluster_timeout_ms 1500): a raw client writing "
        f"create_user requests back to back to the primary, SIGKILL of the primary, then the "
        f"client greets each tracker until one says primary and sends again: "
        + ", ".join(f"{t:.2f}" for t in c["failover_all"])
        + f" s (median {c['failover_s']:.2f}, max {c['failover_max_s']:.2f}). Through gsd "
        f"(`gsctl create_group` in a loop, gsd's defaults): {c['failover_gsd_s']:.2f} s",
    ]
