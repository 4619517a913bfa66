"""Reading a job folder: what is missing or from another version is named, with what to do."""

import json

import pytest

from tlr_torch import JOB_FORMAT, MANIFEST_FORMAT, PLAN_FORMAT
from tlr_torch.errors import EngineError
from tlr_torch.job import Job


def write(d, name, value):
    (d / name).write_text(json.dumps(value))


def job_folder(d, classes=("a", "b"), plan_classes=None, job_version=1):
    write(d, "job.json", {"format": JOB_FORMAT, "version": job_version, "network": {"layers": ["conv1"]}})
    write(d, "plan.json", {"format": PLAN_FORMAT, "version": 1, "data": {"classes": list(plan_classes or classes)}})
    write(
        d,
        "manifest.json",
        {
            "format": MANIFEST_FORMAT,
            "version": 1,
            "root": str(d),
            "classes": list(classes),
            "splits": {"train": [["a/1.png", 0], ["b/1.png", 1]], "validation": [], "test": [["t.idx", 1, 3]]},
        },
    )
    return d


def test_a_good_folder_reads(tmp_path):
    j = Job(str(job_folder(tmp_path)))
    assert j.classes == ["a", "b"]
    assert [i.describe() for i in j.splits["train"]] == [str(tmp_path / "a/1.png"), str(tmp_path / "b/1.png")]
    assert j.splits["test"][0].index == 3
    assert j.layers == ["conv1"]


def test_a_folder_without_job_json_is_named(tmp_path):
    with pytest.raises(EngineError, match="has no job.json: it is not a run folder tlr prepared"):
        Job(str(tmp_path))


def test_a_newer_job_says_to_update(tmp_path):
    with pytest.raises(EngineError, match="written by a newer tlr"):
        Job(str(job_folder(tmp_path, job_version=2)))


def test_classes_that_disagree_with_the_plan_are_named(tmp_path):
    with pytest.raises(EngineError, match="lists the classes"):
        Job(str(job_folder(tmp_path, plan_classes=["a", "c"])))


def test_a_bad_manifest_row_is_named_by_split_and_item(tmp_path):
    job_folder(tmp_path)
    m = json.loads((tmp_path / "manifest.json").read_text())
    m["splits"]["train"].append(["c/1.png", 5])
    write(tmp_path, "manifest.json", m)
    with pytest.raises(EngineError, match="train item 2"):
        Job(str(tmp_path))


def test_data_root_remaps_relative_paths(tmp_path):
    j = Job(str(job_folder(tmp_path)), data_root="/elsewhere")
    assert j.splits["train"][0].path == "/elsewhere/a/1.png"


def test_a_plan_asking_for_int8_features_is_refused(tmp_path):
    job_folder(tmp_path)
    plan = json.loads((tmp_path / "plan.json").read_text())
    plan["features"] = {"precision": "int8", "calibration": {"part": "train", "images": 200}}
    write(tmp_path, "plan.json", plan)
    with pytest.raises(EngineError, match=r"asks for int8 features .* run the recipe on the tfjs engine"):
        Job(str(tmp_path))
