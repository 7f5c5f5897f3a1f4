"""The man pages render without a warning, and say what the programs do:
gsctl(1) lists every command gsctl has, gsd(8) and gs-tracker(8) every
option of their --help.

usage: man_pages.py --build BUILD_DIR
"""

import argparse
import os
import re
import subprocess
import sys


def render(page):
    """groff with every warning on; returns (text, warnings)."""
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-rLL=100n", page],
                       capture_output=True, text=True, env=dict(os.environ, LC_ALL="C.UTF-8"))
    if r.returncode != 0:
        return "", f"groff exited {r.returncode}: {r.stderr}"
    # Plain text: drop the overstriking of bold and underline.
    return re.sub(r".\x08", "", r.stdout), r.stderr.strip()


def options(program):
    out = subprocess.run([program, "--help"], capture_output=True, text=True).stdout
    return sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", out)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    build = ap.parse_args().build
    gsctl = os.path.join(build, "ctl", "gsctl")
    problems = []
    pages = {"gsctl.1": None, "gsd.8": os.path.join(build, "daemon", "gsd"),
             "gs-tracker.8": os.path.join(build, "tracker", "gs-tracker")}
    for name, program in pages.items():
        path = os.path.join(build, "man", name)
        if not os.path.exists(path):
            problems.append(f"{path} was not built")
            continue
        text, warnings = render(path)
        if warnings:
            problems.append(f"{name}: groff warns: {warnings}")
        r = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True,
                           env=dict(os.environ, MANPAGER="cat", MANWIDTH="100"))
        if r.returncode != 0 or r.stderr.strip():
            problems.append(f"{name}: man -l: exit {r.returncode}: {r.stderr.strip()}")
        if name == "gsctl.1":
            words = subprocess.run([gsctl, "__complete", "commands"], capture_output=True,
                                   text=True, check=True).stdout.split()
            expected = words + options(gsctl)
        else:
            expected = options(program)
        for w in expected:
            if not re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", text):
                problems.append(f"{name} does not mention {w}")
    for p in problems:
        print(p)
    print(f"{len(pages)} man pages checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
