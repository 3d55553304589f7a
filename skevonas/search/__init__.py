"""Running a search.

One pipeline trains the candidates the loops ask for on one worker pool,
journals and replays them, and keeps the time budget; then the final model
is chosen and refitted, and the display shows the person watching what is
being done.
"""

from .budget import FinalPlan, FinalStage, SearchBudget
from .display import Display, describe_result
from .final import FinalModel, SearchFailedError, final_model, finalists, winner
from .pipeline import CandidatePipeline, RefitPlan
from .pool import WorkerPool, Workers
from .strategies import STRATEGIES, run_search

__all__ = [
    "STRATEGIES",
    "CandidatePipeline",
    "Display",
    "FinalPlan",
    "FinalModel",
    "FinalStage",
    "RefitPlan",
    "SearchBudget",
    "SearchFailedError",
    "WorkerPool",
    "Workers",
    "describe_result",
    "final_model",
    "finalists",
    "run_search",
    "winner",
]
