"""Toy searches for ``bench/golden.py``: both loops with a fitness computed from the genome.

No torch and no training: the generational loop gets an ``evaluate`` that
scores a genome by its width (and, under successive halving, by its
budget), the asynchronous loop a runner that finishes the tasks in flight in
a fixed order (first in, first out, or the order a hash of the task number
picks). What the loops decide (genomes, parents, scores, statuses,
generations, history) is then a function of their code alone, which is what
a refactor of the search must leave unchanged.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from skevonas import Genome
from skevonas.evolution import Fidelity, GASettings, SerialRunner, Ticket, evolve, evolve_async
from skevonas.evolution.fidelity import rung_budgets
from skevonas.spaces.catalogue import mlp_space

SPACE = mlp_space().bind((4,))
SEED = SPACE.repair(
    Genome.from_dict(
        {
            "family": "mlp",
            "layers": [{"kind": "dense", "genes": {"units": 8, "activation": "relu"}}],
            "genes": {"lr": 0.001, "batch_size": 32, "optimizer": "adam"},
        }
    )
)


def width_score(genome: Genome, budget: int | None) -> float:
    """Wider networks score higher; a lower budget scales the score down."""
    units = sum(int(layer.get("units", 0)) for layer in genome.layers)
    full = units / (units + 256)
    return full if budget is None else full * budget / 9


def _result(genome: Genome, budget: int | None, number: int) -> dict[str, Any]:
    if number % 11 == 5:  # some candidates fail
        return {"score": math.nan, "status": "failed", "error": "toy failure"}
    return {
        "score": width_score(genome, budget),
        "status": "ok",
        "stopped_by": "budget" if budget not in (None, 9) else "max_epochs",
        "epochs": budget or 9,
        "snapshot": b"state" if budget not in (None, 9) else None,
    }


class ToyRunner:
    """Finishes the task in flight that ``order`` picks; ``capacity`` at once."""

    def __init__(self, capacity: int, order: str) -> None:
        self.capacity = capacity
        self.order = order
        self.flight: dict[int, Ticket] = {}

    def submit(self, ticket: Ticket, snapshot: bytes | None) -> None:  # noqa: D102
        self.flight[ticket.number] = ticket

    def next_result(self) -> tuple[int, Mapping[str, Any]]:  # noqa: D102
        if self.order == "fifo":
            number = min(self.flight)
        else:
            number = min(self.flight, key=lambda n: hashlib.sha1(str(n).encode()).hexdigest())
        ticket = self.flight.pop(number)
        return number, _result(ticket.genome, ticket.budget, number)


def _toy_runner() -> SerialRunner:
    """Trains tickets in order of submission; the n-th ticket trained decides failures."""
    counter = [0]

    def train(ticket: Ticket, snapshot: bytes | None) -> Mapping[str, Any]:
        counter[0] += 1
        return _result(ticket.genome, ticket.budget, counter[0])

    return SerialRunner(train)


def _state_summary(state: Any) -> dict[str, Any]:
    return {
        "records": [
            [r.key, r.score, r.status, r.generation, list(r.parents), r.info.get("rung")]
            for r in state.records
        ],
        "history": [
            {k: v for k, v in row.items() if k not in ("seconds", "elapsed")}
            for row in state.history
        ],
        "stop_reason": state.stop_reason,
    }


def run_toys() -> dict[str, Any]:
    """Every toy search, by label."""
    out: dict[str, Any] = {}
    for seed in (0, 1):
        for budgets in (None, tuple(rung_budgets(9, 1, 3))):
            for selection in ("tournament", "roulette"):
                state = evolve(
                    SPACE,
                    _toy_runner(),
                    GASettings(6, 5, elite_size=2, selection=selection),
                    rng=np.random.default_rng(seed),
                    fidelity=Fidelity(budgets, 3, frozenset([SEED.key()])),
                    initial_population=[SEED],
                )
                label = f"toy_generational_s{seed}_{'halving' if budgets else 'full'}_{selection}"
                out[label] = _state_summary(state)
            for capacity in (1, 3):
                for order in ("fifo", "hash"):
                    state = evolve_async(
                        SPACE,
                        ToyRunner(capacity, order),
                        GASettings(5, 5, elite_size=2),
                        rng=np.random.default_rng(seed),
                        initial_population=[SEED],
                        fidelity=Fidelity(budgets, 3, frozenset([SEED.key()])),
                    )
                    kind = "halving" if budgets else "full"
                    out[f"toy_async_s{seed}_{kind}_c{capacity}_{order}"] = _state_summary(state)
    return out
