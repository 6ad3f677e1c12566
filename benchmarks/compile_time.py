#!/usr/bin/env python3
"""Compile time: what a translation unit that launches a job with liftoff costs.

Compiles these translation units, each --repeat times (the rounds go through
every unit in turn, so a change in the machine's load touches them alike), and
prints the median wall time of each:

  boost_only                 <boost/beast/http.hpp> and <boost/json.hpp>, a
                             trivial main: the floor, what any program using
                             Beast's HTTP and Boost.JSON compiles
  docker_launch              separate-compilation mode (LIFTOFF_SEPARATE_COMPILATION,
                             BOOST_ASIO_SEPARATE_COMPILATION, BOOST_BEAST_SEPARATE_COMPILATION,
                             BOOST_ASIO_NO_DEPRECATED, as liftoff::compiled defines
                             them): <liftoff/docker/launchers.hpp> and a function that
                             launches one job with liftoff::docker_code_launcher
                             (try_launch), so the launcher template is instantiated
  docker_launch_header_only  the same without the definitions (header-only mode)

with a full compile (-c), and two parses (-fsyntax-only):

  concepts                   <liftoff/core/concepts.hpp> alone
  boost_json_parse           <boost/json.hpp> alone, for scale

It prints each unit's preprocessed size in lines (-E; this pass also warms
the page cache before anything is timed), each median, the ratios, and the
goals with whether they are met:

  docker_launch / boost_only  <= 1.5
  concepts parse              <  0.5 s

A unit that does not compile prints the compiler's output, and the script
exits with status 1.

  benchmarks/compile_time.py [--compiler c++] [--repeat 3] [--flags "-std=c++20 -O2"]
"""

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = ROOT / "include"

# What liftoff::compiled defines for its users (CMakeLists.txt, meson.build).
SEPARATE = [
    "-DLIFTOFF_SEPARATE_COMPILATION",
    "-DBOOST_ASIO_SEPARATE_COMPILATION",
    "-DBOOST_BEAST_SEPARATE_COMPILATION",
    "-DBOOST_ASIO_NO_DEPRECATED",
]

RATIO_GOAL = 1.5
PARSE_GOAL = 0.5


def launch_unit(header_only):
    """A source that launches one job with docker_code_launcher, and fails to
    compile if liftoff is not in the mode it is meant to measure."""
    check = ("#if !LIFTOFF_HEADER_ONLY\n#error this unit measures header-only mode\n#endif\n" if header_only else
             "#if LIFTOFF_HEADER_ONLY\n#error this unit measures LIFTOFF_SEPARATE_COMPILATION\n#endif\n")
    return (
        "#include <liftoff/docker/launchers.hpp>\n"
        "\n"
        "#include <utility>\n"
        "\n" + check + "\n"
        "liftoff::result<liftoff::docker_code_launcher::run_type>\n"
        "launch_one(liftoff::launch_spec spec, liftoff::launch_options const& options) {\n"
        "  liftoff::docker_code_launcher launcher;\n"
        "  return launcher.try_launch(std::move(spec), options);\n"
        "}\n"
        "\n"
        "int main() { return 0; }\n")


# name: (source, extra flags, "compile" for -c or "parse" for -fsyntax-only)
UNITS = {
    "boost_only": (
        "#include <boost/beast/http.hpp>\n#include <boost/json.hpp>\n\nint main() { return 0; }\n", [], "compile"),
    "docker_launch": (launch_unit(header_only=False), SEPARATE, "compile"),
    "docker_launch_header_only": (launch_unit(header_only=True), [], "compile"),
    "concepts": ("#include <liftoff/core/concepts.hpp>\n", [], "parse"),
    "boost_json_parse": ("#include <boost/json.hpp>\n", [], "parse"),
}


def command(compiler, flags, extra, mode, source, obj):
    cmd = [compiler, *flags, *extra, f"-I{INCLUDE}"]
    if mode == "compile":
        return cmd + ["-c", str(source), "-o", str(obj)]
    return cmd + ["-fsyntax-only", str(source)]


def run(cmd):
    """Runs `cmd`; returns (wall seconds, exit status, stdout, stderr)."""
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        sys.exit(f"compile_time: cannot run the compiler `{cmd[0]}` (set --compiler or CXX)")
    return time.perf_counter() - t0, r.returncode, r.stdout, r.stderr.decode(errors="replace")


def preprocessed_lines(compiler, flags, extra, source):
    """The line count of `source` preprocessed (`-E | wc -l`), or (None, compiler output)."""
    _, rc, out, err = run([compiler, *flags, *extra, f"-I{INCLUDE}", "-E", str(source)])
    if rc != 0:
        return None, err
    return out.count(b"\n"), ""


def verdict(met):
    return "met" if met else "NOT met"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compiler", default=os.environ.get("CXX", "c++"),
                    help="the C++ compiler (default: $CXX, else c++)")
    ap.add_argument("--repeat", type=int, default=3, help="timed compiles per unit; the median is printed (default 3)")
    ap.add_argument("--flags", default="-std=c++20 -O2", help='compiler flags (default "-std=c++20 -O2")')
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    flags = shlex.split(args.flags)

    print(f"compiler: {args.compiler} {' '.join(flags)} -I{INCLUDE}")
    print(f"separate compilation: {' '.join(SEPARATE)}")
    failed = set()
    times = {name: [] for name in UNITS}
    with tempfile.TemporaryDirectory(prefix="liftoff-compile-time-") as tmp:
        sources = {}
        for name, (text, _, _) in UNITS.items():
            sources[name] = Path(tmp) / f"{name}.cpp"
            sources[name].write_text(text)

        lines = {}
        for name, (_, extra, _) in UNITS.items():
            n, err = preprocessed_lines(args.compiler, flags, extra, sources[name])
            if n is None:
                failed.add(name)
                print(f"\n{name}: does not preprocess:\n{err}", file=sys.stderr)
            else:
                lines[name] = n

        for _ in range(args.repeat):
            for name, (_, extra, mode) in UNITS.items():
                if name in failed:
                    continue
                cmd = command(args.compiler, flags, extra, mode, sources[name], Path(tmp) / f"{name}.o")
                t, rc, out, err = run(cmd)
                if rc != 0:
                    failed.add(name)
                    print(f"\n{name}: does not compile:\n$ {shlex.join(cmd)}\n{out.decode(errors='replace')}{err}",
                          file=sys.stderr)
                    continue
                times[name].append(t)

    medians = {name: statistics.median(ts) for name, ts in times.items() if name not in failed and ts}
    print()
    print(f"{'unit':27} {'mode':14} {'median':>9} {'preprocessed':>14}")
    for name, (_, _, mode) in UNITS.items():
        kind = "-c" if mode == "compile" else "-fsyntax-only"
        time_text = f"{medians[name]:7.2f} s" if name in medians else "   failed"
        lines_text = f"{lines[name]:,} lines" if name in lines else "-"
        print(f"{name:27} {kind:14} {time_text:>9} {lines_text:>14}")
    if args.repeat > 1:
        print(f"(median of {args.repeat} runs each)")

    print()
    rows = []
    if "docker_launch" in medians and "boost_only" in medians:
        ratio = medians["docker_launch"] / medians["boost_only"]
        rows.append(("docker_launch / boost_only", f"{ratio:.2f}", f"goal <= {RATIO_GOAL}: {verdict(ratio <= RATIO_GOAL)}"))
    else:
        rows.append(("docker_launch / boost_only", "-", "a unit failed"))
    if "docker_launch_header_only" in medians and "boost_only" in medians:
        rows.append(("docker_launch_header_only / boost_only",
                     f"{medians['docker_launch_header_only'] / medians['boost_only']:.2f}", "header-only, for comparison"))
    if "docker_launch_header_only" in medians and "docker_launch" in medians:
        rows.append(("docker_launch_header_only / docker_launch",
                     f"{medians['docker_launch_header_only'] / medians['docker_launch']:.2f}",
                     "what separate compilation saves the unit"))
    if "concepts" in medians:
        c = medians["concepts"]
        rows.append(("concepts parse", f"{c:.2f} s", f"goal < {PARSE_GOAL} s: {verdict(c < PARSE_GOAL)}"))
    else:
        rows.append(("concepts parse", "-", "the unit failed"))
    if "boost_json_parse" in medians:
        rows.append(("<boost/json.hpp> parse", f"{medians['boost_json_parse']:.2f} s", "for scale"))
    for label, value, note in rows:
        print(f"{label:42} {value:>7}   {note}")

    if failed:
        print(f"\nfailed: {', '.join(n for n in UNITS if n in failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
