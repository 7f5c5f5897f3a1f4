#!/usr/bin/env python3
"""units.verify: install the build into a temporary prefix, as a package
would, and check the systemd units installed there.

- every file a service needs is installed (binaries, example configs, units)
  and the units name the installed binaries;
- `systemd-analyze verify` accepts each unit with no message at all (an
  unknown or misspelt key is only a warning there, so any output fails);
- `systemd-analyze security --offline=true` rates each unit's exposure at or
  below a ceiling, so hardening removed by mistake fails here.

Exits 77 (CTest: skipped) when systemd-analyze is not installed
(scripts/deps.sh installs the systemd package).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
# Exposure (0 best, 10 worst) as systemd 252 (Debian 12) rates the units; a
# setting dropped from either raises it. gsd is rated as systemd-analyze sees any user unit offline:
# as if it ran as root with every capability, which a user service never
# does (README, "Running under systemd").
CEILINGS = {"gs-tracker@1.service": 1.1, "gsd.service": 3.8}
# Settings each unit must keep: some weigh too little in the exposure score
# for their loss to show there.
COMMON = ["Type=notify", "WatchdogSec=", "ExecReload=/bin/kill -HUP $MAINPID", "UMask=0077",
          "NoNewPrivileges=yes", "PrivateDevices=yes", "PrivateUsers=yes", "ProtectKernelTunables=yes",
          "ProtectKernelModules=yes", "ProtectKernelLogs=yes", "ProtectControlGroups=yes", "ProtectClock=yes",
          "ProtectHostname=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "RestrictNamespaces=yes",
          "RestrictRealtime=yes", "RestrictSUIDSGID=yes", "LockPersonality=yes", "MemoryDenyWriteExecute=yes",
          "SystemCallArchitectures=native", "SystemCallFilter=@system-service"]
REQUIRED = {
    "gs-tracker@1.service": COMMON + ["ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                                      "CapabilityBoundingSet=\n", "StateDirectory=gs/tracker-%i"],
    # Why gsd has ProtectSystem=full and no ProtectHome= or PrivateTmp=: the
    # comment in units/gsd.service.in.
    "gsd.service": COMMON + ["ProtectSystem=full", "StateDirectory=gsd"],
}
INSTALLED = ["bin/gsd", "bin/gs-tracker", "bin/gsctl", "etc/gs/gsd.toml", "etc/gs/gs-tracker.toml",
             "etc/gs/trackers.txt", "lib/systemd/system/gs-tracker@.service", "lib/systemd/user/gsd.service",
             "lib/systemd/user/gsd.socket"]


def run(argv, env=None, timeout=60):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--cmake", default="cmake")
    args = ap.parse_args()
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("SKIPPED: systemd-analyze is not installed (apt-get install systemd; scripts/deps.sh does)")
        return SKIP

    failures = []
    with tempfile.TemporaryDirectory(prefix="gs-units-") as tmp:
        prefix = os.path.join(tmp, "prefix")
        r = run([args.cmake, "--install", args.build, "--prefix", prefix], timeout=120)
        if r.returncode != 0:
            print(f"cmake --install failed:\n{r.stdout}{r.stderr}")
            return 1
        for rel in INSTALLED:
            if not os.path.isfile(os.path.join(prefix, rel)):
                failures.append(f"not installed: {rel}")
        system_dir = os.path.join(prefix, "lib/systemd/system")
        user_dir = os.path.join(prefix, "lib/systemd/user")
        units = {
            # A template is checked as an instance: %i must expand.
            "gs-tracker@1.service": (os.path.join(system_dir, "gs-tracker@1.service"), [], "gs-tracker"),
            "gsd.service": (os.path.join(user_dir, "gsd.service"), ["--user"], "gsd"),
        }
        # The user manager's paths need a runtime directory, which a CI
        # container has no session for.
        runtime = os.path.join(tmp, "runtime")
        os.mkdir(runtime, 0o700)
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
        for name, (path, scope, binary) in units.items():
            template = path.replace("@1.service", "@.service")
            with open(template) as f:
                text = f.read()
            for line in REQUIRED[name] + [f"ExecStart={prefix}/bin/{binary}"]:
                if "\n" + line not in text:
                    failures.append(f"{name}: no line with {line!r}")
            r = run([analyze, "verify", *scope, path], env=env)
            out = (r.stdout + r.stderr).strip()
            print(f"systemd-analyze verify {' '.join(scope)} {name}: exit {r.returncode}{': ' + out if out else ''}")
            if r.returncode != 0 or out:
                failures.append(f"{name}: systemd-analyze verify said: {out or 'exit ' + str(r.returncode)}")
            r = run([analyze, "security", *scope, "--offline=true", path], env=env)
            m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout + r.stderr)
            if not m:
                failures.append(f"{name}: no exposure level from systemd-analyze security:\n{r.stdout}{r.stderr}")
                continue
            score = float(m.group(1))
            print(f"systemd-analyze security --offline=true {name}: exposure {score}")
            if score > CEILINGS[name]:
                failures.append(f"{name}: exposure {score} is above {CEILINGS[name]}:\n{r.stdout}")
        # gsd.socket: the control socket gsd.service takes under socket
        # activation (lib/listen_fds.h), at the path gsctl looks at.
        socket_unit = os.path.join(user_dir, "gsd.socket")
        with open(socket_unit) as f:
            if "\nListenStream=%t/gsd.sock\n" not in f.read():
                failures.append("gsd.socket: no ListenStream=%t/gsd.sock")
        r = run([analyze, "verify", "--user", socket_unit], env=env)
        out = (r.stdout + r.stderr).strip()
        print(f"systemd-analyze verify --user gsd.socket: exit {r.returncode}{': ' + out if out else ''}")
        if r.returncode != 0 or out:
            failures.append(f"gsd.socket: systemd-analyze verify said: {out or 'exit ' + str(r.returncode)}")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
