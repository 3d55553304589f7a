"""The pure parts of bench/neighbours.py: neighbours, steps and power (no training)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))  # the bench scripts import each other by module name

import neighbours  # noqa: E402

from skevonas import eegnex_genome, get_space, standard_mlp_genome  # noqa: E402


def test_neighbours_are_distinct_single_steps_drawn_from_the_seed_alone():
    space = get_space("mlp", (20,))
    seed = space.repair(standard_mlp_genome())
    found = neighbours.neighbours(seed, space, 4, np.random.default_rng(3))
    assert len({g.key() for g in found}) == 4 and seed.key() not in {g.key() for g in found}
    assert all(len(g.layers) == len(seed.layers) for g in found)
    assert all(";" not in neighbours.step(seed, g) for g in found)  # one gene moved
    again = neighbours.neighbours(seed, space, 4, np.random.default_rng(3))
    assert [g.key() for g in again] == [g.key() for g in found]


def test_too_few_neighbours_is_an_error_that_says_how_many():
    space = get_space("auto", (6, 448))
    seed = space.repair(eegnex_genome())
    with pytest.raises(RuntimeError, match=r"only \d+ distinct neighbours"):
        neighbours.neighbours(seed, space, 10_000, np.random.default_rng(0))


def test_the_step_names_each_changed_gene():
    seed = standard_mlp_genome()
    wider = seed.replace(layers=[seed.layers[0].replace(units=1024), seed.layers[1]])
    assert neighbours.step(seed, wider) == "layer 1 units: 512 -> 1024"
    faster = seed.replace(lr=0.002)
    assert neighbours.step(seed, faster) == "lr: 0.001 -> 0.002"


def test_power_follows_the_paired_standard_error():
    small, large = neighbours.power(0.06, 0.01, 268), neighbours.power(0.06, 0.01, 10_000)
    assert small["se"] == pytest.approx(math.sqrt((0.06 - 1e-4) / 268))
    assert 0.5 < small["right_order"] < large["right_order"] < 1
    assert small["power"] < 0.8 < large["power"]
    needed = neighbours.power(0.06, 0.01, 1)["needed"]
    assert neighbours.power(0.06, 0.01, round(needed))["power"] == pytest.approx(0.8, abs=0.01)
