#!/usr/bin/env python3
"""Relaunch of an unchanged local-directory job: its time, and proof that no build ran.

A small job directory (a script and a few files) is generated in a temporary
directory. The first `liftoff launch --uri DIR --job-name J --entry-point
"sh job.sh" --base-image IMG` builds its image; each relaunch of the unchanged
directory must find the image by its content tag and run it without a build.
The proof, for every relaunch:
  - liftoff's stderr says "image … is up to date; no build needed" (and not "building image");
  - the image's Id and Created time are the ones the first launch made;
  - the engine's event stream over the relaunch (`docker events --since … --until …`)
    has no image event (a build tags its image: the first launch's window shows that
    `tag` event, so the filter would see one) and exactly the one container the run
    makes (a classic build also makes a container per COPY/RUN step).
For scale, the same image is also run with `docker run --rm` and with
`liftoff launch --docker-image`, alternated with the relaunches. The image and
the directory are removed afterwards.

    benchmarks/docker_relaunch.py                  # 10 relaunches
    benchmarks/docker_relaunch.py --relaunches 20 --files 200
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from docker_common import (DEFAULT_IMAGE, bench_env, find_docker, find_liftoff, median, ms, require_image,
                           timed)


def events(docker, env, since, until):
    """The engine's events between two unix times (fractional), as dicts."""
    p = subprocess.run([docker, "events", "--since", f"{since:.6f}", "--until", f"{until:.6f}",
                        "--format", "{{json .}}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    if p.returncode != 0:
        sys.exit(f"docker events failed: {p.stderr.strip()}")
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def summarize(evs):
    images = [f"{e.get('Action')} {e.get('Actor', {}).get('Attributes', {}).get('name', e.get('id', ''))}"
              for e in evs if e.get("Type") == "image"]
    created = [e for e in evs if e.get("Type") == "container" and e.get("Action") == "create"]
    return images, len(created)


def image_record(docker, env, image):
    p = subprocess.run([docker, "image", "inspect", "--format", "{{.Id}} {{.Created}}", image], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"the engine has no image {image}: {p.stderr.strip()}")
    return p.stdout.strip()


def window(docker, env, argv):
    """Runs argv timed, and returns (seconds, stderr, events during it)."""
    since = time.time()
    t, p = timed(argv, env, capture=True)
    until = time.time() + 0.001
    # The engine publishes an event as it happens; a short pause lets the last one land before --until.
    time.sleep(0.05)
    return t, p.stderr, events(docker, env, since - 0.001, until)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--relaunches", type=int, default=10)
    ap.add_argument("--files", type=int, default=50, help="files in the job directory besides its script")
    ap.add_argument("--image", default=DEFAULT_IMAGE, help="the base image")
    ap.add_argument("--liftoff", help="the liftoff CLI (default: build*/examples/liftoff)")
    ap.add_argument("--docker", help="the docker client (default: /usr/bin/docker)")
    a = ap.parse_args()

    env = bench_env()
    liftoff, docker = find_liftoff(a.liftoff), find_docker(a.docker)
    require_image(docker, a.image, env)

    job_dir = tempfile.mkdtemp(prefix="liftoff-relaunch-bench-")
    job = "relaunch-bench-" + os.path.basename(job_dir).rsplit("-", 1)[-1].lower()
    built = None
    failures = []
    try:
        with open(os.path.join(job_dir, "job.sh"), "w") as f:
            f.write("echo relaunch-bench\n")
        os.makedirs(os.path.join(job_dir, "data"))
        for i in range(a.files):
            with open(os.path.join(job_dir, "data", f"f{i}.bin"), "wb") as f:
                f.write(os.urandom(4096 + 97 * i))
        launch = [liftoff, "launch", "--uri", job_dir, "--job-name", job, "--entry-point", "sh job.sh",
                  "--base-image", a.image]
        print(f"job: {job_dir} ({a.files + 1} files)")
        print(f"liftoff: {' '.join(launch)}")

        t_first, err, evs = window(docker, env, launch)
        m = re.search(r"building image (\S+)", err)
        if not m:
            sys.exit(f"the first launch did not build:\n{err}")
        built = m.group(1)
        first_images, first_containers = summarize(evs)
        record = image_record(docker, env, built)
        print(f"first launch (builds {built}): {ms(t_first)}")
        print(f"  image Id/Created: {record}")
        print(f"  engine events: image {first_images}, containers created {first_containers}")

        run_image = [docker, "run", "--rm", built]
        lift_image = [liftoff, "launch", "--docker-image", built]
        timed(run_image, env)  # warm-up
        timed(lift_image, env)

        t_re, t_run, t_lift_img = [], [], []
        for i in range(a.relaunches):
            t, err, evs = window(docker, env, launch)
            images, containers = summarize(evs)
            up_to_date = f"image {built} is up to date; no build needed" in err
            building = "building image" in err
            same = image_record(docker, env, built) == record
            ok = up_to_date and not building and same and not images and containers == 1
            if not ok:
                failures.append(f"relaunch {i + 1}: up-to-date line {up_to_date}, 'building' {building}, "
                                f"image unchanged {same}, image events {images}, containers {containers}")
            t_re.append(t)
            t_run.append(timed(run_image, env)[0])
            t_lift_img.append(timed(lift_image, env)[0])

        print(f"relaunches: {a.relaunches}")
        print(f"relaunch (unchanged dir)           median {ms(median(t_re))}  (min {ms(min(t_re))}, "
              f"max {ms(max(t_re))})")
        print(f"liftoff launch --docker-image same median {ms(median(t_lift_img))}")
        print(f"docker run --rm same image         median {ms(median(t_run))}")
        print(f"relaunch / docker run              {median(t_re) / median(t_run):.3f}")
        print(f"relaunch / first launch (build)    {median(t_re) / t_first:.3f}")
        if failures:
            print("proof FAILED:")
            for f in failures:
                print("  " + f)
        else:
            print(f"proof: every relaunch said \"image {built} is up to date; no build needed\", never "
                  f"\"building image\"; the image's Id and Created stayed {record}; the engine's events over each "
                  f"relaunch held no image event (the first launch's held {first_images}) and one container "
                  f"create (the run's; the first launch's held {first_containers})")
        print(f"goal: no build on relaunch: {'MET' if not failures else 'MISSED'}")
    finally:
        if built:
            subprocess.run([docker, "rmi", "-f", built], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        shutil.rmtree(job_dir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
