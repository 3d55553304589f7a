"""What the person watching a fit sees: its plan, the search's progress, the final stage's.

The estimator's ``verbose`` decides how much (:class:`Display`):

- 0: nothing on screen; the ``skevonas`` loggers still get the plan, the
  notes and the final stage's steps at INFO;
- 1: on stderr, the plan when the search starts (candidates, epochs per
  candidate, finalists, ``max_time``), a rough estimate of the whole fit
  once the first generation is done, the search's progress bar
  (:class:`~skevonas.evolution.callbacks.ProgressBar`), the notes on what
  the fit chose to do (such as skipping the finalists' cross-validation
  that ``max_time`` cannot afford: information, not a warning), and a bar
  through the final stage (the finalists' folds, then the refits) with
  the time it should still take;
- 2: also a line per generation on stdout
  (:class:`~skevonas.evolution.callbacks.ProgressPrinter`) and a line as
  each step of the final stage begins and ends.

Every estimate comes from the time the candidates took to train, measured
by the search's :class:`~skevonas.search.budget.SearchBudget`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from ..evolution.callbacks import ProgressBar, ProgressPrinter, SearchCallback

if TYPE_CHECKING:
    from ..evolution.fidelity import Fidelity
    from ..evolution.ga import GASettings
    from ..evolution.records import SearchState
    from ..spaces.genome import Genome
    from .pipeline import CandidatePipeline

__all__ = ["Display", "describe_plan", "describe_result", "duration"]

logger = logging.getLogger(__name__)


def duration(seconds: float) -> str:
    """``seconds`` as a person reads a rough duration.

    Examples
    --------
    >>> duration(42.4), duration(150), duration(5400)
    ('42 s', '2.5 min', '1.5 h')
    """
    if seconds < 100:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def describe_plan(
    pipeline: CandidatePipeline,
    ga: GASettings,
    fidelity: Fidelity | None = None,
    strategy: str = "generational",
) -> str:
    """One paragraph: what the search will do, then its final stage.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas.evolution.ga import GASettings
    >>> from skevonas.evolution.fidelity import Fidelity
    >>> from skevonas.search.budget import FinalStage
    >>> from skevonas.search.pipeline import CandidatePipeline
    >>> from skevonas.training.candidate import CandidateData
    >>> from skevonas.training.recipe import Recipe
    >>> data = CandidateData(np.zeros((8, 2)), np.arange(8) % 2, np.zeros((2, 2)),
    ...                      np.array([0, 1]), n_classes=2)
    >>> pipeline = CandidatePipeline(data, Recipe(max_epochs=30), entropy=0, max_time=600,
    ...                              final=FinalStage(3, folds=5))
    >>> print(describe_plan(pipeline, GASettings(6, 3), Fidelity.halving(30, 3)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Plan: a generational search of up to 14 new candidates (population 6,
    3 generations) on 8 training and 2 validation samples, 1 at a time; each
    trains up to 30 epochs, by successive halving (3, 10 and 30 epochs). Then
    the 3 best are cross-validated (5 folds) and the final model is refitted
    on all 10 samples. max_time: 10.0 min for everything.
    """
    data, recipe, budget = pipeline.data, pipeline.recipe, pipeline.budget
    rungs = fidelity.budgets if fidelity is not None else None
    if rungs and len(rungs) > 1:
        schedule = (
            ", by successive halving ("
            + ", ".join(str(b) for b in rungs[:-1])
            + f" and {rungs[-1]} epochs)"
        )
    else:
        schedule = ""
    if recipe.patience is not None:
        schedule += f", stopping early after {recipe.patience} epochs without progress"
    final = budget.final
    if final.folds and final.finalists > 1:
        members = f" (an ensemble of up to {final.members})" if final.members > 1 else ""
        then = (
            f"Then the {final.finalists} best are cross-validated ({final.folds} folds) "
            f"and the final model{members} is refitted"
        )
    else:
        then = "Then the best by holdout score is refitted"
    n_all = len(data.y_train) + len(data.y_valid)
    limit = (
        f" max_time: {duration(budget.max_time)} for everything."
        if budget.max_time is not None
        else ""
    )
    return (
        f"Plan: a {strategy} search of up to {ga.n_candidates} new candidates "
        f"(population {ga.population_size}, {ga.n_generations} generations) on "
        f"{len(data.y_train)} training and {len(data.y_valid)} validation samples, "
        f"{budget.workers} at a time; each trains up to {recipe.max_epochs} epochs"
        f"{schedule}. {then} on all {n_all} samples.{limit}"
    )


def describe_result(
    genomes: Sequence[Genome],
    weights: Sequence[float],
    decimation: int,
    scoring: str,
    score: float,
    search: str,
) -> str:
    """A readable summary of a final model (its members, or its one genome) and its search.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> genomes = [Genome("mlp", [LayerGene("dense", {"units": n, "activation": "relu"})])
    ...            for n in (8, 16)]
    >>> print(describe_result(genomes[:1], [1.0], 1, "accuracy", 0.9, "4 candidates trained"))
    ... # doctest: +ELLIPSIS
    mlp genome ...
       0. dense(activation='relu', units=8)
          output (linear, one unit per class)
      training: ...
    estimated accuracy: 0.9000 (4 candidates trained)
    >>> print(describe_result(genomes, [0.75, 0.25], 2, "accuracy", 0.9, "..."))
    ... # doctest: +ELLIPSIS
    ensemble of 2 networks:
      weight 0.75: ...
      weight 0.25: ...
    input decimated by 2 in time
    estimated accuracy: 0.9000 (...)
    """
    lines = [genomes[0].describe()]
    if len(genomes) > 1:
        lines = [f"ensemble of {len(genomes)} networks:"]
        for genome, weight in zip(genomes, weights, strict=True):
            lines.append(f"  weight {weight:.2f}: {genome.short_key()}")
    if decimation > 1:
        lines.append(f"input decimated by {decimation} in time")
    lines.append(f"estimated {scoring}: {score:.4f} ({search})")
    return "\n".join(lines)


class Display:
    """The plan, the progress and the notes of one fit, as ``verbose`` asks (module docstring).

    Parameters
    ----------
    verbose : int
        0, 1 or 2 (more counts as 2).
    pipeline : CandidatePipeline or None, default=None
        The fit's pipeline: its data, recipe and budget.
    ga : GASettings or None, default=None
        The genetic algorithm's settings. Without ``ga`` and ``pipeline``
        there is no plan to show, only progress and notes.
    fidelity : Fidelity or None, default=None
        Successive halving, or None.
    strategy : str, default="generational"
        The search's strategy.
    resuming : bool, default=False
        Whether the search goes on from a checkpoint.
    file : file-like or None, default=None
        Where the plan, the notes and the bars go (None: ``sys.stderr``).

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from skevonas.evolution.ga import GASettings
    >>> from skevonas.search.pipeline import CandidatePipeline
    >>> from skevonas.training.candidate import CandidateData
    >>> from skevonas.training.recipe import Recipe
    >>> data = CandidateData(np.zeros((8, 2)), np.arange(8) % 2, np.zeros((2, 2)),
    ...                      np.array([0, 1]), n_classes=2)
    >>> pipeline = CandidatePipeline(data, Recipe(), entropy=0)
    >>> out = io.StringIO()
    >>> display = Display(1, pipeline, GASettings(4, 2), file=out)
    >>> [type(cb).__name__ for cb in display.callbacks()]
    ['ProgressBar', '_PlanReport']
    >>> display.note("the folds were skipped")
    >>> with display.step("refitting 1 member", 1, seconds=3.0) as advance:
    ...     advance()
    >>> print(out.getvalue().splitlines()[0])
    the folds were skipped
    >>> "final: refitting 1 member" in out.getvalue()
    True
    """

    def __init__(
        self,
        verbose: int,
        pipeline: CandidatePipeline | None = None,
        ga: GASettings | None = None,
        *,
        fidelity: Fidelity | None = None,
        strategy: str = "generational",
        resuming: bool = False,
        file: TextIO | None = None,
    ) -> None:
        self.verbose = int(verbose)
        self.pipeline = pipeline
        self.ga = ga
        self.fidelity = fidelity
        self.strategy = strategy
        self.resuming = resuming
        self.file = file

    def write(self, text: str) -> None:
        """Show ``text`` at ``verbose >= 1`` (above any progress bar).

        Examples
        --------
        >>> import io
        >>> out = io.StringIO()
        >>> Display(1, file=out).write("hello")
        >>> out.getvalue()
        'hello\\n'
        """
        if self.verbose >= 1:
            from tqdm import tqdm

            tqdm.write(text, file=self.file or sys.stderr)

    def callbacks(self) -> list[SearchCallback]:
        """The search callbacks of the display: bar, lines per generation, plan and estimate.

        Examples
        --------
        >>> [type(cb).__name__ for cb in Display(2).callbacks()]  # no search: no plan
        ['ProgressBar', 'ProgressPrinter']
        """
        out: list[SearchCallback] = []
        budget = self.pipeline.budget if self.pipeline is not None else None
        if self.verbose >= 1:
            out.append(ProgressBar(budget.max_time if budget else None, file=self.file))
        if self.verbose >= 2:
            out.append(ProgressPrinter())
        # last: the estimate follows the line of the generation it is made after
        planned = self.ga is not None and self.pipeline is not None
        return [*out, _PlanReport(self)] if planned else out

    def note(self, text: str) -> None:
        """Say once what the fit chose to do and why: logged at INFO, shown at ``verbose >= 1``.

        Examples
        --------
        >>> import io
        >>> out = io.StringIO()
        >>> Display(0, file=out).note("skipped")
        >>> out.getvalue()  # verbose=0: only the log has it
        ''
        """
        logger.info(text)
        self.write(text)

    @contextlib.contextmanager
    def step(self, what: str, n: int, seconds: float | None) -> Iterator[Callable[[], None]]:
        """A step of the final stage: ``n`` trainings that should take ``seconds``.

        Yields the function to call as each training ends. At ``verbose >=
        1`` a bar shows the trainings done and the time the step should
        still take (redrawn every second); at ``verbose >= 2`` a line
        marks its beginning and its end.

        Examples
        --------
        >>> import io
        >>> display = Display(2, file=io.StringIO())
        >>> with display.step("refitting 2 members", 2, seconds=30.0) as advance:
        ...     advance()
        ...     advance()  # doctest: +ELLIPSIS
        Final stage: refitting 2 members, about 30 s
        Final stage: refitting 2 members done in 0 s
        """
        about = f", about {duration(seconds)}" if seconds else ""
        logger.info("final stage: %s%s", what, about)
        if self.verbose >= 2:
            print(f"Final stage: {what}{about}", flush=True)
        start = time.perf_counter()
        bar = _StepBar(what, n, seconds, self.file) if self.verbose >= 1 else None
        try:
            yield bar.advance if bar is not None else (lambda: None)
        finally:
            if bar is not None:
                bar.close()
        took = time.perf_counter() - start
        logger.info("final stage: %s done in %.1f s", what, took)
        if self.verbose >= 2:
            print(f"Final stage: {what} done in {duration(took)}", flush=True)


class _StepBar:
    """A tqdm bar over one step of the final stage, redrawn every second by a thread."""

    def __init__(self, what: str, n: int, seconds: float | None, file: TextIO | None) -> None:
        from tqdm.auto import tqdm

        self.seconds = seconds
        self.start = time.perf_counter()
        self.bar = tqdm(
            total=n,
            desc=f"final: {what}",
            unit="fit",
            file=file,
            dynamic_ncols=True,
            bar_format="{desc}: {n_fmt}/{total_fmt} |{bar}| {elapsed}{postfix}",
        )
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self._refresh()
        self.thread = threading.Thread(target=self._tick, daemon=True)
        self.thread.start()

    def _refresh(self) -> None:
        if self.seconds:
            left = self.seconds - (time.perf_counter() - self.start)
            text = f"about {duration(left)} left" if left >= 1 else "longer than estimated"
            self.bar.set_postfix_str(text, refresh=False)
        self.bar.refresh()

    def _tick(self) -> None:
        while not self.stop.wait(1.0):
            with self.lock:
                self._refresh()

    def advance(self) -> None:
        with self.lock:
            self.bar.update(1)
            self._refresh()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        with self.lock:
            self.bar.set_postfix_str("done", refresh=False)
            self.bar.close()


class _PlanReport(SearchCallback):
    """Logs and shows the plan as the search begins, and a rough estimate after one generation."""

    def __init__(self, display: Display) -> None:
        self.display = display

    def on_search_begin(self, state: SearchState) -> None:
        pipeline, ga = self.display.pipeline, self.display.ga
        assert pipeline is not None and ga is not None  # Display.callbacks makes sure
        text = describe_plan(pipeline, ga, self.display.fidelity, self.display.strategy)
        if self.display.resuming:
            text += f" Resuming after generation {state.generation + 1}."
        logger.info(
            "%s (n_jobs=%s, devices %s)", text, pipeline.n_jobs, list(pipeline.devices.devices)
        )
        self.display.write(text)
        self.start_ = time.perf_counter()
        self.records_ = len(state.records)  # a resumed search's, trained before
        self.done_ = False

    def on_generation_end(self, state: SearchState) -> None:
        pipeline, ga = self.display.pipeline, self.display.ga
        if self.done_ or pipeline is None or ga is None:
            return
        self.done_ = True
        elapsed = time.perf_counter() - self.start_
        # per new candidate trained so far, times those the search may still train
        trained = max(1, len(state.records) - self.records_)
        left = max(0, ga.n_candidates - len(state.records))
        search = elapsed / trained * left if state.generation + 1 < state.n_generations else 0.0
        budget = pipeline.budget
        if budget.search_end is not None:
            search = min(search, max(0.0, budget.search_end - time.time()))
        final = budget.final_seconds()
        text = f"Rough estimate after {duration(elapsed)}: the search about {duration(search)} more"
        if final is not None:
            text += f", then the final stage about {duration(sum(final))}"
            search += sum(final)
        text += f"; about {duration(search)} still to go"
        if budget.end is not None:
            text += f" (max_time ends the fit in {duration(max(0.0, budget.end - time.time()))})"
        logger.info(text)
        self.display.write(text + ".")
