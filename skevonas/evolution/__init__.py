"""Which genomes to try next.

The genetic operators, the generational and asynchronous loops, their
records and callbacks, and the successive-halving schedule.

This wing knows nothing of scikit-learn or torch: the loops hand their
candidates to a runner (the search wing's pipeline, or a toy one in tests).
"""

from .asynchronous import evolve_async
from .callbacks import (
    EarlyStopping,
    ProgressBar,
    ProgressPrinter,
    SearchCallback,
    TargetScore,
    TimeBudget,
)
from .fidelity import Fidelity, rung_budgets, successive_halving
from .ga import GASettings
from .generational import evolve, first_generation, seed_genomes, train_generation
from .records import EvaluationRecord, SearchState, rank_key, selection_scores
from .runner import Arrival, Replay, ReplayError, Runner, SerialRunner, Ticket, run_batch

__all__ = [
    "Arrival",
    "EarlyStopping",
    "EvaluationRecord",
    "Fidelity",
    "GASettings",
    "ProgressBar",
    "ProgressPrinter",
    "Replay",
    "ReplayError",
    "Runner",
    "SearchCallback",
    "SearchState",
    "SerialRunner",
    "TargetScore",
    "Ticket",
    "TimeBudget",
    "evolve",
    "evolve_async",
    "first_generation",
    "rank_key",
    "run_batch",
    "rung_budgets",
    "seed_genomes",
    "selection_scores",
    "successive_halving",
    "train_generation",
]
