"""The NDJSON events rank 0 writes, against schema/events.schema.json."""

import io
import json

from tlr_torch.events import Events


def lines(out):
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_each_event_is_one_valid_json_line(validate):
    out = io.StringIO()
    ev = Events(0, out)
    ev.emit("stage-start", stage=1, of=1, epochs=2, trainable=10, cached=False, backend="PyTorch")
    ev.emit("batch", stage=1, epoch=1, batch=1, batches=3, loss=0.5)
    ev.emit(
        "epoch",
        stage=1,
        epoch=1,
        epochs=2,
        metrics={"loss": 1.0, "accuracy": 0.5, "val_loss": 0.9, "val_accuracy": 0.6},
        lr=1e-3,
        seconds=0.2,
        best=True,
    )
    ev.warning("an image could not be read", file="/data/x.png")
    for e in lines(out):
        validate("event", e)


def test_non_finite_numbers_become_null_and_stay_valid(validate):
    out = io.StringIO()
    Events(0, out).emit("batch", stage=1, epoch=1, batch=1, batches=1, loss=float("nan"))
    (e,) = lines(out)
    assert e["loss"] is None
    validate("event", e)


def test_other_ranks_report_only_errors_and_warnings(validate):
    out = io.StringIO()
    ev = Events(1, out)
    ev.emit("batch", stage=1, epoch=1, batch=1, batches=1, loss=0.1)
    ev.warning("rank 1 could not read an image")
    ev.emit("error", message="out of memory", rank=1)
    got = lines(out)
    assert [e["type"] for e in got] == ["warning", "error"]
    for e in got:
        validate("event", e)


def test_an_event_the_schema_does_not_know_is_caught(validate):
    import jsonschema
    import pytest

    with pytest.raises(jsonschema.ValidationError):
        validate("event", {"type": "batch", "stage": 1, "epoch": 1, "batch": 1, "batches": 1, "loss": 0.1, "extra": 1})
