#!/usr/bin/env python3
"""Opens COUNT idle TCP connections to 127.0.0.1:PORT (as many as it can),
prints how many are open, then holds them until it is killed (an hour at
most). Used by a server test and benchmarks/connection_flood.py
to be one host flooding a server with connections that send nothing.

    python3 hold_connections.py PORT COUNT
"""

import resource
import socket
import sys
import time

port, count = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held = []
for _ in range(count):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        break
    held.append(s)
print(len(held), "connected", flush=True)
time.sleep(3600)
