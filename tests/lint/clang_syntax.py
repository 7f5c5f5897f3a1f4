#!/usr/bin/env python3
"""A clang -fsyntax-only pass over every .cc of the project.

The normal build uses g++; this keeps the code compiling with clang (the fuzz
build needs it) by checking every file with clang++ in syntax-only mode, with
the defines and include directories CMake gave the file in
compile_commands.json. A .cc that no target builds (bench/probe.cc) is checked
with the source root and lib/ as include directories.

To stay fast on two cores, every <...> header the sources include is parsed
once into a precompiled header (build/clang-syntax/system.pch) that each check
loads. A file that fails with it is checked again without it, so the PCH can
only speed a check up, never make one fail.

  clang_syntax.py --build BUILD_DIR --source SOURCE_DIR [--clang clang++] [-j 2]

Exits 1, printing clang's errors, if any file does not compile.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import time

# Only what changes the meaning of the code: defines, include directories,
# the language standard. Warning and optimisation flags are g++'s business.
KEEP_WITH_VALUE = ("-D", "-I", "-isystem", "-iquote", "-include", "-U")
KEEP_PREFIX = ("-D", "-I", "-isystem", "-iquote", "-include", "-std=", "-U")
PER_FILE_TIMEOUT = 180
SKIP_DIRS = {".git", ".cache", "__pycache__", "bench-build"}


def flags_of(entry):
    args = entry.get("arguments") or shlex.split(entry["command"])
    out = []
    i = 1
    while i < len(args):
        a = args[i]
        if a in KEEP_WITH_VALUE and i + 1 < len(args):
            out.append(a + args[i + 1])  # one word: -Idir, -isystemdir
            i += 2
            continue
        if a.startswith(KEEP_PREFIX):
            out.append(a)
        i += 1
    return out


def source_dirs(root):
    """The source tree's directories, without build trees and VCS folders."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIP_DIRS and not d.startswith("build")
            and not os.path.exists(os.path.join(dirpath, d, "CMakeCache.txt")))
        yield dirpath, sorted(filenames)


def sources(root):
    for dirpath, filenames in source_dirs(root):
        for f in filenames:
            if f.endswith(".cc"):
                yield os.path.realpath(os.path.join(dirpath, f))


INCLUDE_RE = re.compile(r"^\s*#\s*include\s*<([^>]+)>", re.M)


def system_headers(root):
    found = set()
    for dirpath, filenames in source_dirs(root):
        for f in filenames:
            if f.endswith((".cc", ".h")):
                with open(os.path.join(dirpath, f), errors="replace") as src:
                    found.update(INCLUDE_RE.findall(src.read()))
    return sorted(found)


def build_pch(clang, root, out_dir, entries):
    """The project's system headers as one PCH, with only the defines every
    file shares (clang refuses a PCH whose defines conflict with the file's,
    and accepts one that lacks some). None if it cannot be built."""
    common = None
    dirs, std = [], "-std=c++20"
    for _, flags in entries:
        defs = [f for f in flags if f.startswith("-D")]
        common = defs if common is None else [d for d in common if d in defs]
        for f in flags:
            if f.startswith("-std="):
                std = f
            elif f.startswith(("-I", "-isystem")) and f not in dirs:
                dirs.append(f)
    os.makedirs(out_dir, exist_ok=True)
    header = os.path.join(out_dir, "system.h")
    pch = os.path.join(out_dir, "system.pch")
    with open(header, "w") as h:
        h.write("".join(f"#include <{name}>\n" for name in system_headers(root)))
    # -fpch-instantiate-templates: the PCH's own template instances are made
    # once here, not again in every file (0.5 s a file without it).
    cmd = [clang, "-x", "c++-header", std, "-w", "-fpch-instantiate-templates",
           *(common or []), *dirs, header, "-o", pch]
    r = run(cmd)
    if r.returncode != 0:
        print("clang-syntax: no precompiled header (each file parses its headers):\n" + r.stderr)
        return None
    return pch


def run(cmd, cwd=None):
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=PER_FILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 1, "", f"timed out after {PER_FILE_TIMEOUT} s: {cmd}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--clang", default="clang++")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--no-pch", action="store_true", help="parse every header in every file")
    opts = ap.parse_args()
    opts.build = os.path.realpath(opts.build)

    with open(os.path.join(opts.build, "compile_commands.json")) as f:
        db = json.load(f)
    by_file = {}
    for e in db:
        path = os.path.realpath(os.path.join(e.get("directory", ""), e["file"]))
        by_file.setdefault(path, (e.get("directory", opts.build), flags_of(e)))

    root = os.path.realpath(opts.source)
    fallback = ["-std=c++20", "-I" + root, "-I" + os.path.join(root, "lib")]
    jobs = []
    for path in sources(root):
        cwd, flags = by_file.get(path, (opts.build, fallback))
        jobs.append((path, cwd, flags))

    start = time.monotonic()
    pch = None if opts.no_pch else build_pch(
        opts.clang, root, os.path.join(opts.build, "clang-syntax"), list(by_file.values()))

    without_pch = []  # list.append is atomic: safe from the pool's threads

    def check(job):
        path, cwd, flags = job
        cmd = [opts.clang, "-fsyntax-only", "-w", *flags, path]
        if pch:
            r = run(cmd[:3] + ["-include-pch", pch] + cmd[3:], cwd=cwd)
            if r.returncode == 0:
                return path, 0, ""
            without_pch.append(path)
            if os.environ.get("CLANG_SYNTAX_DEBUG"):
                sys.stderr.write(f"{path} with the PCH:\n{r.stderr}")
        r = run(cmd, cwd=cwd)
        return path, r.returncode, r.stderr

    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=opts.j) as pool:
        for path, rc, err in pool.map(check, jobs):
            if rc != 0:
                failed.append(path)
                sys.stdout.write(err)
    took = time.monotonic() - start
    rel = [os.path.relpath(p, root) for p in failed]
    again = f" ({len(without_pch)} checked again without the PCH)" if without_pch else ""
    print(f"clang -fsyntax-only: {len(jobs) - len(failed)}/{len(jobs)} files clean in {took:.0f} s"
          + again + (f"; failed: {' '.join(rel)}" if rel else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
