"""tlr's PyTorch engine: runs a tlr plan (plan.json + manifest.json + job.json) with torch and
torchvision, on one process or many (DistributedDataParallel, gloo on CPU, nccl on CUDA).

Only torch, torchvision, numpy and Pillow are used. `python3 -m tlr_torch --help` lists commands.
"""

# The job format this engine reads; tlr writes it (src/runtime/torch/job.ts).
JOB_FORMAT = "tlr-torch-job"
JOB_VERSION = 1
PLAN_FORMAT = "tlr-plan"
PLAN_VERSION = 1
MANIFEST_FORMAT = "tlr-manifest"
MANIFEST_VERSION = 1
ENGINE_VERSION = "1"
