"""Search-level callbacks: hooks the evolution loop calls as a search runs.

A callback subclasses :class:`SearchCallback` and overrides any of
``on_search_begin``, ``on_evaluation_end``, ``on_generation_end`` and
``on_search_end``. Each hook receives the live
:class:`~skevonas.evolution.records.SearchState`. Returning ``True`` from
``on_generation_end``, or setting ``state.stop_reason``, ends the search
after that generation.

Built in: :class:`EarlyStopping` (no improvement for some generations),
:class:`TargetScore`, :class:`TimeBudget`, and two ways to watch a search,
:class:`ProgressBar` (tqdm) and :class:`ProgressPrinter` (a line per
generation).
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # pragma: no cover
    from ..spaces.genome import Genome
    from .records import SearchState

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

    Subclasses override any of the four hooks. The evolution loop
    (:func:`skevonas.evolution.generational.evolve`, which the estimators run) calls them
    with the live :class:`~skevonas.evolution.records.SearchState`.

    Examples
    --------
    A callback that stops the search once a score is reached, on a toy fitness:

    >>> import numpy as np
    >>> from skevonas import mlp_space
    >>> from skevonas.evolution import GASettings, SerialRunner, evolve
    >>> space = mlp_space().bind((4,))
    >>> def evaluate(ticket, snapshot):  # a toy fitness: wider networks are fitter
    ...     return {"score": sum(x["units"] for x in ticket.genome.layers) / 2048}
    >>> class StopAtTarget(SearchCallback):
    ...     def on_generation_end(self, state):
    ...         return state.best is not None and state.best.score >= 0.5
    >>> ga = GASettings(population_size=6, n_generations=50)
    >>> state = evolve(space, SerialRunner(evaluate), ga,
    ...                rng=np.random.default_rng(0), callbacks=[StopAtTarget()])
    >>> state.best.score >= 0.5, state.stop_reason
    (True, 'stopped by StopAtTarget')
    """

    def on_search_begin(self, state: SearchState) -> None:
        """Called once before the first generation is evaluated (or resumed).

        A callback that keeps state for one search sets it up here.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import mlp_space
        >>> from skevonas.evolution import GASettings, SerialRunner, evolve
        >>> space = mlp_space().bind((4,))
        >>> def evaluate(ticket, snapshot):  # a toy fitness: wider networks are fitter
        ...     return {"score": sum(x["units"] for x in ticket.genome.layers) / 2048}
        >>> class Announce(SearchCallback):
        ...     def on_search_begin(self, state):
        ...         print(f"searching {state.space_name!r} for {state.n_generations} generations")
        >>> ga = GASettings(population_size=4, n_generations=2)
        >>> state = evolve(space, SerialRunner(evaluate), ga,
        ...                rng=np.random.default_rng(0), callbacks=[Announce()])
        searching 'mlp' for 2 generations
        """

    def on_evaluation_end(
        self, state: SearchState, genome: Genome, result: Mapping[str, Any]
    ) -> None:
        """Called as each candidate's result arrives (in completion order).

        ``result`` holds ``score``, ``status`` (``"ok"``, ``"failed"`` or
        ``"skipped"``) and what training reported. Under successive halving
        it also holds the ``rung`` (0-based) and its ``budget``, and the
        status ``"partial"`` marks a candidate that trained a rung below the
        last. The generational loop reports each candidate once, with its
        final result, and makes the records when the whole generation is
        in; the asynchronous loop reports every rung as it arrives, so a
        candidate that goes on to a later rung is reported again.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import mlp_space
        >>> from skevonas.evolution import GASettings, SerialRunner, evolve
        >>> space = mlp_space().bind((4,))
        >>> def evaluate(ticket, snapshot):  # a toy fitness: wider networks are fitter
        ...     return {"score": sum(x["units"] for x in ticket.genome.layers) / 2048}
        >>> class Count(SearchCallback):
        ...     def on_search_begin(self, state):
        ...         self.n_results_ = 0
        ...     def on_evaluation_end(self, state, genome, result):
        ...         self.n_results_ += 1
        >>> counter = Count()
        >>> ga = GASettings(population_size=4, n_generations=3)
        >>> state = evolve(space, SerialRunner(evaluate), ga,
        ...                rng=np.random.default_rng(0), callbacks=[counter])
        >>> counter.n_results_ == len(state.records)
        True
        """

    def on_generation_end(self, state: SearchState) -> bool | None:
        """Called after each generation; return ``True`` to stop the search.

        Setting ``state.stop_reason`` stops it too, with that reason; otherwise
        the reason names the callback.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import mlp_space
        >>> from skevonas.evolution import GASettings, SerialRunner, evolve
        >>> space = mlp_space().bind((4,))
        >>> def evaluate(ticket, snapshot):  # a toy fitness: wider networks are fitter
        ...     return {"score": sum(x["units"] for x in ticket.genome.layers) / 2048}
        >>> class TwoGenerations(SearchCallback):
        ...     def on_generation_end(self, state):
        ...         return state.generation >= 1
        >>> ga = GASettings(population_size=4, n_generations=10)
        >>> state = evolve(space, SerialRunner(evaluate), ga,
        ...                rng=np.random.default_rng(0), callbacks=[TwoGenerations()])
        >>> len(state.history), state.stop_reason
        (2, 'stopped by TwoGenerations')
        """
        return None

    def on_search_end(self, state: SearchState) -> None:
        """Called once when the search has stopped, whatever the reason.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import mlp_space
        >>> from skevonas.evolution import GASettings, SerialRunner, evolve
        >>> space = mlp_space().bind((4,))
        >>> def evaluate(ticket, snapshot):  # a toy fitness: wider networks are fitter
        ...     return {"score": sum(x["units"] for x in ticket.genome.layers) / 2048}
        >>> class Report(SearchCallback):
        ...     def on_search_end(self, state):
        ...         print(f"search ended: {state.stop_reason}")
        >>> ga = GASettings(population_size=4, n_generations=2)
        >>> state = evolve(space, SerialRunner(evaluate), ga,
        ...                rng=np.random.default_rng(0), callbacks=[Report()])
        search ended: completed 2 generations
        """


class ProgressPrinter(SearchCallback):
    """Print one line per generation: evaluations, scores and elapsed time.

    ``verbose=2`` adds this callback to a search. It also prints a line when
    the search begins, and why it ended with the best genome.

    Parameters
    ----------
    stream : file-like, default=sys.stdout
        Where the lines go.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from skevonas import mlp_space
    >>> from skevonas.evolution import GASettings, SerialRunner, evolve
    >>> space = mlp_space().bind((4,))
    >>> def evaluate(ticket, snapshot):  # a toy fitness: wider networks are fitter
    ...     return {"score": sum(x["units"] for x in ticket.genome.layers) / 2048}
    >>> stream = io.StringIO()
    >>> ga = GASettings(population_size=4, n_generations=2)
    >>> state = evolve(space, SerialRunner(evaluate), ga,
    ...                rng=np.random.default_rng(0), callbacks=[ProgressPrinter(stream)])
    >>> lines = stream.getvalue().splitlines()
    >>> lines[0], lines[-2]
    ("Searching 'mlp': population 4, 2 generations", 'Search ended: completed 2 generations')
    >>> lines[1].startswith("gen   0 | new   4 cached   0 failed  0 | best ")
    True
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def _print(self, text: str) -> None:
        from tqdm import tqdm

        # through tqdm, so that a progress bar on the terminal is redrawn below the line
        tqdm.write(text, file=self.stream or sys.stdout)

    def on_search_begin(self, state: SearchState) -> None:
        self._print(
            f"Searching {state.space_name!r}: population {state.population_size}, "
            f"{state.n_generations} generations"
        )

    def on_generation_end(self, state: SearchState) -> None:
        row = state.history[-1]
        partial = f" partial {row['n_partial']:>2d}" if row.get("n_partial") else ""
        self._print(
            f"gen {row['generation']:>3d} | new {row['n_evaluated']:>3d} "
            f"cached {row['cache_hits']:>3d} failed {row['n_failed']:>2d}{partial} | "
            f"best {_score(row['best'])} mean {_score(row['mean'])} | "
            f"best so far {_score(row['best_so_far'])} | {row['elapsed']:7.1f}s"
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

    Parameters
    ----------
    max_time : float
        Seconds the search may run; checked after every generation.
    deadline : float or None, default=None
        A :func:`time.time` value at which to stop, instead of ``max_time``
        seconds after the search begins.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import mlp_space
    >>> from skevonas.evolution import GASettings, SerialRunner, evolve
    >>> space = mlp_space().bind((4,))
    >>> def evaluate(ticket, snapshot):  # a toy fitness: wider networks are fitter
    ...     return {"score": sum(x["units"] for x in ticket.genome.layers) / 2048}
    >>> ga = GASettings(population_size=4, n_generations=10)
    >>> state = evolve(space, SerialRunner(evaluate), ga,
    ...                rng=np.random.default_rng(0), callbacks=[TimeBudget(0)])
    >>> len(state.history), state.stop_reason
    (1, 'max_time of 0 s reached')
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
    On a fitness where no genome is better than another, the search stops
    after the first generation and ``patience`` more:

    >>> import numpy as np
    >>> from skevonas import mlp_space
    >>> from skevonas.evolution import GASettings, SerialRunner, evolve
    >>> def evaluate(ticket, snapshot):
    ...     return {"score": 0.5}
    >>> ga = GASettings(population_size=4, n_generations=20)
    >>> state = evolve(mlp_space().bind((4,)), SerialRunner(evaluate), ga,
    ...                rng=np.random.default_rng(0), callbacks=[EarlyStopping(patience=3)])
    >>> len(state.history), state.stop_reason
    (4, 'no improvement of the best score for 3 generations')
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

    Parameters
    ----------
    target : float
        The score at which the search stops (scores are higher-is-better).

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import mlp_space
    >>> from skevonas.evolution import GASettings, SerialRunner, evolve
    >>> space = mlp_space().bind((4,))
    >>> def evaluate(ticket, snapshot):  # a toy fitness: wider networks are fitter
    ...     return {"score": sum(x["units"] for x in ticket.genome.layers) / 2048}
    >>> ga = GASettings(population_size=6, n_generations=50)
    >>> state = evolve(space, SerialRunner(evaluate), ga,
    ...                rng=np.random.default_rng(0), callbacks=[TargetScore(0.5)])
    >>> state.best.score >= 0.5, state.stop_reason
    (True, 'target score 0.5 reached')
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

    ``verbose=1`` adds this callback to a search. The bar counts
    ``population_size`` slots per generation: it moves as each candidate's
    result arrives, and at the end of a generation by its cache hits and
    skipped candidates. Its postfix shows the generation, the candidates
    trained, the best score so far and, with a time budget, the time left.

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
    >>> import io
    >>> import numpy as np
    >>> from skevonas import mlp_space
    >>> from skevonas.evolution import GASettings, SerialRunner, evolve
    >>> space = mlp_space().bind((4,))
    >>> def evaluate(ticket, snapshot):  # a toy fitness: wider networks are fitter
    ...     return {"score": sum(x["units"] for x in ticket.genome.layers) / 2048}
    >>> out = io.StringIO()
    >>> ga = GASettings(population_size=4, n_generations=2)
    >>> state = evolve(space, SerialRunner(evaluate), ga,
    ...                rng=np.random.default_rng(0), callbacks=[ProgressBar(file=out)])
    >>> "search done: 100%" in out.getvalue()
    True
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
        self.partial_ = -math.inf  # the best score at any budget, from the results seen
        self._show(state, max(0, state.generation + 1))

    def _show(self, state: SearchState, generation: int) -> None:
        postfix = {
            "gen": f"{generation + 1}/{state.n_generations}",
            "trained": self.trained_,
            "best": _best_text(state, self.partial_),
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
        score = result.get("score")
        if result.get("status", "ok") in ("ok", "partial") and isinstance(score, (int, float)):
            if math.isfinite(score):
                self.partial_ = max(self.partial_, float(score))
        self._show(state, state.generation)
        # an asynchronous search's promotions arrive too: stay within the generation
        if self.bar_.n < state.population_size * (state.generation + 1):
            self.bar_.update(1)

    def on_generation_end(self, state: SearchState) -> None:
        target = state.population_size * (state.generation + 1)
        self._show(state, min(state.generation + 1, state.n_generations - 1))
        self.bar_.update(max(0, target - self.bar_.n))

    def on_search_end(self, state: SearchState) -> None:
        self.bar_.set_description_str("search done")
        self.bar_.close()


def _score(value: float) -> str:
    """A score as the displays show it: 4 decimals, or a dash when there is none (NaN).

    Examples
    --------
    >>> _score(0.91234), _score(float("nan"))
    ('0.9123', '     -')
    """
    return f"{value:.4f}" if math.isfinite(value) else f"{'-':>6}"


def _best_text(state: SearchState, partial: float) -> str:
    """The progress bar's best score: full-budget, else the best at a lower budget, marked.

    Under successive halving only full-budget scores make ``state.best``;
    until the first arrives, the best score at any budget is shown with
    "(partial)", and a dash before any score at all.

    Examples
    --------
    >>> from skevonas.evolution.records import SearchState
    >>> state = SearchState("mlp", population_size=2, n_generations=1)
    >>> _best_text(state, float("-inf")), _best_text(state, 0.75)
    ('-', '0.7500 (partial)')
    """
    if state.best is not None:
        return f"{state.best.score:.4f}"
    return f"{partial:.4f} (partial)" if math.isfinite(partial) else "-"
