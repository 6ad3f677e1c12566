"""liftoff's bundled example job.

Prints the run id and the config it received (LIFTOFF_CONFIG, JSON), writes
a line to stdout and one to stderr, and exits. Config keys it honours:
  steps: int   print that many progress lines (default 3)
  fail:  bool  exit with status 1 at the end
"""

import json
import os
import sys


def main() -> int:
    run_id = os.environ.get("LIFTOFF_RUN_ID", "(none)")
    raw = os.environ.get("LIFTOFF_CONFIG", "") or "{}"
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as e:
        print(f"hello: LIFTOFF_CONFIG is not JSON: {e}", file=sys.stderr)
        return 2
    if not isinstance(config, dict):
        print("hello: LIFTOFF_CONFIG is not a JSON object", file=sys.stderr)
        return 2

    print(f"hello from run {run_id}", flush=True)
    print(f"project: {os.environ.get('LIFTOFF_PROJECT', '')}", flush=True)
    print("config: " + json.dumps(config, sort_keys=True), flush=True)
    if len(sys.argv) > 1:
        print("args: " + " ".join(sys.argv[1:]), flush=True)

    steps = config.get("steps", 3)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        print(f"hello: config 'steps' must be a non-negative integer, got {steps!r}", file=sys.stderr)
        return 2
    for i in range(1, steps + 1):
        print(f"step {i}/{steps}", flush=True)

    print("hello: this line goes to stderr", file=sys.stderr, flush=True)

    if config.get("fail") is True:
        print("hello: failing as the config asked", file=sys.stderr, flush=True)
        return 1
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
