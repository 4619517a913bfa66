"""pytest setup for the torch engine's unit tests: the package and the repository's schema/ folder."""

import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINE = os.path.dirname(HERE)
REPO = os.path.dirname(ENGINE)
SCHEMA = os.path.join(REPO, "schema")
sys.path.insert(0, ENGINE)


@pytest.fixture(scope="session")
def validate():
    """validate(kind, value): raises jsonschema's ValidationError unless value is valid against schema/."""
    jsonschema = pytest.importorskip(
        "jsonschema", reason="python3-jsonschema is not installed: apt-get install -y python3-jsonschema"
    )
    store = {}
    for name in os.listdir(SCHEMA):
        with open(os.path.join(SCHEMA, name), encoding="utf-8") as f:
            s = json.load(f)
        store[s["$id"]] = s
        store[name] = s
    files = {
        "event": "events.schema.json",
        "report": "report.schema.json",
        "metrics": "metrics.schema.json",
        "environment": "environment.schema.json",
        "engine": "run-engine.schema.json",
        "network": "network.schema.json",
        "labels": "labels.schema.json",
        "preprocessing": "preprocessing.schema.json",
        "modelMarker": "model-marker.schema.json",
        "checkpointState": "checkpoint-state.schema.json",
        "manifest": "manifest.schema.json",
        "job": "job.schema.json",
    }

    def check(kind, value):
        schema = store[files[kind]]
        resolver = jsonschema.RefResolver(base_uri=schema["$id"], referrer=schema, store=store)
        jsonschema.Draft7Validator(schema, resolver=resolver).validate(value)

    return check
