"""Shared pieces of the gs benchmark scenarios: processes stopped by PID,
bounded waits, a gs cluster on loopback, formatting (Python standard library
only; imported by bench/run and the scenario modules next to it)."""

import fcntl
import hashlib
import json
import mmap
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
# GS_BENCH_BUILD: another build folder (to keep two benchmark builds apart).
BUILD = os.environ.get("GS_BENCH_BUILD") or os.path.join(ROOT, "bench-build")
TRACKER_BIN = os.path.join(BUILD, "tracker", "gs-tracker")
GSD_BIN = os.path.join(BUILD, "daemon", "gsd")
GSCTL_BIN = os.path.join(BUILD, "ctl", "gsctl")
PIECE = 512 * 1024
SEEDERS = 4
MiB = 1024 * 1024

# --------------------------------------------------------------------------
# small helpers


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(argv, timeout, **kw):
    """Runs argv to completion (bounded); returns CompletedProcess (text)."""
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def proc_status(pid, key):
    """A field of /proc/PID/status in bytes (VmRSS, VmHWM), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def proc_private(pid):
    """Memory only this process holds (USS: Private_Clean + Private_Dirty of
    /proc/PID/smaps_rollup) in bytes, or None. Unlike RSS it leaves out the
    shared libraries' clean pages, which every process using them shares."""
    try:
        total = 0
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
        return total
    except (OSError, ValueError):
        return None


def cpu_seconds(pid):
    """utime + stime of a process so far (seconds), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def thread_cpu(pid):
    """{tid: utime + stime in seconds} for every thread of a process."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(tid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return out


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for _ in range(1 << 20):  # bounded: 4 TiB at 4 MiB chunks
            b = f.read(4 * MiB)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def read_through(path):
    """Reads a file once so that it sits in the page cache."""
    with open(path, "rb") as f:
        for _ in range(1 << 20):
            if not f.read(4 * MiB):
                break


# durable_copy's writes: one stream, 4 MiB at a time (a direct write of
# that size keeps several requests in flight, as gsd's four workers do).
DURABLE_CHUNK = 4 * MiB


def durable_copy(src, dest, direct):
    """Copies src to dest (a new file) and fdatasyncs it: the work a download
    of src into dest's directory must at least do. Returns the seconds from
    opening dest until fdatasync returned. direct: O_DIRECT writes from a
    page-aligned (mmap) buffer, the last partial block, if any, through the
    page cache; else plain buffered writes. The source is read with one
    read() per chunk straight into that buffer; keep it in the page cache
    (read_through) to time the writing only. dest's pages are then dropped
    (POSIX_FADV_DONTNEED; clean after the sync) and dest removed, so the next
    run starts without them."""
    buf = mmap.mmap(-1, DURABLE_CHUNK)
    view = memoryview(buf)
    try:
        with open(src, "rb", buffering=0) as f:
            t0 = time.monotonic()
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | (os.O_DIRECT if direct else 0),
                         0o644)
            try:
                for _ in range(1 << 22):  # bounded: 16 TiB at 4 MiB
                    n = f.readinto(buf)
                    if not n:
                        break
                    if direct and n % 4096:
                        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_DIRECT)
                    done = 0
                    while done < n:
                        done += os.write(fd, view[done:n])
                os.fdatasync(fd)
                seconds = time.monotonic() - t0
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
                os.unlink(dest)
    finally:
        view.release()
        buf.close()
    return seconds


REPORTED = "/sys/module/page_reporting/parameters/reported_kib"


def settle_memory(timeout=20.0):
    """Waits until the kernel has handed freed memory back to the host.

    On a VM with free page reporting (virtio-balloon; this machine has it),
    memory freed less than ~2-3 s ago is still backed by the host and fast to
    reuse, while older free memory must be faulted in from the host again:
    writing 1 GiB of new page cache then takes ~2.5 s instead of ~0.3 s. So a
    timed run right after another run's files were deleted would be faster
    than one that follows a pause. Every timed run (gs, aria2c, the probe)
    waits here first, so all of them start with cold free memory, as a
    long-running daemon would: the same conditions for each. Without page
    reporting this returns after one short pause.
    """
    deadline = time.monotonic() + timeout
    last, stable_since = None, time.monotonic()
    while time.monotonic() < deadline:
        try:
            with open(REPORTED) as f:
                cur = f.read().strip()
        except OSError:
            time.sleep(0.5)
            return
        if cur != last:
            last, stable_since = cur, time.monotonic()
        elif time.monotonic() - stable_since >= 3.0:
            return
        time.sleep(0.25)


def make_data(path, size):
    """Pseudo-random data in 4 MiB chunks (bounded memory): SHA-256 in
    counter mode, seeded, so the same size gives the same bytes."""
    chunk = 4 * MiB
    seed = b"gs-bench"
    with open(path, "wb") as f:
        left, block = size, 0
        while left > 0:
            # SHAKE-256 output: incompressible, reproducible.
            n = min(chunk, left)
            f.write(hashlib.shake_256(seed + block.to_bytes(8, "big")).digest(n))
            left -= n
            block += 1


def machine_busy():
    """CPU-seconds the whole machine has been busy since boot (user, nice,
    system, irq, softirq: everything but idle, iowait and steal)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:8]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


def steady_window(samples, size):
    """The progress samples (t, bytes[, machine_busy]) that bound the steady
    window: the first at >= 10 % of size and the first at >= 90 %; None when
    there is no such window."""
    lo = next((s for s in samples if s[1] >= 0.1 * size), None)
    hi = next((s for s in samples if s[1] >= 0.9 * size), None)
    if not lo or not hi or hi[0] <= lo[0] or hi[1] <= lo[1]:
        return None
    return lo, hi


def steady_rate(samples, size):
    """Bytes/s in the steady window."""
    w = steady_window(samples, size)
    return None if not w else (w[1][1] - w[0][1]) / (w[1][0] - w[0][0])


def steady_cpu_per_gib(samples, size):
    """CPU-seconds the whole machine spent per GiB moved in the steady window
    (samples carry machine_busy()): what a transfer costs all its processes
    and the kernel's network path together, whoever is charged for it."""
    w = steady_window(samples, size)
    if not w or len(w[0]) < 3:
        return None
    return (w[1][2] - w[0][2]) / (w[1][1] - w[0][1]) * (1 << 30)


def fmt_mib(b):
    return "n/a" if b is None else f"{b / MiB:.1f} MiB"


def fmt_rate(r):
    return "n/a" if r is None else f"{r / MiB:.1f} MiB/s"


def fmt_s(s):
    return "n/a" if s is None else f"{s:.2f} s"


# --------------------------------------------------------------------------
# processes


class Proc:
    """One child process with its log file; stopped by PID."""

    all = []

    def __init__(self, name, argv, log_path, cwd=None):
        self.name, self.argv, self.log_path, self.cwd = name, argv, log_path, cwd
        self.p = None
        self.rusage = None
        self.status = None
        Proc.all.append(self)

    def start(self):
        with open(self.log_path, "ab") as logf:
            self.p = subprocess.Popen(self.argv, stdout=logf, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=self.cwd)
        return self

    @property
    def pid(self):
        return self.p.pid

    def reap(self):
        """Non-blocking: True once the process has exited (keeps its rusage)."""
        if self.status is not None:
            return True
        if self.p is None:
            return True
        try:
            pid, status, ru = os.wait4(self.p.pid, os.WNOHANG)
        except ChildProcessError:
            self.status = self.p.returncode if self.p.returncode is not None else -1
            return True
        if pid == 0:
            return False
        self.status = os.waitstatus_to_exitcode(status)
        self.rusage = ru
        self.p.returncode = self.status
        return True

    def alive(self):
        return not self.reap()

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.reap():
                return self.status
            time.sleep(0.01)
        return None

    def stop(self, timeout=10.0):
        if self.p is None or self.reap():
            return self.status
        try:
            os.kill(self.p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        if self.wait(timeout) is None:
            log(f"{self.name} (pid {self.p.pid}) ignored SIGTERM for {timeout:.0f} s: SIGKILL")
            try:
                os.kill(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.wait(timeout)
        return self.status

    def log_tail(self, n=2000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""


def stop_all():
    for p in reversed(Proc.all):
        try:
            p.stop()
        except Exception as e:  # keep stopping the others
            log(f"stopping {p.name}: {e}")


# --------------------------------------------------------------------------
# gs cluster

TRACKER_TOML = """[tracker]
log_level = "warn"
kdf_log2_n = 10
# Every load connection comes from 127.0.0.1.
max_connections_per_address = 1000000
"""
GSD_TOML = """[daemon]
log_level = "{log_level}"
"""
# The tracker and cluster scenarios measure the protocol's own work with a
# raw plaintext load generator (as opentracker's reference is plain HTTP);
# TLS's cost is the transfer scenario's business.
PLAINTEXT_TOML = "tls = false\n"


class Daemon(Proc):
    # extra_toml: more lines for the [daemon] section (e.g. "max_upload_rate = 1048576\n").
    def __init__(self, work, name, trackers_file, extra_toml="", log_level="warn"):
        self.port = free_port()
        self.socket = os.path.join(work, f"{name}.sock")
        state = os.path.join(work, name)
        conf = os.path.join(work, f"{name}.toml")
        with open(conf, "w") as f:
            f.write(GSD_TOML.format(log_level=log_level) + extra_toml)
        super().__init__(name, [GSD_BIN, "--config", conf, "--state-dir", state, "--socket",
                                self.socket, "--listen", f"127.0.0.1:{self.port}", "--trackers",
                                trackers_file], os.path.join(work, f"{name}.log"))

    def start(self):
        super().start()
        wait_until(lambda: self._accepting() or not self.alive(), 15, f"{self.name} socket")
        if not self.alive():
            raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
        return self

    def _accepting(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.socket)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def ctl(self, *args, stdin=None, timeout=600):
        return sh([GSCTL_BIN, "--socket", self.socket, "--timeout", str(timeout), *args],
                  timeout=timeout + 30, input=stdin)

    def ok(self, *args, stdin=None, timeout=600):
        r = self.ctl(*args, stdin=stdin, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"gsctl {' '.join(args)} on {self.name} exited {r.returncode}: "
                               f"{r.stderr.strip()}\n{self.log_tail()}")
        return r.stdout

    def request(self, cmd, args=None, timeout=5.0):
        """One control request straight on the socket (cheaper than a gsctl
        process for polling); returns the decoded answer."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.socket)
            s.sendall((json.dumps({"cmd": cmd, "args": args or {}}) + "\n").encode())
            buf = b""
            for _ in range(10000):  # bounded: 1 MiB answer cap / small reads
                part = s.recv(1 << 16)
                if not part:
                    break
                buf += part
                if b"\n" in buf:
                    break
            return json.loads(buf.split(b"\n", 1)[0])
        finally:
            s.close()


def start_gs_tracker(work, tls=True):
    """gs-tracker 1 of a one-tracker cluster on a free loopback port;
    returns (Proc, port, trackers file). tls=False: plaintext, for the load
    generators that speak the raw protocol (bench/tracker_load.cc)."""
    os.makedirs(work, exist_ok=True)
    port = free_port()
    trackers_file = os.path.join(work, "trackers.txt")
    with open(trackers_file, "w") as f:
        f.write(f"127.0.0.1 {port}\n")
    conf = os.path.join(work, "tracker.toml")
    with open(conf, "w") as f:
        f.write(TRACKER_TOML + ("" if tls else PLAINTEXT_TOML))
    tracker = Proc("gs-tracker", [TRACKER_BIN, trackers_file, "1", "--state-dir",
                                  os.path.join(work, "tracker-1"), "--config", conf],
                   os.path.join(work, "tracker.log")).start()

    def accepting():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return not tracker.alive()
    wait_until(accepting, 15, "gs-tracker to listen")
    if not tracker.alive():
        raise RuntimeError(f"gs-tracker exited at start:\n{tracker.log_tail()}")
    return tracker, port, trackers_file


def start_gs_cluster(work, names, extra_toml=None, tls=True, log_levels=None):
    """A tracker and one logged-in gsd per name, all in group "bench".
    extra_toml: {name: more [daemon] lines for that daemon's config}.
    tls=False: every link plaintext. log_levels: {name: level} ("warn" for
    the others)."""
    tracker, _, trackers_file = start_gs_tracker(work, tls=tls)
    daemons = {}
    for n in names:
        more = (extra_toml or {}).get(n, "") + ("" if tls else PLAINTEXT_TOML)
        d = Daemon(work, n, trackers_file, more, (log_levels or {}).get(n, "warn")).start()
        d.ok("create_user", n, "--password-stdin", stdin="bench-pw\n")
        d.ok("login", n, "--password-stdin", stdin="bench-pw\n")
        daemons[n] = d
    owner = daemons[names[0]]
    owner.ok("create_group", "bench")
    for n in names[1:]:
        daemons[n].ok("join_group", "bench")
        owner.ok("accept_request", "bench", n)
    return tracker, daemons


def aria_rpc(port, secret, method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": "b", "method": method,
                       "params": [f"token:{secret}", *params]}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/jsonrpc", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=1) as r:
        return json.loads(r.read())["result"]


ARIA_COMMON = ["--enable-dht=false", "--enable-dht6=false", "--enable-peer-exchange=false",
               "--bt-enable-lpd=false", "--file-allocation=none", "--summary-interval=0",
               "--console-log-level=warn", "--allow-overwrite=true", "--auto-file-renaming=false",
               "--bt-save-metadata=false", "--bt-remove-unselected-file=false"]


def make_torrent(work, data, tracker_port):
    """A torrent of `data` with 512 KiB pieces (as gs's) announcing to
    127.0.0.1:tracker_port; returns (path, info hash in hex)."""
    torrent = os.path.join(work, "data.torrent")
    r = sh(["mktorrent", "-l", "19", "-a", f"http://127.0.0.1:{tracker_port}/announce", "-o",
            torrent, data], timeout=600)
    if r.returncode != 0:
        raise RuntimeError("mktorrent failed: " + r.stderr + r.stdout)
    r = sh(["aria2c", "-S", torrent], timeout=60)
    ih = next((ln.split()[-1] for ln in r.stdout.splitlines() if "Info Hash" in ln), None)
    if not ih or len(ih) != 40:
        raise RuntimeError("no info hash from aria2c -S: " + r.stdout)
    return torrent, ih


def start_opentracker(work, info_hash, port):
    """Debian's opentracker on 127.0.0.1:port serving `info_hash` (hex);
    returns its Proc once it accepts announces of that hash.

    It chroots into -d and serves only whitelisted hashes. It reads the
    whitelist on a thread of its own, sometimes before the main thread has
    entered the chroot and sometimes after (seen both ways, and a SIGHUP did
    not always make it read the file again), so the whitelist sits at the same
    absolute path H both outside the chroot and inside it (ROOT + H)."""
    root = os.path.join(work, "ot")
    listed = os.path.join(root, "whitelist.txt")  # H
    for path in (listed, root + listed):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(info_hash + "\n")
    # It drops to user nobody, who must be able to read both: every folder of
    # ours on the way (below the system temp folder) opens up.
    tmp = tempfile.gettempdir()
    for path in (listed, root + listed):
        d = os.path.dirname(path)
        os.chmod(path, 0o644)
        for _ in range(40):  # bounded: a few levels below the temp folder
            if not d.startswith(tmp + os.sep):
                break
            os.chmod(d, 0o755)
            d = os.path.dirname(d)
    conf = os.path.join(work, "opentracker.conf")
    with open(conf, "w") as f:
        f.write(f"access.whitelist {listed}\n")
    # A probe announce, answered normally once the hash is whitelisted; a
    # "stopped" one then takes the probe out of the swarm again (opentracker
    # answers "stopped" without checking the whitelist, so it cannot be the
    # probe itself).
    def announce(event):
        q = {"info_hash": bytes.fromhex(info_hash), "peer_id": b"-GSBENCH-whitelist--",
             "port": 1, "uploaded": 0, "downloaded": 0, "left": 0, "compact": 1, "numwant": 0}
        if event:
            q["event"] = event
        # quote, not urlencode's default quote_plus: a 0x20 byte in the hash must be
        # %20; opentracker reads "+" as a plus sign.
        query = urllib.parse.urlencode(q, quote_via=urllib.parse.quote)
        url = f"http://127.0.0.1:{port}/announce?{query}"
        with urllib.request.urlopen(url, timeout=1) as u:
            return u.read()

    # Even so it now and then refuses the hash for good (its SIGHUP reload
    # is not dependable either): then it is restarted, a few times at most.
    last = "no answer"
    for attempt in range(1, 5):
        ot = Proc("opentracker", ["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P",
                                  str(port), "-f", conf, "-d", root, "-u", "nobody"],
                  os.path.join(work, "opentracker.log")).start()
        deadline = time.monotonic() + 5.0
        for _ in range(250):  # bounded: 5 s of 20 ms waits
            if time.monotonic() >= deadline or not ot.alive():
                break
            try:
                body = announce(None)
                if b"failure" not in body:
                    announce("stopped")
                    return ot
                last = repr(body[:120])
            except OSError as e:
                last = str(e)
            time.sleep(0.02)
        log(f"opentracker (try {attempt}) refuses the whitelisted hash ({last}): restarting it")
        ot.stop()
    raise RuntimeError(f"opentracker never accepted announces of the whitelisted hash "
                       f"(last answer: {last}; its log: {ot.log_tail(500)!r})")


def opentracker_complete(port, info_hash):
    """How many complete peers (seeders) opentracker has for the hash; -1 if
    it does not answer."""
    q = "info_hash=" + urllib.parse.quote_from_bytes(bytes.fromhex(info_hash))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/scrape?{q}", timeout=1) as u:
            body = u.read()
    except OSError:
        return -1
    i = body.find(b"8:completei")
    return int(body[i + 11:body.index(b"e", i + 11)]) if i >= 0 else 0


# --------------------------------------------------------------------------
# setup


def ensure_packages():
    need = {"aria2c": "aria2", "mktorrent": "mktorrent", "opentracker": "opentracker",
            "wrk": "wrk"}
    missing = [pkg for exe, pkg in need.items() if shutil.which(exe) is None]
    if not missing:
        return
    log(f"installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = sh(["apt-get", "install", "-y", "--no-install-recommends", *missing], timeout=900, env=env)
    if r.returncode != 0:
        sh(["apt-get", "update"], timeout=900, env=env)
        r = sh(["apt-get", "install", "-y", "--no-install-recommends", *missing], timeout=900,
               env=env)
    if r.returncode != 0:
        raise RuntimeError("apt-get install failed: " + r.stderr[-2000:])


def build():
    log(f"building gs (Release) into {BUILD}")
    r = sh(["cmake", "-S", ".", "-B", BUILD, "-DCMAKE_BUILD_TYPE=Release",
            "-DGS_BUILD_TESTS=OFF"], timeout=600, cwd=ROOT)
    if r.returncode == 0:
        r = sh(["cmake", "--build", BUILD, "-j2"], timeout=3600, cwd=ROOT)
    if r.returncode != 0:
        raise RuntimeError("build failed:\n" + (r.stdout + r.stderr)[-4000:])


def machine_info():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = sh(["git", "rev-parse", "HEAD"], timeout=30, cwd=ROOT).stdout.strip() or "unknown"
    dirty = sh(["git", "status", "--porcelain", "--untracked-files=no"], timeout=30,
               cwd=ROOT).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "commit": commit + (" (+local changes)" if dirty
                                                                     else ""),
            "kernel": os.uname().release}


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])




def div(x, y):
    return None if x is None or y in (None, 0) else x / y


def ratio_row(name, gs, ref, fmt, ratio, op, target):
    if ratio is None:
        met = "n/a"
        rs = "n/a"
    else:
        met = "yes" if (ratio <= target if op == "<=" else ratio >= target) else "NO"
        rs = f"{ratio:.2f}"
    return [name, fmt(gs), fmt(ref), rs, f"{op} {target}", met]
