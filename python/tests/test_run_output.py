"""A real run of the engine on a job folder tlr wrote (tlr export --torchrun, from the built CLI):
every event it prints and every file it writes is valid against schema/."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from conftest import REPO

CLI = os.path.join(REPO, "dist", "cli", "bin.js")
COLORS = {"red": (200, 40, 40), "green": (40, 180, 60), "blue": (50, 60, 200)}


def _export_and_run(node, d):
    """d/r.tlr exported as a job folder by the built CLI, then run as one process: the job and the run."""
    job = d / "job"
    w = subprocess.run([node, CLI, "export", str(d / "r.tlr"), "--torchrun", str(job)], capture_output=True, text=True)
    assert w.returncode == 0, w.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env["PYTHONPATH"] = str(job)
    r = subprocess.run(
        [sys.executable, "-m", "tlr_torch", "run", str(job), "--threads", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return job, r


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    node = shutil.which("node")
    if not node or not os.path.exists(CLI):
        pytest.skip(f"needs Node and the built CLI ({CLI}): run npm install (it builds) first")
    d = tmp_path_factory.mktemp("run")
    for c, rgb in COLORS.items():
        os.makedirs(d / "data" / c)
        for i in range(8):
            Image.new("RGB", (12, 12), tuple(max(0, v - 3 * i) for v in rgb)).save(d / "data" / c / f"{i}.png")
    (d / "r.tlr").write_text(
        "from resnet18 weights none input 32\nhead dense(3)\ntrain 2 epochs on ./data\n  batch 4\nsplit 50/25/25\n"
    )
    job, r = _export_and_run(node, d)
    assert r.returncode == 0, r.stderr[-2000:] + r.stdout[-2000:]
    return job, [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def test_every_event_is_valid(finished, validate):
    _, events = finished
    assert events[-1]["type"] == "finished"
    assert [e["type"] for e in events].count("epoch") == 2
    for e in events:
        validate("event", e)


def test_report_environment_and_engine_record_are_valid(finished, validate):
    job, _ = finished
    for kind, name in (("report", "report.json"), ("environment", "environment.json"), ("engine", "engine.json")):
        with open(job / name, encoding="utf-8") as f:
            validate(kind, json.load(f))


def test_every_metrics_row_is_valid(finished, validate):
    job, _ = finished
    rows = [json.loads(line) for line in (job / "metrics.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["epoch"]) for r in rows] == [(1, 1), (1, 2)]
    for r in rows:
        validate("metrics", r)


def test_a_test_folder_past_one_percent_unreadable_stops_the_run(tmp_path):
    """The test part follows the 1% rule the training parts do: no accuracy on what is left."""
    node = shutil.which("node")
    if not node or not os.path.exists(CLI):
        pytest.skip(f"needs Node and the built CLI ({CLI}): run npm install (it builds) first")
    for part in ("data", "testdata"):
        for c, rgb in COLORS.items():
            os.makedirs(tmp_path / part / c)
            for i in range(4):
                Image.new("RGB", (12, 12), rgb).save(tmp_path / part / c / f"{i}.png")
    good = (tmp_path / "testdata" / "red" / "0.png").read_bytes()
    (tmp_path / "testdata" / "red" / "1.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "r.tlr").write_text(
        "from resnet18 weights none input 32\nhead dense(3)\ntrain 1 epoch on ./data\n  batch 4\n"
        "split 75/25\ntest on ./testdata\n"
    )
    job, r = _export_and_run(node, tmp_path)
    assert r.returncode != 0
    assert "1 of the 12 test images cannot be read (more than 1%)" in r.stdout + r.stderr
    assert not (job / "report.json").exists()
