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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from skevonas import Genome
from skevonas.evolution.asynchronous import Ticket, evolve_async
from skevonas.evolution.fidelity import rung_budgets, successive_halving
from skevonas.evolution.generational import evolve
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


def _toy_evaluate(budgets: Sequence[int] | None) -> Any:
    counter = [0]

    def run(genomes: Sequence[Genome], tasks: Sequence[tuple[int, int, Any]], keep: bool) -> Any:
        for i, epochs, _ in tasks:
            counter[0] += 1
            yield i, _result(genomes[i], epochs if budgets else None, counter[0])

    def evaluate(genomes: Sequence[Genome], generation: int) -> Any:
        if not budgets:
            return list(run(genomes, [(i, 9, None) for i in range(len(genomes))], False))
        protected = {i for i, g in enumerate(genomes) if g.key() == SEED.key()}
        return successive_halving(
            range(len(genomes)),
            budgets,
            3,
            lambda tasks, keep: run(genomes, tasks, keep),
            protected,
        )

    return evaluate


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
        for budgets in (None, rung_budgets(9, 1, 3)):
            for selection in ("tournament", "roulette"):
                state = evolve(
                    SPACE,
                    _toy_evaluate(budgets),
                    population_size=6,
                    n_generations=5,
                    elite_size=2,
                    selection=selection,
                    rng=np.random.default_rng(seed),
                    initial_population=[SEED],
                )
                label = f"toy_generational_s{seed}_{'halving' if budgets else 'full'}_{selection}"
                out[label] = _state_summary(state)
            for capacity in (1, 3):
                for order in ("fifo", "hash"):
                    state = evolve_async(
                        SPACE,
                        ToyRunner(capacity, order),
                        population_size=5,
                        n_generations=5,
                        elite_size=2,
                        rng=np.random.default_rng(seed),
                        initial_population=[SEED],
                        budgets=budgets,
                        protected=[SEED.key()],
                    )
                    kind = "halving" if budgets else "full"
                    out[f"toy_async_s{seed}_{kind}_c{capacity}_{order}"] = _state_summary(state)
    return out
