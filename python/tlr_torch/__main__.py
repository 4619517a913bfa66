"""python3 -m tlr_torch COMMAND: `run RUN_DIR` (one rank; WORLD_SIZE/RANK/… from the environment, as
torchrun sets them), `launch --nproc N RUN_DIR` (N local ranks, where torchrun cannot be used),
`check` (what this Python offers, as JSON, for `tlr doctor`)."""

import argparse
import json
import os
import sys
import traceback


def _check():
    info = {"python": sys.version.split()[0], "executable": sys.executable}
    try:
        import torch
        import torchvision

        info.update(
            torch=torch.__version__,
            torchvision=torchvision.__version__,
            cuda=[torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
            gloo=torch.distributed.is_available() and torch.distributed.is_gloo_available(),
            nccl=torch.distributed.is_available() and torch.distributed.is_nccl_available(),
            threads=torch.get_num_threads(),
        )
        from .network import NETWORKS

        info["networks"] = sorted(NETWORKS)
    except ImportError as e:
        info["missing"] = str(e)
    print(json.dumps(info))
    return 0


def _run(args):
    # Imported here: `check` must answer even where torch is missing.
    from .dist import World
    from .errors import EngineError
    from .events import Events
    from .job import Job
    from .run import run

    rank = int(os.environ.get("RANK", "0"))
    events = Events(rank)
    world = None
    release = None
    try:
        # A job folder launched without tlr (launch.sh): rank 0 holds its lock; under `tlr run` tlr holds it.
        if rank == 0 and not os.environ.get("TLR_PARENT_PID"):
            from .files import lock_folder

            release = lock_folder(args.run_dir)
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        job = Job(args.run_dir, args.data_root)
        world = World(args.device)
        if args.workers is not None and args.workers < 0:
            raise EngineError(f"--workers {args.workers}: give 0 or more loader processes")
        status = run(job, world, events, amp=args.amp, workers=args.workers)
        return 0 if status == "finished" else 130
    except EngineError as e:
        events.emit("error", message=str(e), rank=rank)
        return e.exit_code
    except KeyboardInterrupt:
        events.emit("error", message="stopped at once (a second Ctrl-C); the last checkpoint is kept", rank=rank)
        return 130
    except Exception as e:  # a bug: the traceback goes to stderr, the launcher shows its end
        traceback.print_exc()
        events.emit("error", message=f"the torch engine failed: {type(e).__name__}: {e}", rank=rank)
        return 1
    finally:
        if world:
            world.close()
        if release:
            release()


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m tlr_torch", description="tlr's PyTorch engine")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run one rank of a prepared run folder")
    r.add_argument("run_dir")
    r.add_argument("--data-root", help="where the manifest's relative image paths are (default: the root it records)")
    r.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    r.add_argument("--amp", action="store_true", help="mixed precision (float16 autocast; CUDA only)")
    r.add_argument("--threads", type=int, default=0, help="torch threads for this rank (default: torch's own choice)")
    r.add_argument(
        "--workers",
        type=int,
        default=None,
        help="image loader processes per rank (default: on CUDA a share of the cores, on the CPU 0: a thread pool)",
    )
    launch = sub.add_parser(
        "launch", help="start N local ranks of `run` (MASTER_ADDR/MASTER_PORT/WORLD_SIZE/RANK/LOCAL_RANK set for each)"
    )
    launch.add_argument("--nproc", type=int, required=True)
    launch.add_argument("--port", "--master-port", type=int, default=0, help="node 0's port (default: a free one)")
    launch.add_argument("--nnodes", type=int, default=1, help="nodes, each running this launcher (static rendezvous)")
    launch.add_argument("--node-rank", type=int, default=0, help="this node's rank, 0 to NNODES-1")
    launch.add_argument("--master-addr", default="127.0.0.1", help="node 0's address, the same on every node")
    launch.add_argument("rest", nargs=argparse.REMAINDER, help="RUN_DIR and the options of run")
    sub.add_parser("check", help="print what this Python offers, as JSON")
    args = p.parse_args(argv)
    if args.command == "check":
        return _check()
    if args.command == "launch":
        from .launch import launch

        return launch(args.nproc, args.rest, args.port, args.nnodes, args.node_rank, args.master_addr)
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
