#!/usr/bin/env python3
"""End-to-end check of `liftoff launch` with the bundled hello job, as a local process.

usage: launch_hello.py <liftoff CLI> <examples/jobs/hello>
"""

import json
import subprocess
import sys


def launch(cli, job, run_config):
    config = json.dumps({"overrides": {"run_config": run_config}})
    return subprocess.run([cli, "launch", "--resource", "local-process", "--uri", job, "--entry-point", "python3 job.py", "--project", "cli-check",
                           "--config", config], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)


def expect(cond, what, r):
    if not cond:
        print(f"FAIL: {what}\nexit code: {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}")
        sys.exit(1)


def main():
    cli, job = sys.argv[1], sys.argv[2]

    r = launch(cli, job, {"steps": 2, "lr": 0.5})
    out = r.stdout + r.stderr
    expect(r.returncode == 0, "a finished run exits with 0", r)
    expect("hello from run " in out, "the job prints its run id", r)
    expect('config: {"lr": 0.5, "steps": 2}' in out, "the job receives its config", r)
    expect("step 2/2" in out and "step 3/" not in out, "the job honours config.steps", r)
    expect("hello: this line goes to stderr" in out, "the job's stderr is shown", r)
    expect("project: cli-check" in out, "the run gets LIFTOFF_PROJECT", r)

    r = launch(cli, job, {"fail": True, "steps": 0})
    expect(r.returncode == 1, "a run whose job exits with 1 makes the CLI exit with 1", r)
    print("ok: liftoff launch ran the hello job twice (finished, then failed as asked)")


if __name__ == "__main__":
    main()
