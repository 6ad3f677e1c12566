#!/usr/bin/env python3
"""Compile time: what liftoff's headers cost beyond the headers they use.

Compiles (a full -c compile, not a syntax check) three translation units,
each --repeat times, and prints the median wall time of each:

  deps      only the third-party and standard headers that the liftoff
            headers below include (found by following their #include lines,
            so the list stays true as the headers change)
  headers   <liftoff/local.hpp> and <liftoff/core/launcher.hpp>
  launch    the same, plus a function that launches a local_code_launcher
            (what a program using the local backends instantiates)

and the ratios headers/deps and launch/deps.

  benchmarks/compile_time.py [--compiler c++] [--repeat 5] [--flags "-std=c++20 -O2"]
"""

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = ROOT / "include"
ROOTS = ["liftoff/local.hpp", "liftoff/core/launcher.hpp"]
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


def reachable_includes(roots):
    """Follows liftoff's own includes from `roots`; returns (liftoff headers, external headers)."""
    seen, external, todo = [], [], list(roots)
    while todo:
        h = todo.pop()
        if h in seen:
            continue
        seen.append(h)
        path = INCLUDE / h
        if not path.is_file():
            sys.exit(f"compile_time: {h} is not in {INCLUDE}")
        for inc in INCLUDE_RE.findall(path.read_text()):
            if inc.startswith("liftoff/"):
                todo.append(inc)
            elif (INCLUDE / path.parent.relative_to(INCLUDE) / inc).is_file():
                todo.append(str(path.parent.relative_to(INCLUDE) / inc))
            elif inc not in external:
                external.append(inc)
    return seen, sorted(external)


def compile_once(compiler, flags, source, out):
    cmd = [compiler, *flags, f"-I{INCLUDE}", "-c", str(source), "-o", str(out)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.perf_counter() - t0
    return elapsed, r.returncode, r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compiler", default=os.environ.get("CXX", "c++"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--flags", default="-std=c++20 -O2")
    args = ap.parse_args()
    flags = shlex.split(args.flags)

    headers, external = reachable_includes(ROOTS)
    roots = "".join(f"#include <{h}>\n" for h in ROOTS)
    units = {
        "deps": "".join(f"#include <{h}>\n" for h in external) + "int main() { return 0; }\n",
        "headers": roots + "int main() { return 0; }\n",
        "launch": roots + (
            "liftoff::result<liftoff::local_code_launcher::run_type>\n"
            "launch_local(liftoff::launch_spec spec, liftoff::launch_options const& options) {\n"
            "  liftoff::local_code_launcher launcher;\n"
            "  return launcher.try_launch(std::move(spec), options);\n"
            "}\n"
            "int main() { return 0; }\n"),
    }

    print(f"compiler: {args.compiler} {' '.join(flags)}")
    print(f"liftoff headers reached: {len(headers)}; the headers they include: {len(external)}")
    print("  " + " ".join(external))
    medians = {}
    with tempfile.TemporaryDirectory(prefix="liftoff-compile-time-") as tmp:
        for name, text in units.items():
            src = Path(tmp) / f"{name}.cpp"
            src.write_text(text)
            times = []
            for _ in range(args.repeat):
                t, rc, out = compile_once(args.compiler, flags, src, Path(tmp) / f"{name}.o")
                if rc != 0:
                    print(f"{name}: does not compile:\n{out}", file=sys.stderr)
                    break
                times.append(t)
            if times:
                medians[name] = statistics.median(times)
                print(f"{name:8} {medians[name]:7.2f} s  (median of {len(times)})")
    if "deps" not in medians:
        return 1
    for name in ("headers", "launch"):
        if name in medians:
            print(f"ratio {name}/deps {medians[name] / medians['deps']:6.2f}")
    return 0 if len(medians) == len(units) else 1


if __name__ == "__main__":
    sys.exit(main())
