"""Optional matplotlib plots of a fitted search.

Each plot reads what a fitted :class:`~skevonas.EvolutionaryNASClassifier`
records (``history_``, ``evaluations_``, ``best_genome_``,
``best_estimator_``), or the same rows given directly as a list of dicts
(or a :class:`pandas.DataFrame`), draws on ``ax`` when one is given (else on
a new figure) and returns the Axes, so plots can be combined, styled and
saved as usual with matplotlib.

* :func:`plot_fitness`: population mean with a ±1 std band, the best of
  each generation and the best so far.
* :func:`plot_score_vs_params`: every successful candidate, score against
  parameter count, coloured by generation.
* :func:`plot_learning_curves`: the best network's losses and validation
  score per epoch, and the refit's training loss.
* :func:`plot_search`: the three side by side in one figure.

matplotlib is an optional dependency (``pip install "skevonas[plots]"``);
it is imported only when a plot is drawn, and :mod:`matplotlib.pyplot` is
used only to create a figure when no ``ax`` is given (``plt.show`` is never
called).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_fitness", "plot_learning_curves", "plot_score_vs_params", "plot_search"]

_INSTALL_HINT = (
    'skevonas plots need matplotlib; install it with pip install "skevonas[plots]" '
    "(or pip install matplotlib)"
)
_HISTORY_KEYS = ("generation", "best", "mean", "std", "best_so_far")
_EVALUATION_KEYS = ("generation", "score", "status")


# --------------------------------------------------------------------------- helpers
def _pyplot() -> Any:
    """Import and return :mod:`matplotlib.pyplot`, or say how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return plt


def _axes(ax: Axes | None) -> Axes:
    """``ax`` itself, or the Axes of a new figure when ``ax`` is None."""
    plt = _pyplot()  # also when ax is given: one clear error wherever matplotlib lacks
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _estimator(source: Any, attributes: Sequence[str]) -> BaseEstimator | None:
    """``source`` if it is an estimator (checked fitted), else None."""
    if not isinstance(source, BaseEstimator):
        return None
    check_is_fitted(source, list(attributes))
    return source


def _rows(source: Any, what: str, keys: Sequence[str]) -> list[Mapping[str, Any]]:
    """Validate a list of dicts (or a DataFrame) holding at least ``keys`` per row."""
    if hasattr(source, "columns") and hasattr(source, "to_dict"):  # pandas.DataFrame
        source = source.to_dict("records")
    if isinstance(source, (str, bytes, Mapping)) or not isinstance(source, Sequence):
        raise TypeError(
            f"{what} must be a fitted EvolutionaryNASClassifier or a list of dicts, "
            f"got {type(source).__name__} instead"
        )
    if len(source) == 0:
        raise ValueError(f"{what} is empty: there is nothing to plot")
    for i, row in enumerate(source):
        if not isinstance(row, Mapping):
            raise TypeError(f"{what}[{i}] must be a dict, got {type(row).__name__} instead")
        missing = [k for k in keys if k not in row]
        if missing:
            raise ValueError(f"{what}[{i}] lacks the key(s) {missing}; each row needs {list(keys)}")
    return list(source)


def _score_label(estimator: BaseEstimator | None, score_name: str | None) -> str:
    """Axis label for scores: ``score_name``, else from the estimator's ``scoring``."""
    if score_name is not None:
        return score_name
    scoring = getattr(estimator, "scoring", None)
    name = scoring if isinstance(scoring, str) else getattr(scoring, "__name__", None)
    return f"validation {name}" if name else "validation score"


def _float(row: Mapping[str, Any], key: str) -> float:
    """``row[key]`` as a float; NaN when missing or None."""
    value = row.get(key)
    return math.nan if value is None else float(value)


def _is_ok(record: Mapping[str, Any]) -> bool:
    return record.get("status") == "ok" and math.isfinite(_float(record, "score"))


def _best_key(estimator: BaseEstimator | None) -> str | None:
    """The key that ``evaluations_`` rows use for the best genome (its short key)."""
    return None if estimator is None else estimator.best_genome_.short_key()


def _name(record: Mapping[str, Any]) -> str:
    """How a record is named in titles and legends: its key, else its index."""
    return str(record.get("key", f"#{record.get('index', '?')}"))


def _best_record(records: Sequence[Mapping[str, Any]], key: str | None = None) -> Mapping[str, Any]:
    """The record whose ``key`` is ``key``, or (without one) the best successful one.

    Without a key, ties go to the earlier evaluation, as in the search itself.
    """
    if key is not None:
        for record in records:
            if record.get("key") == key:
                return record
        raise ValueError(f"no record in evaluations_ has the best genome's key {key!r}")
    ok = [r for r in records if _is_ok(r)]
    if not ok:
        raise ValueError(
            f"none of the {len(records)} evaluated candidates succeeded: nothing to plot"
        )
    return min(ok, key=lambda r: (-_float(r, "score"), _float(r, "index")))


# --------------------------------------------------------------------------- fitness
def plot_fitness(
    history_or_estimator: Any, ax: Axes | None = None, *, score_name: str | None = None
) -> Axes:
    """Plot the fitness of the population, generation by generation.

    The population mean is drawn with a band of ±1 standard deviation, with
    the best score of each generation and, as a step line, the best score
    found so far. Generations in which no candidate succeeded leave gaps.

    Parameters
    ----------
    history_or_estimator : EvolutionaryNASClassifier or list of dict
        A fitted search, or its ``history_`` (one dict per generation with
        at least ``generation``, ``mean``, ``std``, ``best`` and
        ``best_so_far``; a :class:`pandas.DataFrame` of them works too).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when None.
    score_name : str, optional
        The y-axis label. By default ``"validation <scoring>"`` from the
        estimator, or ``"validation score"`` for a plain list.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on: its lines are the mean, the generation best and
        the best so far; its one collection is the ±1 std band.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If the history is empty or its rows lack a needed key.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> history = [
    ...     {"generation": 0, "best": 0.70, "mean": 0.55, "std": 0.10, "best_so_far": 0.70},
    ...     {"generation": 1, "best": 0.80, "mean": 0.68, "std": 0.08, "best_so_far": 0.80},
    ...     {"generation": 2, "best": 0.78, "mean": 0.72, "std": 0.05, "best_so_far": 0.80},
    ... ]
    >>> ax = plot_fitness(history, score_name="validation accuracy")
    >>> [line.get_label() for line in ax.get_lines()]
    ['population mean', 'generation best', 'best so far']
    >>> ax.get_lines()[1].get_ydata().tolist()
    [0.7, 0.8, 0.78]
    >>> ax.get_ylabel()
    'validation accuracy'
    """
    estimator = _estimator(history_or_estimator, ["history_"])
    history = _rows(
        history_or_estimator if estimator is None else estimator.history_,
        "history",
        _HISTORY_KEYS,
    )
    ax = _axes(ax)
    from matplotlib.ticker import MaxNLocator

    generations = np.array([int(row["generation"]) for row in history])
    mean, std, best, best_so_far = (
        np.array([_float(row, key) for row in history])
        for key in ("mean", "std", "best", "best_so_far")
    )
    band = ax.fill_between(
        generations, mean - std, mean + std, alpha=0.2, color="C0", label="mean ± 1 std"
    )
    ax.plot(generations, mean, "o-", color="C0", label="population mean")
    ax.plot(generations, best, "s-", color="C1", label="generation best")
    ax.step(generations, best_so_far, "--", where="post", color="C3", label="best so far")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("generation")
    ax.set_ylabel(_score_label(estimator, score_name))
    ax.set_title("Fitness by generation")
    handles = [*ax.get_lines(), band]
    ax.legend(handles, [str(h.get_label()) for h in handles], loc="best")
    return ax


# --------------------------------------------------------------------------- score vs size
def _left_out(records: Sequence[Mapping[str, Any]], n_shown: int) -> str:
    """Title suffix naming the candidates that are not in the scatter."""
    n_partial = sum(1 for r in records if r.get("status") == "partial")
    n_failed = sum(1 for r in records if not _is_ok(r)) - n_partial
    n_unsized = len(records) - n_shown - n_failed - n_partial
    parts = []
    if n_failed:
        parts.append(f"{n_failed} failed")
    if n_partial:
        parts.append(f"{n_partial} partial")
    if n_unsized:
        parts.append(f"{n_unsized} without n_params")
    return f"\n({', '.join(parts)} left out)" if parts else ""


def plot_score_vs_params(
    evaluations_or_estimator: Any, ax: Axes | None = None, *, score_name: str | None = None
) -> Axes:
    """Scatter every successful candidate: score against parameter count.

    Points are coloured by generation (one colour per generation, with a
    colorbar), the parameter axis is logarithmic, and the best candidate is
    circled. Failed candidates have no score and are left out; the title
    says how many.

    Parameters
    ----------
    evaluations_or_estimator : EvolutionaryNASClassifier or list of dict
        A fitted search, or its ``evaluations_`` (one dict per trained
        candidate with at least ``generation``, ``score``, ``status`` and,
        when ``status`` is ``"ok"``, ``n_params``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when None.
    score_name : str, optional
        The y-axis label; see :func:`plot_fitness`.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on: ``ax.collections[0]`` holds the candidates and
        ``ax.collections[1]`` the best one.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If there are no evaluations, or none succeeded.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> evaluations = [
    ...     {"index": 0, "generation": 0, "score": 0.7, "status": "ok", "n_params": 1200},
    ...     {"index": 1, "generation": 0, "score": float("nan"), "status": "failed"},
    ...     {"index": 2, "generation": 1, "score": 0.9, "status": "ok", "n_params": 56000},
    ... ]
    >>> ax = plot_score_vs_params(evaluations)
    >>> len(ax.collections[0].get_offsets()), ax.get_xscale()
    (2, 'log')
    >>> ax.collections[1].get_offsets().tolist()  # the best candidate
    [[56000.0, 0.9]]
    >>> ax.get_title().splitlines()[-1]
    '(1 failed left out)'
    """
    estimator = _estimator(evaluations_or_estimator, ["evaluations_", "best_genome_"])
    records = _rows(
        evaluations_or_estimator if estimator is None else estimator.evaluations_,
        "evaluations",
        _EVALUATION_KEYS,
    )
    shown = [r for r in records if _is_ok(r) and _float(r, "n_params") > 0]
    if not shown:
        raise ValueError(
            f"none of the {len(records)} evaluated candidates succeeded with a parameter "
            "count (n_params): nothing to plot"
        )
    best = _best_record(shown if estimator is None else records, _best_key(estimator))
    ax = _axes(ax)
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm
    from matplotlib.ticker import MaxNLocator

    generations = np.array([int(r["generation"]) for r in shown])
    first, last = int(generations.min()), int(generations.max())
    cmap = colormaps["viridis"].resampled(last - first + 1)
    norm = BoundaryNorm(np.arange(first - 0.5, last + 1.5), cmap.N)
    points = ax.scatter(
        [_float(r, "n_params") for r in shown],
        [_float(r, "score") for r in shown],
        c=generations,
        cmap=cmap,
        norm=norm,
        alpha=0.85,
        edgecolors="none",
        label="candidates",
    )
    ax.scatter(
        [_float(best, "n_params")],
        [_float(best, "score")],
        s=220,
        facecolors="none",
        edgecolors="red",
        linewidths=2,
        label=f"best ({_name(best)})",
    )
    colorbar = ax.figure.colorbar(points, ax=ax, label="generation")
    colorbar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters")
    ax.set_ylabel(_score_label(estimator, score_name))
    ax.set_title(f"Score vs. size of {len(shown)} candidates{_left_out(records, len(shown))}")
    ax.legend(loc="best")
    return ax


# --------------------------------------------------------------------------- learning curves
def _curves(record: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The record's per-epoch curves as float arrays, or a clear error."""
    curves = record.get("curves")
    if not isinstance(curves, Mapping) or not curves.get("train_loss"):
        detail = f": {record['error']}" if record.get("error") else ""
        raise ValueError(
            f"record {_name(record)!r} (status "
            f"{record.get('status')!r}) has no learning curves to plot{detail}"
        )
    return {
        name: np.asarray(curves.get(name, []), dtype=float)
        for name in ("train_loss", "valid_loss", "valid_score")
    }


def _refit_loss(estimator: BaseEstimator) -> np.ndarray:
    """Per-epoch training loss of the refit (of the best member) on all the data."""
    losses = getattr(estimator, "refit_losses_", None)
    if losses:
        return np.asarray(losses[0], dtype=float)
    return np.asarray(estimator.best_estimator_.history[:, "train_loss"], dtype=float)


def plot_learning_curves(
    estimator_or_record: Any, ax: Axes | None = None, *, score_name: str | None = None
) -> Axes:
    """Plot the best network's learning curves from the search.

    Training and validation loss per epoch go on the left axis and the
    validation score on a twin right axis; a vertical line marks the best
    epoch. Given the estimator, the training loss of the refit on all the
    data (of the final model's first member, without a validation part) is
    drawn dashed. (The candidate's ``score`` is the mean validation score of
    its last three epochs, or with ``patience`` over the best epoch and its
    two neighbours, so it can lie below the curve's peak.)

    Parameters
    ----------
    estimator_or_record : EvolutionaryNASClassifier or dict
        A fitted search (its best genome's record in ``evaluations_`` is
        plotted), or one successful record of ``evaluations_`` (with
        ``curves`` and ``best_epoch``).
    ax : matplotlib.axes.Axes, optional
        Where to draw the losses; a new figure is made when None. The
        validation score goes on ``ax.twinx()``.
    score_name : str, optional
        The right axis label; see :func:`plot_fitness`.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The loss Axes. The score Axes shares its x axis and holds the legend.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If the record has no learning curves (e.g. the candidate failed).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> record = {"key": "0123456789", "status": "ok", "best_epoch": 2, "curves": {
    ...     "train_loss": [1.0, 0.6, 0.5], "valid_loss": [0.9, 0.7, 0.75],
    ...     "valid_score": [0.6, 0.8, 0.78]}}
    >>> ax = plot_learning_curves(record)
    >>> [line.get_label() for line in ax.get_lines()]
    ['train loss', 'validation loss', 'best epoch (2)']
    >>> list(ax.get_lines()[-1].get_xdata())  # the best epoch line
    [2, 2]
    """
    estimator = _estimator(estimator_or_record, ["evaluations_", "best_genome_", "best_estimator_"])
    if estimator is not None:
        record = _best_record(estimator.evaluations_, _best_key(estimator))
    elif isinstance(estimator_or_record, Mapping):
        record = estimator_or_record
    else:
        raise TypeError(
            "estimator_or_record must be a fitted EvolutionaryNASClassifier or one dict "
            f"of evaluations_, got {type(estimator_or_record).__name__} instead"
        )
    curves = _curves(record)
    ax = _axes(ax)
    epochs = np.arange(1, len(curves["train_loss"]) + 1)
    ax.plot(epochs, curves["train_loss"], "-", color="C0", label="train loss")
    if curves["valid_loss"].size:
        valid = curves["valid_loss"]
        ax.plot(epochs[: valid.size], valid, "-", color="C1", label="validation loss")
    if estimator is not None:
        refit = _refit_loss(estimator)
        ax.plot(np.arange(1, refit.size + 1), refit, "--", color="C0", label="refit train loss")
    if record.get("best_epoch") is not None:
        best_epoch = int(record["best_epoch"])
        ax.axvline(best_epoch, color="0.4", linestyle=":", label=f"best epoch ({best_epoch})")
    score_label = _score_label(estimator, score_name)
    score_ax = ax.twinx()
    if curves["valid_score"].size:
        score_ax.plot(
            epochs[: curves["valid_score"].size],
            curves["valid_score"],
            "o-",
            color="C2",
            markersize=3,
            label=score_label,
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    score_ax.set_ylabel(score_label)
    ax.set_title(f"Learning curves of the best network ({_name(record)})")
    handles = [*ax.get_lines(), *score_ax.get_lines()]
    score_ax.legend(handles, [str(h.get_label()) for h in handles], loc="best")
    return ax


# --------------------------------------------------------------------------- all three
def plot_search(estimator: Any, *, figsize: tuple[float, float] = (17.0, 4.8)) -> Figure:
    """Draw the fitness, score-vs-size and learning-curve plots of a search side by side.

    The three panels are :func:`plot_fitness`, :func:`plot_score_vs_params`
    and :func:`plot_learning_curves` of ``estimator``.

    Parameters
    ----------
    estimator : EvolutionaryNASClassifier
        A fitted search.
    figsize : tuple of float, default=(17.0, 4.8)
        Figure size in inches.

    Returns
    -------
    fig : matplotlib.figure.Figure
        A new figure; its first three Axes are the three plots (the
        colorbar and the twin score axis follow).

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``estimator`` is not an estimator.
    sklearn.exceptions.NotFittedError
        If it is not fitted.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from skevonas import EvolutionaryNASClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = EvolutionaryNASClassifier(population_size=4, n_generations=2, max_epochs=2,
    ...                                 random_state=0).fit(X, y)
    >>> fig = plot_search(clf)
    >>> [ax.get_title().splitlines()[0] for ax in fig.axes[:3]]  # doctest: +ELLIPSIS
    ['Fitness by generation', 'Score vs. size of ... candidates', 'Learning curves of ...']
    """
    if not isinstance(estimator, BaseEstimator):
        raise TypeError(
            "plot_search needs a fitted EvolutionaryNASClassifier, got "
            f"{type(estimator).__name__} instead; plot lists with plot_fitness, "
            "plot_score_vs_params and plot_learning_curves"
        )
    check_is_fitted(estimator, ["history_", "evaluations_", "best_genome_", "best_estimator_"])
    plt = _pyplot()
    fig, (fitness_ax, size_ax, curves_ax) = plt.subplots(
        1, 3, figsize=figsize, layout="constrained"
    )
    plot_fitness(estimator, ax=fitness_ax)
    plot_score_vs_params(estimator, ax=size_ax)
    plot_learning_curves(estimator, ax=curves_ax)
    return fig
