"""A launcher where torchrun cannot be used (Debian's torchrun of torch 1.13 fails on Python 3.11
before it starts a worker): N processes of `python3 -m tlr_torch run …` on this node with the
variables torchrun would set. Several nodes use a static rendezvous, as torchrun's does: every node
runs this launcher with the same --nnodes, --master-addr and --master-port (node 0's address) and
its own --node-rank; global ranks are node_rank * nproc + local rank. If one rank dies, this node's
other ranks are stopped and its node rank, global rank and status are named."""

import os
import signal
import socket
import subprocess
import sys
import time


# Each rank starts without the working folder on sys.path (a numpy.py there would run as the rank imports numpy),
# with this package's parent first: what `python3 -m tlr_torch` does, less the folder it was started in.
_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BOOT = (
    "import sys,os;sys.path[:]=[p for p in sys.path if p and os.path.abspath(p)!=os.getcwd()];"
    f"sys.path.insert(0,{_PARENT!r});import runpy;runpy.run_module('tlr_torch',run_name='__main__',alter_sys=True)"
)


def engine_command(*args):
    """`python3 -m tlr_torch ARGS` started safely: the working folder is not on sys.path."""
    return [sys.executable, "-c", _BOOT, *args]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(nproc, rest, port=0, nnodes=1, node_rank=0, master_addr="127.0.0.1"):
    if nproc < 1:
        print("--nproc must be at least 1", file=sys.stderr)
        return 2
    if nnodes < 1 or not 0 <= node_rank < nnodes:
        print(f"--node-rank must be from 0 to {nnodes - 1} (--nnodes {nnodes}), not {node_rank}", file=sys.stderr)
        return 2
    if nnodes > 1 and not port:
        print("several nodes need --master-port: the port node 0 listens on, the same on every node", file=sys.stderr)
        return 2
    port = port or free_port()
    procs = []
    for local in range(nproc):
        env = {
            **os.environ,
            "MASTER_ADDR": master_addr,
            "MASTER_PORT": str(port),
            "WORLD_SIZE": str(nproc * nnodes),
            "RANK": str(node_rank * nproc + local),
            "LOCAL_RANK": str(local),
            "GROUP_RANK": str(node_rank),
            "TLR_LAUNCHER": "tlr_torch launch" + (f" (node {node_rank} of {nnodes})" if nnodes > 1 else ""),
        }
        procs.append(subprocess.Popen(engine_command("run", *rest), env={**env, "PYTHONSAFEPATH": "1"}))
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
            local, code = failed[0]
            where = f"node {node_rank}, global rank {node_rank * nproc + local}" if nnodes > 1 else f"rank {local}"
            print(
                f"tlr_torch launch: {where} exited with status {code}; the other ranks of this node were stopped",
                file=sys.stderr,
            )
            return code
        if all(c is not None for c in codes):
            return max(codes)
        time.sleep(0.2)
