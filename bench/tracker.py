"""Scenario "tracker": how many peer look-ups a tracker answers per second.

gs: gs-tracker-load (bench/tracker_load.cc, built with the project) sets up a
group with one one-piece file and 50 live peers (users logged in with
distinct ports, each having announced the file), then keeps one file_info
request outstanding on each of 200 connections, as wrk does, and counts
answers for DURATION seconds after a 1 s warm-up; every answer is checked.

Reference: opentracker (Debian; it serves whitelisted info hashes only, so it
runs in a chroot with a whitelist, as in bench/run's aria2 scenario) with 50
seeders in the swarm, under wrk -t2 -c200 with bench/announce.lua: the same
seeders re-announcing with compact=1, so every reply carries 50 peers.

Both servers run side by side on 127.0.0.1; the rounds alternate between
them so that the noise of a shared machine falls on both; medians are used.
Every process is stopped by PID; every wait is bounded.
"""

import json
import os
import re
import socket
import statistics
import urllib.parse
import urllib.request

from benchlib import (BENCH, BUILD, TRACKER_BIN, Proc, cpu_seconds, div, free_port, log,
                      ratio_row, start_gs_tracker, start_opentracker)

NAME = "tracker"
LOAD_BIN = os.path.join(BUILD, "bench", "gs-tracker-load")
ANNOUNCE_LUA = os.path.join(BENCH, "announce.lua")
CONNECTIONS = 200
PEERS = 50
WARMUP_S = 1
TARGET = 1.0

def fmt_rps(x):
    return "n/a" if x is None else f"{x:,.0f}/s"


def fmt_ms(x):
    return "n/a" if x is None else f"{x:.1f} ms"


def peer_id(i):
    """The i-th seeder's 20-byte peer id; bench/announce.lua makes the same."""
    return f"-GS0001-{i:012d}".encode()


# --------------------------------------------------------------------------
# gs-tracker


def gs_round(work, tracker, port, duration, k):
    log_path = os.path.join(work, f"gs-tracker-load-{k}.log")
    cpu0 = cpu_seconds(tracker.pid)
    load = Proc("gs-tracker-load", [LOAD_BIN, "--port", str(port), "--connections",
                                    str(CONNECTIONS), "--peers", str(PEERS), "--warmup",
                                    str(WARMUP_S), "--duration", str(duration)],
                log_path).start()
    if load.wait(duration + 120) is None:
        load.stop()
        raise RuntimeError("gs-tracker-load did not finish in time: " + load.log_tail())
    cpu1 = cpu_seconds(tracker.pid)
    out = next((ln for ln in reversed(load.log_tail(20000).splitlines())
                if ln.startswith("{")), None)
    if load.status != 0 or out is None:
        raise RuntimeError(f"gs-tracker-load exited {load.status}: {load.log_tail()}")
    r = json.loads(out)
    if r["errors"]:
        raise RuntimeError(f"gs-tracker-load saw {r['errors']} bad answers: {r['first_error']}")
    ru = load.rusage
    r["tracker_cpu_s"] = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
    r["gen_cpu_s"] = ru.ru_utime + ru.ru_stime if ru else None
    log(f"gs-tracker: {r['lookups_per_s']:,.0f} look-ups/s (p50 {r['p50_ms']:.1f} ms, "
        f"p99 {r['p99_ms']:.1f} ms)")
    return r


# --------------------------------------------------------------------------
# opentracker


def announce_url(port, info_hash, i):
    q = urllib.parse.urlencode({"info_hash": bytes.fromhex(info_hash), "peer_id": peer_id(i),
                                "port": 30000 + i, "uploaded": 0, "downloaded": 0, "left": 0,
                                "compact": 1, "numwant": PEERS},
                               quote_via=urllib.parse.quote)  # "+" would not be a 0x20 byte
    return f"http://127.0.0.1:{port}/announce?{q}"


def fill_swarm(ot, port, info_hash):
    """The 50 seeders announce once; returns the last reply (bencoded)."""
    body = b""
    for i in range(PEERS):
        with urllib.request.urlopen(announce_url(port, info_hash, i), timeout=5) as u:
            body = u.read()
    want = f"5:peers{6 * PEERS}:".encode()
    if want not in body:
        raise RuntimeError(f"opentracker does not list {PEERS} peers: {body[:200]!r}")
    return body


def keep_alive_probe(port, info_hash):
    """Two pipelined HTTP/1.1 announces on one connection: how many replies
    come back, and whether opentracker closes the connection (bounded)."""
    path = announce_url(port, info_hash, 0).split(f":{port}", 1)[1]
    req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n").encode()
    data, closed = b"", False
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(req + req)
        try:
            for _ in range(1000):
                part = s.recv(65536)
                if not part:
                    closed = True
                    break
                data += part
        except socket.timeout:
            pass
    head = data.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    conn = next((ln.split(":", 1)[1].strip() for ln in head.split("\r\n")
                 if ln.lower().startswith("connection:")), None)
    return {"replies": data.count(b"HTTP/1."), "closed": closed, "connection_header": conn}


def wrk_seconds(value, unit):
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def ot_round(work, ot, port, info_hash, duration, k):
    log_path = os.path.join(work, f"wrk-{k}.log")
    cpu0 = cpu_seconds(ot.pid)
    wrk = Proc("wrk", ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", "-s",
                       ANNOUNCE_LUA, f"http://127.0.0.1:{port}/", "--", info_hash, str(PEERS)],
               log_path).start()
    if wrk.wait(duration + 60) is None:
        wrk.stop()
        raise RuntimeError("wrk did not finish in time: " + wrk.log_tail())
    cpu1 = cpu_seconds(ot.pid)
    text = wrk.log_tail(20000)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    bad = re.search(r"^bad (\d+)", text, re.M)
    if wrk.status != 0 or not rate or not total or not bad:
        raise RuntimeError(f"wrk exited {wrk.status}: {text[-2000:]}")
    if int(bad.group(1)):
        raise RuntimeError(f"wrk: {bad.group(1)} bad opentracker replies: {text[-1000:]}")
    r = {"rate": float(rate.group(1)), "requests": int(total.group(1))}
    for q, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s|m)\b", text, re.M)
        r[key] = wrk_seconds(*m.groups()) * 1000 if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    r["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                  map(int, m.groups()))) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    r["non_2xx"] = int(m.group(1)) if m else 0
    ru = wrk.rusage
    r["tracker_cpu_s"] = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
    r["gen_cpu_s"] = ru.ru_utime + ru.ru_stime if ru else None
    log(f"opentracker: {r['rate']:,.0f} announces/s (p50 {fmt_ms(r['p50_ms'])}, "
        f"p99 {fmt_ms(r['p99_ms'])})")
    return r


# --------------------------------------------------------------------------
# the scenario


def per_request_us(rounds, cpu_key, count):
    xs = [r[cpu_key] / count(r) * 1e6 for r in rounds if r.get(cpu_key) and count(r)]
    return statistics.median(xs) if xs else None


def run(work, opts, res):
    for exe in (TRACKER_BIN, LOAD_BIN):
        if not os.path.exists(exe):
            raise RuntimeError(f"{exe} is missing (build the project with GS_BUILD_BENCH=ON)")
    duration = 5 if opts.quick else 10
    rounds = 2 if opts.quick else 3
    tw = os.path.join(work, "tracker")
    os.makedirs(tw)
    info_hash = os.urandom(20).hex()
    tracker, gs_port, _ = start_gs_tracker(tw, tls=False)
    ot_port = free_port()
    ot = start_opentracker(tw, info_hash, ot_port)
    reply = fill_swarm(ot, ot_port, info_hash)
    probe = keep_alive_probe(ot_port, info_hash)
    log(f"opentracker keep-alive probe: {probe}")

    gs, ref = [], []
    for k in range(rounds):
        gs.append(gs_round(tw, tracker, gs_port, duration, k))
        ref.append(ot_round(tw, ot, ot_port, info_hash, duration, k))
    tracker.stop()
    ot.stop()

    med = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
    res["tracker"] = {
        "duration_s": duration, "rounds": rounds, "connections": CONNECTIONS, "peers": PEERS,
        "gs_rate": med([r["lookups_per_s"] for r in gs]),
        "gs_all": [r["lookups_per_s"] for r in gs],
        "gs_p50_ms": med([r["p50_ms"] for r in gs]), "gs_p99_ms": med([r["p99_ms"] for r in gs]),
        "gs_answer_bytes": gs[-1]["answer_bytes"], "gs_listed": gs[-1]["listed_peers"],
        # The tracker's CPU over a whole round (set-up included) per answer.
        "gs_cpu_us": per_request_us(gs, "tracker_cpu_s", lambda r: r["all_answers"]),
        "gs_gen_cpu_s": med([r["gen_cpu_s"] for r in gs if r["gen_cpu_s"] is not None]),
        "ot_rate": med([r["rate"] for r in ref]), "ot_all": [r["rate"] for r in ref],
        "ot_p50_ms": med([r["p50_ms"] for r in ref if r["p50_ms"] is not None]),
        "ot_p99_ms": med([r["p99_ms"] for r in ref if r["p99_ms"] is not None]),
        "ot_reply_bytes": len(reply), "ot_socket_errors": ref[-1]["socket_errors"],
        "ot_non_2xx": sum(r["non_2xx"] for r in ref),
        "ot_cpu_us": per_request_us(ref, "tracker_cpu_s", lambda r: r["requests"]),
        "ot_gen_cpu_s": med([r["gen_cpu_s"] for r in ref if r["gen_cpu_s"] is not None]),
        "keep_alive": probe,
    }


def rows(res):
    t = res.get("tracker")
    name = f"tracker: look-ups/s ({CONNECTIONS} conns)"
    if not t:
        failed = "tracker_error" in res
        return [[name, "FAILED" if failed else "not run", "", "", f">= {TARGET}",
                 "NO" if failed else "n/a"]]
    return [ratio_row(name, t["gs_rate"], t["ot_rate"], fmt_rps, div(t["gs_rate"], t["ot_rate"]),
                      ">=", TARGET)]


def cpu_ratio_text(t):
    r = div(t["ot_cpu_us"], t["gs_cpu_us"])
    return "" if r is None else f" (opentracker spends {r:.2f}× as much per request)"


def details(res):
    t = res.get("tracker")
    if not t:
        return []
    runs = lambda xs: ", ".join(f"{x:,.0f}" for x in xs)  # noqa: E731
    us = lambda x: "n/a" if x is None else f"{x:.1f} µs"  # noqa: E731
    s = lambda x: "n/a" if x is None else f"{x:.2f} s"  # noqa: E731
    ka = t["keep_alive"]
    if ka["closed"] and ka["replies"] <= 1:
        ka_text = (f"opentracker closes the connection after every reply (two pipelined HTTP/1.1 "
                   f"keep-alive announces on one connection got {ka['replies']} reply, then the "
                   f"close; Connection header: {ka['connection_header'] or 'none'}), so wrk "
                   f"reconnects for every announce (socket read errors in the last round: "
                   f"{(t['ot_socket_errors'] or {}).get('read', 'n/a')}, about one per request) "
                   f"and each announce costs opentracker an accept and a close that a gs look-up "
                   f"on its standing connection does not")
    else:
        ka_text = (f"opentracker kept the connection open (two pipelined announces: "
                   f"{ka['replies']} replies, closed: {ka['closed']})")
    return [
        f"- tracker: gs-tracker `file_info` look-ups from gs-tracker-load (bench/tracker_load.cc, "
        f"one epoll thread), {t['connections']} connections with one request outstanding each, "
        f"{WARMUP_S} s warm-up + {t['duration_s']} s per round; {t['peers']} live peers of a "
        f"one-piece file, so each answer lists {t['gs_listed']} peers in "
        f"{t['gs_answer_bytes']} bytes; every answer checked (id and ok, every 1000th in full). "
        f"Rounds: {runs(t['gs_all'])} look-ups/s (median used); latency p50 "
        f"{fmt_ms(t['gs_p50_ms'])}, p99 {fmt_ms(t['gs_p99_ms'])}",
        f"- tracker reference: opentracker announces from `wrk -t2 -c{t['connections']} "
        f"-d{t['duration_s']}s` (bench/announce.lua): {t['peers']} seeders re-announcing with "
        f"compact=1, each reply {t['ot_reply_bytes']} bytes with {t['peers']} peers; rounds "
        f"{runs(t['ot_all'])} announces/s (median used), alternating with the gs rounds; latency "
        f"p50 {fmt_ms(t['ot_p50_ms'])}, p99 {fmt_ms(t['ot_p99_ms'])}; non-2xx replies "
        f"{t['ot_non_2xx']}",
        f"- tracker fairness: {ka_text}. Both servers answer on one thread, and share the "
        f"machine's {os.cpu_count()} CPUs with their load generator, so the rates also reflect "
        f"what the generator costs (CPU seconds per round: gs-tracker-load "
        f"{s(t['gs_gen_cpu_s'])}, wrk {s(t['ot_gen_cpu_s'])}). Server CPU per request alone "
        f"(over a round, set-up included, / requests): gs-tracker {us(t['gs_cpu_us'])} per "
        f"look-up, opentracker {us(t['ot_cpu_us'])} per announce"
        f"{cpu_ratio_text(t)}. gs-tracker's only rate limit is on wrong-password logins "
        f"(tracker/rate_limit.h), not on look-ups",
    ]
