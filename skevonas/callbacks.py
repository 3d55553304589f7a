"""Search-level callbacks: hooks the evolution loop calls as a search runs.

A callback subclasses :class:`SearchCallback` and overrides any of
``on_search_begin``, ``on_generation_end`` and ``on_search_end``. Each hook
receives the live :class:`~skevonas.evolution.SearchState`. Returning
``True`` from ``on_generation_end``, or setting ``state.stop_reason``, ends
the search after that generation.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # pragma: no cover
    from .evolution import SearchState

__all__ = ["ProgressPrinter", "SearchCallback", "TimeBudget"]

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
        """Called once before the first generation is evaluated."""

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
