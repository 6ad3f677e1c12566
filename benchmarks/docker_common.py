"""Shared helpers of the Docker benchmarks (docker_launch.py, docker_relaunch.py).

Not a benchmark itself: it finds the liftoff CLI and the Debian docker client,
times commands, and prints the goal lines the same way in each benchmark.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_IMAGE = "liftoff-test/busybox:latest"


def find_liftoff(given):
    """The liftoff CLI: --liftoff, $LIFTOFF_CLI, else the first build dir that has one."""
    if given:
        return str(Path(given).resolve())
    if os.environ.get("LIFTOFF_CLI"):
        return os.environ["LIFTOFF_CLI"]
    for build in sorted(ROOT.glob("build*")):
        cli = build / "examples" / "liftoff"
        if cli.is_file() and os.access(cli, os.X_OK):
            return str(cli)
    sys.exit("cannot find the liftoff CLI: build the liftoff_cli target or pass --liftoff PATH")


def find_docker(given):
    """The docker client: --docker, else /usr/bin/docker (Debian's 20.10, classic builder), else PATH."""
    for c in [given, "/usr/bin/docker", shutil.which("docker")]:
        if c and os.access(c, os.X_OK):
            return c
    sys.exit("cannot find a docker client: pass --docker PATH")


def bench_env():
    """Both sides use the engine's classic /build and the same engine."""
    env = dict(os.environ)
    env["DOCKER_BUILDKIT"] = "0"
    return env


def timed(argv, env, check=True, capture=False):
    """Runs argv; returns (seconds, CompletedProcess). stdout/stderr are
    captured when asked, else discarded (so a terminal does not slow either side)."""
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE if capture else subprocess.DEVNULL, text=True)
    t = time.perf_counter() - t0
    if check and p.returncode != 0:
        detail = ("\n" + (p.stderr or "")) if capture else ""
        sys.exit(f"failed (exit {p.returncode}): {' '.join(argv)}{detail}")
    return t, p


def median(xs):
    return statistics.median(xs)


def ms(seconds):
    return f"{seconds * 1000:8.1f} ms"


def goal_line(name, value, goal, lower_is_better=True):
    met = value <= goal if lower_is_better else value >= goal
    op = "<=" if lower_is_better else ">="
    return f"goal: {name} {op} {goal:.2f}: {'MET' if met else 'MISSED'} ({value:.3f})"


def require_image(docker, image, env):
    p = subprocess.run([docker, "image", "inspect", "--format", "{{.Id}}", image], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"the engine has no image {image} ({p.stderr.strip()}); see .ci/start-docker")
    return p.stdout.strip()
