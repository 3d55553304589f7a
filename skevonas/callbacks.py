"""Search-level callbacks: hooks the evolution loop calls as a search runs.

A callback subclasses :class:`SearchCallback` and overrides any of
``on_search_begin``, ``on_evaluation_end``, ``on_generation_end`` and
``on_search_end``. Each hook receives the live
:class:`~skevonas.evolution.SearchState`. Returning ``True`` from
``on_generation_end``, or setting ``state.stop_reason``, ends the search
after that generation.

Built in: :class:`EarlyStopping` (no improvement for some generations),
:class:`TargetScore`, :class:`TimeBudget`, and two ways to watch a search,
:class:`ProgressBar` (tqdm) and :class:`ProgressPrinter` (a line per
generation).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # pragma: no cover
    from .evolution import SearchState
    from .genome import Genome

__all__ = [
    "EarlyStopping",
    "ProgressBar",
    "ProgressPrinter",
    "SearchCallback",
    "TargetScore",
    "TimeBudget",
]

logger = logging.getLogger(__name__)


class SearchCallback:
    """Base class: every hook does nothing.

    Examples
    --------
    >>> class StopAtTarget(SearchCallback):
    ...     def on_generation_end(self, state):
    ...         return state.best is not None and state.best.score >= 0.95
    """

    def on_search_begin(self, state: SearchState) -> None:
        """Called once before the first generation is evaluated (or resumed)."""

    def on_evaluation_end(
        self, state: SearchState, genome: Genome, result: Mapping[str, Any]
    ) -> None:
        """Called as each candidate's result arrives (in completion order).

        ``result`` holds ``score``, ``status`` (``"ok"``, ``"failed"`` or
        ``"skipped"``) and what training reported; the record itself is made
        when the whole generation is in.
        """

    def on_generation_end(self, state: SearchState) -> bool | None:
        """Called after each generation; return ``True`` to stop the search."""
        return None

    def on_search_end(self, state: SearchState) -> None:
        """Called once when the search has stopped, whatever the reason."""


class ProgressPrinter(SearchCallback):
    """Print one line per generation: evaluations, scores and elapsed time.

    Parameters
    ----------
    stream : file-like, default=sys.stdout
        Where the lines go.

    Examples
    --------
    >>> printer = ProgressPrinter()
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def _print(self, text: str) -> None:
        print(text, file=self.stream or sys.stdout, flush=True)

    def on_search_begin(self, state: SearchState) -> None:
        self._print(
            f"Searching {state.space_name!r}: population {state.population_size}, "
            f"{state.n_generations} generations"
        )

    def on_generation_end(self, state: SearchState) -> None:
        row = state.history[-1]
        self._print(
            f"gen {row['generation']:>3d} | new {row['n_evaluated']:>3d} "
            f"cached {row['cache_hits']:>3d} failed {row['n_failed']:>2d} | "
            f"best {row['best']:.4f} mean {row['mean']:.4f} | "
            f"best so far {row['best_so_far']:.4f} | {row['elapsed']:7.1f}s"
        )

    def on_search_end(self, state: SearchState) -> None:
        self._print(f"Search ended: {state.stop_reason}")
        if state.best is not None:
            self._print(f"Best validation score {state.best.score:.4f}: {state.best.genome}")


class TimeBudget(SearchCallback):
    """Stop the search once ``max_time`` seconds have passed since it began.

    ``deadline`` (a :func:`time.time` value) overrides the start: the
    estimator passes the same deadline to its workers.

    The estimator's ``max_time`` setting adds this callback and also stops
    candidates still training at that moment (they keep what they reached),
    so a search ends within ``max_time`` plus about one epoch.

    Examples
    --------
    >>> budget = TimeBudget(60)
    """

    def __init__(self, max_time: float, deadline: float | None = None) -> None:
        self.max_time = max_time
        self.deadline = deadline

    def on_search_begin(self, state: SearchState) -> None:
        # A time.time() value, comparable with the workers' own deadline.
        self.deadline_ = (
            self.deadline if self.deadline is not None else (time.time() + self.max_time)
        )

    def on_generation_end(self, state: SearchState) -> bool | None:
        if time.time() >= self.deadline_:
            state.stop_reason = f"max_time of {self.max_time:g} s reached"
            return True
        return None


class EarlyStopping(SearchCallback):
    """Stop when the best score has not improved for ``patience`` generations.

    Parameters
    ----------
    patience : int
        Generations in a row without a new best score (better by more than
        ``min_delta``) before the search stops.
    min_delta : float, default=0.0
        Smallest gain that counts as an improvement.

    Examples
    --------
    >>> stop = EarlyStopping(patience=3)
    """

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 1:
            raise ValueError(f"patience must be an int >= 1, got {patience!r} instead")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be a number >= 0, got {min_delta!r} instead")
        self.patience = patience
        self.min_delta = min_delta

    def on_generation_end(self, state: SearchState) -> bool | None:
        bests = [row["best_so_far"] for row in state.history]
        if len(bests) <= self.patience:
            return None
        before, now = bests[-self.patience - 1], bests[-1]
        if before != before or now > before + self.min_delta:  # NaN before: no score yet
            return None
        state.stop_reason = f"no improvement of the best score for {self.patience} generations"
        return True


class TargetScore(SearchCallback):
    """Stop as soon as the best validation score reaches ``target``.

    Examples
    --------
    >>> stop = TargetScore(0.95)
    """

    def __init__(self, target: float) -> None:
        self.target = target

    def on_generation_end(self, state: SearchState) -> bool | None:
        if state.best is not None and state.best.score >= self.target:
            state.stop_reason = f"target score {self.target:g} reached"
            return True
        return None


class ProgressBar(SearchCallback):
    """A tqdm progress bar over the search's candidate slots.

    The bar counts ``population_size`` slots per generation: it moves as each
    candidate's result arrives, and at the end of a generation by its cache
    hits and skipped candidates. Its postfix shows the generation, the
    candidates trained, the best score so far and, with a time budget, the
    time left.

    Parameters
    ----------
    max_time : float or None, default=None
        The search's time budget in seconds, to show the time left.
    file : file-like or None, default=None
        Where the bar goes (tqdm's default: ``sys.stderr``).
    leave : bool, default=True
        Keep the finished bar on screen.

    Examples
    --------
    >>> bar = ProgressBar(max_time=600)
    """

    def __init__(
        self, max_time: float | None = None, file: TextIO | None = None, leave: bool = True
    ) -> None:
        self.max_time = max_time
        self.file = file
        self.leave = leave

    def on_search_begin(self, state: SearchState) -> None:
        from tqdm.auto import tqdm

        self.start_ = time.perf_counter()
        done = state.population_size * (state.generation + 1)
        self.bar_ = tqdm(
            total=state.population_size * state.n_generations,
            initial=done,
            desc="search",
            unit="cand",
            file=self.file,
            leave=self.leave,
            dynamic_ncols=True,
        )
        self.trained_ = len(state.records)
        self._show(state, max(0, state.generation + 1))

    def _show(self, state: SearchState, generation: int) -> None:
        best = state.best.score if state.best is not None else float("nan")
        postfix = {
            "gen": f"{generation + 1}/{state.n_generations}",
            "trained": self.trained_,
            "best": f"{best:.4f}",
        }
        if self.max_time is not None:
            left = max(0.0, self.max_time - (time.perf_counter() - self.start_))
            postfix["left"] = f"{left:.0f}s"
        self.bar_.set_postfix(postfix, refresh=False)

    def on_evaluation_end(
        self, state: SearchState, genome: Genome, result: Mapping[str, Any]
    ) -> None:
        if result.get("status") != "skipped":
            self.trained_ += 1
        self._show(state, state.generation)
        self.bar_.update(1)

    def on_generation_end(self, state: SearchState) -> None:
        target = state.population_size * (state.generation + 1)
        self._show(state, min(state.generation + 1, state.n_generations - 1))
        self.bar_.update(max(0, target - self.bar_.n))

    def on_search_end(self, state: SearchState) -> None:
        self.bar_.set_description_str("search done")
        self.bar_.close()
