"""A launcher for one machine where torchrun cannot be used (Debian's torchrun of torch 1.13 fails
on Python 3.11 before it starts a worker): N processes of `python3 -m tlr_torch run …` with the
variables torchrun would set. If one rank dies, the others are stopped and its status returned."""

import os
import signal
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(nproc, rest, port=0):
    if nproc < 1:
        print("--nproc must be at least 1", file=sys.stderr)
        return 2
    port = port or free_port()
    procs = []
    for rank in range(nproc):
        env = {
            **os.environ,
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "WORLD_SIZE": str(nproc),
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "TLR_LAUNCHER": "tlr_torch launch",
        }
        procs.append(subprocess.Popen([sys.executable, "-m", "tlr_torch", "run", *rest], env=env))
    forward = lambda sig, _: [p.send_signal(sig) for p in procs if p.poll() is None]  # noqa: E731
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    while True:
        codes = [p.poll() for p in procs]
        failed = [(r, c) for r, c in enumerate(codes) if c not in (None, 0, 130)]
        if failed:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
            rank, code = failed[0]
            print(
                f"tlr_torch launch: rank {rank} exited with status {code}; the other ranks were stopped",
                file=sys.stderr,
            )
            return code
        if all(c is not None for c in codes):
            return max(codes)
        time.sleep(0.2)
