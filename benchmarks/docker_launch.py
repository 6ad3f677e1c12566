#!/usr/bin/env python3
"""Launch overhead: `liftoff launch --docker-image IMG` beside `docker run --rm IMG`.

Both run the same image with the same command: by default the image's own
(busybox's `/bin/sh`, which exits at once with no stdin), or `--command`
(e.g. `true`: liftoff gets `-E true`, docker gets `true` after the image).
Each pair runs both once; the order alternates from pair to pair so a drift
in the machine's load falls on both sides. One untimed pair runs first.
Both discard their output. The figure is the median of the per-pair ratios
liftoff/docker, beside the two medians. The goal is at most 1.05.

    benchmarks/docker_launch.py                       # 15 pairs
    benchmarks/docker_launch.py --pairs 30 --command true
    benchmarks/docker_launch.py --liftoff build/examples/liftoff --docker /usr/bin/docker
"""

import argparse
import sys

from docker_common import (DEFAULT_IMAGE, bench_env, find_docker, find_liftoff, goal_line, median, ms,
                           require_image, timed)

GOAL = 1.05


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=15, help="timed pairs (at least 10)")
    ap.add_argument("--image", default=DEFAULT_IMAGE)
    ap.add_argument("--command", default="", help="command instead of the image's default (e.g. true)")
    ap.add_argument("--liftoff", help="the liftoff CLI (default: build*/examples/liftoff)")
    ap.add_argument("--docker", help="the docker client (default: /usr/bin/docker)")
    ap.add_argument("--verbose", action="store_true", help="print every pair")
    a = ap.parse_args()
    if a.pairs < 10:
        sys.exit("--pairs: at least 10")

    env = bench_env()
    liftoff, docker = find_liftoff(a.liftoff), find_docker(a.docker)
    require_image(docker, a.image, env)

    lift_cmd = [liftoff, "launch", "--docker-image", a.image]
    dock_cmd = [docker, "run", "--rm", a.image]
    if a.command:
        lift_cmd += ["-E", a.command]
        dock_cmd += a.command.split()

    print(f"liftoff: {' '.join(lift_cmd)}")
    print(f"docker:  {' '.join(dock_cmd)}")

    timed(lift_cmd, env)  # warm-up: binaries, page cache, the engine's image record
    timed(dock_cmd, env)

    t_lift, t_dock, ratios = [], [], []
    for i in range(a.pairs):
        if i % 2 == 0:
            tl, _ = timed(lift_cmd, env)
            td, _ = timed(dock_cmd, env)
        else:
            td, _ = timed(dock_cmd, env)
            tl, _ = timed(lift_cmd, env)
        t_lift.append(tl)
        t_dock.append(td)
        ratios.append(tl / td)
        if a.verbose:
            print(f"  pair {i + 1:2d}: liftoff {ms(tl)}  docker {ms(td)}  ratio {tl / td:.3f}")

    r = median(ratios)
    print(f"pairs: {a.pairs} (alternating order, after one untimed pair)")
    print(f"liftoff launch --docker-image  median {ms(median(t_lift))}  (min {ms(min(t_lift))})")
    print(f"docker run --rm                median {ms(median(t_dock))}  (min {ms(min(t_dock))})")
    print(f"median ratio liftoff/docker    {r:.3f}  (ratio of the medians {median(t_lift) / median(t_dock):.3f})")
    print(goal_line("median ratio", r, GOAL))
    return 0


if __name__ == "__main__":
    sys.exit(main())
