"""The head layers the engine builds are the plan's: the kinds of schema/plan.schema.json, each
with its parameters named as tlr names them (head.N.weight, …)."""

import json
import os

import torch

from conftest import SCHEMA
from tlr_torch.network import HEAD_LAYERS, Head


def plan_kinds():
    with open(os.path.join(SCHEMA, "plan.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    return {alt["properties"]["kind"]["const"] for alt in schema["definitions"]["headLayer"]["oneOf"]}


def test_the_engine_builds_every_kind_the_plan_has():
    assert set(HEAD_LAYERS) == plan_kinds()


def test_a_head_has_the_plan_order_names_and_sizes():
    layers = [
        {"kind": "dense", "units": 8, "activation": "relu"},
        {"kind": "batchnorm"},
        {"kind": "dropout", "rate": 0.2},
        {"kind": "dense", "units": 3, "activation": "linear"},
    ]
    head = Head(5, layers, seed=1)
    names = {k: tuple(v.shape) for k, v in head.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert names == {
        "0.weight": (8, 5),
        "0.bias": (8,),
        "1.weight": (8,),
        "1.bias": (8,),
        "1.running_mean": (8,),
        "1.running_var": (8,),
        "3.weight": (3, 8),
        "3.bias": (3,),
    }
    head.eval()
    assert head(torch.zeros(2, 5)).shape == (2, 3)
