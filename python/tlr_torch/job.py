"""A job: the run folder tlr prepared (plan.json, manifest.json, job.json), read and checked."""

import json
import os

from . import JOB_FORMAT, JOB_VERSION, PLAN_FORMAT, PLAN_VERSION
from .data import read_manifest
from .errors import EngineError


def _read_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError as e:
        raise EngineError(
            f"{os.path.dirname(path)} has no {os.path.basename(path)}: it is not a run folder tlr prepared for the"
            f" torch engine ({what})"
        ) from e
    except (OSError, ValueError) as e:
        raise EngineError(f"{path} is damaged ({e}); prepare the run again with tlr") from e


def _check_version(doc, path, fmt, version, what):
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise EngineError(
            f"{path} is not a {what} (format {doc.get('format') if isinstance(doc, dict) else None!r}, expected"
            f" {fmt!r})"
        )
    if doc.get("version") != version:
        newer = isinstance(doc.get("version"), int) and doc["version"] > version
        raise EngineError(
            f"{path} is a version {doc.get('version')} {what}, and this engine reads version {version}: "
            + (
                "it was written by a newer tlr; update the engine (tlr export --torchrun writes its own copy)"
                if newer
                else "rewrite it with this tlr"
            )
        )


class Job:
    def __init__(self, run_dir, data_root=None):
        self.dir = os.path.abspath(run_dir)
        job_file = os.path.join(self.dir, "job.json")
        self.job = _read_json(job_file, "job.json says which network, weights and layers to use")
        _check_version(self.job, job_file, JOB_FORMAT, JOB_VERSION, "tlr torch job")
        plan_file = os.path.join(self.dir, "plan.json")
        self.plan = _read_json(plan_file, "the plan")
        _check_version(self.plan, plan_file, PLAN_FORMAT, PLAN_VERSION, "tlr plan")
        if self.plan.get("features"):
            # `features int8` changes the cached features; this engine computes them in float only (tlr refuses such a
            # plan before writing a job; this holds for a job folder edited by hand).
            raise EngineError(
                f"{plan_file} asks for int8 features (`features int8`), which the torch engine does not compute: run"
                " the recipe on the tfjs engine, or remove the line and prepare the job again"
            )
        self.classes, self.splits, self.label_sets = read_manifest(os.path.join(self.dir, "manifest.json"), data_root)
        multi = self.plan.get("task") == "multi-label"
        if multi != (self.label_sets is not None):
            raise EngineError(
                f"{os.path.join(self.dir, 'manifest.json')} {'has no' if multi else 'has'} labelSets, but the plan is"
                f" {'multi' if multi else 'single'}-label: write the job again"
            )
        if self.classes != self.plan["data"]["classes"]:
            raise EngineError(
                f"{os.path.join(self.dir, 'manifest.json')} lists the classes {self.classes}, but the plan has"
                f" {self.plan['data']['classes']}"
            )
        weights = self.job.get("weights")
        self.weights = None
        if weights:
            p = weights["path"] if os.path.isabs(weights["path"]) else os.path.join(self.dir, weights["path"])
            if not os.path.isfile(p):
                raise EngineError(
                    f"the starting weights {p} (job.json) do not exist: tlr run --engine torch prepares them; for a job"
                    " folder, keep weights.safetensors beside job.json"
                )
            self.weights = p

    @property
    def layers(self):
        return self.job["network"]["layers"]

    def path(self, *parts):
        return os.path.join(self.dir, *parts)
