"""Checking and reading the estimators' settings.

scikit-learn estimators store their settings untouched in ``__init__`` and
interpret them in ``fit``. This module does the interpreting for both
skevonas classifiers, so that their files hold only the sklearn contract:

- :func:`training_problems` and :func:`search_problems` list what is wrong
  with the settings, one message per bad setting in the house form
  (``"name must be RULE, got VALUE instead"``); the classifiers'
  ``check_settings`` raise one :class:`ValueError` with all of them.
- :func:`recipe`, :func:`ga_settings`, :func:`fidelity`, :func:`workers`
  and :func:`final_stage` read the flat settings into the typed, frozen
  objects the search takes (:class:`~skevonas.training.recipe.Recipe`,
  :class:`~skevonas.evolution.ga.GASettings`,
  :class:`~skevonas.evolution.fidelity.Fidelity`,
  :class:`~skevonas.search.pool.Workers`,
  :class:`~skevonas.search.budget.FinalStage`); :func:`decimation`,
  :func:`seed_sfreq` and :func:`initial_genomes` read the data-dependent
  ones (the sampling rate ``sfreq`` among them). What ``verbose`` shows is
  :class:`skevonas.search.display.Display`'s.

Settings are checked and interpreted here, never wired: nothing here holds
or changes a running search (the time budget belongs to the search's
pipeline, :class:`~skevonas.search.budget.SearchBudget`).
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import get_scorer

from .evolution.callbacks import SearchCallback
from .evolution.fidelity import Fidelity
from .evolution.ga import GASettings
from .evolution.generational import seed_genomes
from .evolution.operators import CROSSOVERS, SELECTIONS
from .search.budget import FinalStage
from .search.pool import Workers
from .search.strategies import STRATEGIES
from .spaces.builders.layers import decimation_factor
from .spaces.catalogue import SPACES
from .spaces.families import get_family
from .spaces.genome import Genome, parse_genome
from .spaces.space import SearchSpace
from .training.augment import EEGAugment
from .training.devices import resolve_devices
from .training.net import MEMORY_FORMATS
from .training.recipe import Recipe

__all__ = [
    "class_weight",
    "class_weight_ok",
    "decimation",
    "fidelity",
    "final_stage",
    "ga_settings",
    "initial_genomes",
    "is_int",
    "is_real",
    "low_data",
    "min_epochs_for",
    "preparation_problems",
    "recipe",
    "search_problems",
    "seed_sfreq",
    "sfreq_problems",
    "training_problems",
    "workers",
]


LR_SCHEDULES = ("constant", "cosine")
HOLDOUTS = ("fixed", "reshuffled")
#: "auto" decimation keeps at most this many time samples of 3-D input.
AUTO_DECIMATION_SAMPLES = 256
#: With a known ``sfreq``, "auto" decimation brings the rate near this (Hz):
#: the rate of EEGNet-8,2 and EEGNeX, the seeds of an EEG search.
AUTO_DECIMATION_SFREQ = 128.0
#: A decimation may not bring a known ``sfreq`` below this (Hz): the seeds'
#: shortest time kernel (ShallowConvNet's 100 ms) would then span fewer than
#: the EEG space's shortest kernel of 3 samples.
MIN_DECIMATED_SFREQ = 32.0


def is_int(value: Any) -> bool:
    """True for integers, False for bools and everything else.

    Examples
    --------
    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    """True for real numbers, False for bools and everything else.

    Examples
    --------
    >>> is_real(0.5), is_real(2), is_real(False), is_real("0.5")
    (True, True, False, False)
    """
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _rule(problems: list[str], est: Any, ok: bool, name: str, rule: str) -> None:
    if not ok:
        problems.append(f"{name} must be {rule}, got {getattr(est, name)!r} instead")


def training_problems(est: Any) -> list[str]:
    """What is wrong with the training settings both classifiers share.

    ``patience``, ``lr_schedule``, ``label_smoothing``, ``class_weight``,
    ``augment``, ``scoring``, ``standardize``, ``net_params`` and
    ``torch_threads``. Whether ``class_weight``'s labels are in ``y`` is
    checked in ``fit`` (:func:`recipe`).

    Examples
    --------
    >>> from skevonas import GenomeClassifier
    >>> for problem in training_problems(GenomeClassifier(scoring="nope", torch_threads=0)):
    ...     print(problem)  # doctest: +ELLIPSIS
    scoring must be a scikit-learn scorer name (...) or a callable, got 'nope' instead
    torch_threads must be None or an int >= 1, got 0 instead
    """
    problems: list[str] = []

    def need(ok: bool, name: str, rule: str) -> None:
        _rule(problems, est, ok, name, rule)

    need(
        est.patience is None or (is_int(est.patience) and est.patience >= 1),
        "patience",
        "None or an int >= 1",
    )
    need(est.lr_schedule in LR_SCHEDULES, "lr_schedule", f"one of {list(LR_SCHEDULES)}")
    smoothing = est.label_smoothing
    need(is_real(smoothing) and 0 <= smoothing < 1, "label_smoothing", "a float in [0, 1)")
    need(
        class_weight_ok(getattr(est, "class_weight", None)),
        "class_weight",
        'None, "balanced" or a dict {label: weight}, each weight a finite number >= 0',
    )
    need(
        est.augment is None or isinstance(est.augment, (bool, np.bool_, EEGAugment)),
        "augment",
        "True, False, None or an EEGAugment",
    )
    scoring = est.scoring
    if not callable(scoring):
        valid = False
        if isinstance(scoring, str):
            try:
                get_scorer(scoring)
                valid = True
            except ValueError:
                pass
        if not valid:
            problems.append(
                "scoring must be a scikit-learn scorer name (see sklearn.metrics."
                f"get_scorer_names()) or a callable, got {scoring!r} instead"
            )
    if not isinstance(est.standardize, (bool, np.bool_)):
        problems.append(f"standardize must be True or False, got {est.standardize!r} instead")
    net_params = est.net_params
    if not (
        net_params is None
        or (isinstance(net_params, dict) and all(isinstance(k, str) for k in net_params))
    ):
        problems.append(
            f"net_params must be None or a dict with string keys, got {net_params!r} instead"
        )
    elif net_params and net_params.get("memory_format", "auto") not in MEMORY_FORMATS:
        problems.append(
            f"net_params['memory_format'] must be one of {list(MEMORY_FORMATS)}, got "
            f"{net_params['memory_format']!r} instead"
        )
    threads = est.torch_threads
    if not (threads is None or (is_int(threads) and threads >= 1)):
        problems.append(f"torch_threads must be None or an int >= 1, got {threads!r} instead")
    return problems + sfreq_problems(getattr(est, "sfreq", None))


def sfreq_problems(sfreq: Any) -> list[str]:
    """What is wrong with a sampling-rate setting ``sfreq``: None or a finite number > 0 (Hz).

    Examples
    --------
    >>> sfreq_problems(None), sfreq_problems(250), sfreq_problems(128.0)
    ([], [], [])
    >>> sfreq_problems(0) + sfreq_problems(float("nan")) + sfreq_problems("250")
    ... # doctest: +NORMALIZE_WHITESPACE
    ['sfreq must be None or a finite number > 0 (Hz), got 0 instead',
     'sfreq must be None or a finite number > 0 (Hz), got nan instead',
     "sfreq must be None or a finite number > 0 (Hz), got '250' instead"]
    """
    if sfreq is None or (is_real(sfreq) and math.isfinite(sfreq) and sfreq > 0):
        return []
    return [f"sfreq must be None or a finite number > 0 (Hz), got {sfreq!r} instead"]


def search_problems(est: Any) -> list[str]:
    """Every problem with the settings of an :class:`~skevonas.EvolutionaryNASClassifier`.

    Examples
    --------
    >>> from skevonas import EvolutionaryNASClassifier
    >>> search_problems(EvolutionaryNASClassifier())
    []
    >>> search_problems(EvolutionaryNASClassifier(population_size=1, selection="best"))
    ... # doctest: +NORMALIZE_WHITESPACE
    ['population_size must be an int >= 2, got 1 instead',
     "selection must be one of ['roulette', 'tournament'], got 'best' instead"]
    """
    problems: list[str] = []

    def need(ok: bool, name: str, rule: str) -> None:
        _rule(problems, est, ok, name, rule)

    space = est.search_space
    need(
        isinstance(space, SearchSpace) or space in ("auto", *SPACES),
        "search_space",
        f"one of {['auto', *SPACES]} or a SearchSpace",
    )
    seeds = est.initial_genomes
    need(
        seeds is None
        or (isinstance(seeds, str) and seeds == "auto")
        or isinstance(seeds, (list, tuple)),
        "initial_genomes",
        '"auto", None or a list of genomes',
    )
    for name, low in (
        ("candidates_per_device", 1),
        ("population_size", 2),
        ("n_generations", 1),
        ("elite_size", 1),
        ("tournament_size", 1),
        ("max_epochs", 1),
        ("halving_factor", 2),
        ("ensemble_size", 1),
        ("n_finalists", 1),
    ):
        value = getattr(est, name)
        need(is_int(value) and value >= low, name, f"an int >= {low}")
    if is_int(est.elite_size) and is_int(est.population_size) and est.population_size >= 2:
        need(
            est.elite_size <= est.population_size,
            "elite_size",
            f"at most population_size ({est.population_size})",
        )
    low_epochs = est.min_epochs
    need(
        low_epochs is None
        or (isinstance(low_epochs, str) and low_epochs == "auto")
        or (
            is_int(low_epochs)
            and low_epochs >= 1
            and (not is_int(est.max_epochs) or low_epochs <= est.max_epochs)
        ),
        "min_epochs",
        '"auto", None or an int in [1, max_epochs]',
    )
    need(est.selection in SELECTIONS, "selection", f"one of {sorted(SELECTIONS)}")
    need(
        isinstance(est.strategy, str) and est.strategy in STRATEGIES,
        "strategy",
        f"one of {list(STRATEGIES)}",
    )
    need(est.crossover in ("both", *CROSSOVERS), "crossover", f"one of {['both', *CROSSOVERS]}")
    for name in ("crossover_rate", "mutation_rate", "local_rate"):
        value = getattr(est, name)
        need(is_real(value) and 0 <= value <= 1, name, "a float in [0, 1]")
    share = est.min_data_fraction
    need(is_real(share) and 0 < share <= 1, "min_data_fraction", "a float in (0, 1]")
    for name in ("max_time", "candidate_time_limit"):
        value = getattr(est, name)
        need(value is None or (is_real(value) and value > 0), name, "None or a number > 0")
    vf = est.validation_fraction
    need(is_real(vf) and 0 < vf < 1, "validation_fraction", "a float in (0, 1)")
    problems += preparation_problems(est)
    problems += training_problems(est)
    need(
        est.n_jobs is None or (is_int(est.n_jobs) and est.n_jobs != 0),
        "n_jobs",
        "None or a non-zero int",
    )
    need(is_int(est.verbose) and est.verbose >= 0, "verbose", "an int >= 0")
    need(
        est.callbacks is None
        or (
            isinstance(est.callbacks, (list, tuple))
            and all(isinstance(cb, SearchCallback) for cb in est.callbacks)
        ),
        "callbacks",
        "None or a list of SearchCallback instances",
    )
    need(
        est.checkpoint_dir is None or isinstance(est.checkpoint_dir, (str, os.PathLike)),
        "checkpoint_dir",
        "None or a folder path",
    )
    for name in ("warm_start", "calibrate"):
        need(isinstance(getattr(est, name), (bool, np.bool_)), name, "True or False")
    share = est.inherit_weights
    need(
        isinstance(share, (bool, np.bool_)) or (is_real(share) and 0 < share <= 1),
        "inherit_weights",
        "True, False or a float in (0, 1]",
    )
    try:
        resolve_devices(est.device)
    except ValueError as exc:
        problems.append(str(exc))
    return problems


def preparation_problems(est: Any) -> list[str]:
    """Problems with the settings of how the search's data is prepared and the winner chosen.

    ``decimate``, ``holdout`` and ``cv`` (the training recipe is checked
    by :func:`training_problems`).

    Examples
    --------
    >>> from skevonas import EvolutionaryNASClassifier
    >>> preparation_problems(EvolutionaryNASClassifier(cv=1, holdout="once"))
    ... # doctest: +NORMALIZE_WHITESPACE
    ["holdout must be one of ['fixed', 'reshuffled'], got 'once' instead",
     'cv must be None or an int >= 2, got 1 instead']
    """
    problems: list[str] = []

    def need(ok: bool, name: str, rule: str) -> None:
        _rule(problems, est, ok, name, rule)

    need(
        (isinstance(est.decimate, str) and est.decimate == "auto")
        or (is_int(est.decimate) and est.decimate >= 1),
        "decimate",
        '"auto" or an int >= 1',
    )
    need(est.holdout in HOLDOUTS, "holdout", f"one of {list(HOLDOUTS)}")
    need(est.cv is None or (is_int(est.cv) and est.cv >= 2), "cv", "None or an int >= 2")
    return problems


def decimation(setting: str | int, sample_shape: Sequence[int], sfreq: float | None = None) -> int:
    """The time-axis decimation factor a fit uses for samples of ``sample_shape``.

    Only 3-D input ``(channels, times)`` is decimated. ``"auto"`` with a
    known sampling rate ``sfreq`` (Hz) takes the factor nearest to ``sfreq
    / 128`` (:data:`AUTO_DECIMATION_SFREQ`, the rate of EEGNet and EEGNeX;
    halves round up, at least 1): 250 Hz and 256 Hz become 125 Hz and
    128 Hz, 1000 Hz becomes 125 Hz, rates below 192 Hz are kept; it never
    leaves fewer than 8 time samples. ``"auto"`` without ``sfreq``
    decimates input with more than :data:`AUTO_DECIMATION_SAMPLES` time
    samples by the smallest integer factor that leaves at most that many.
    An int is used as it is (1: none).

    Raises
    ------
    ValueError
        If an int factor is given for input that has no time axis, leaves
        fewer than 8 time samples, or brings a known ``sfreq`` below
        :data:`MIN_DECIMATED_SFREQ` (32 Hz).

    Examples
    --------
    >>> decimation("auto", (6, 896)), decimation("auto", (28, 50)), decimation("auto", (4,))
    (4, 1, 1)
    >>> [decimation("auto", (6, 1000), sfreq) for sfreq in (100, 160, 250, 512, 1000)]
    [1, 1, 2, 4, 8]
    >>> decimation(16, (6, 1000), sfreq=256)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: decimate=16 brings sfreq=256 Hz down to 16 Hz; at least 32 Hz are needed ...
    """
    if len(sample_shape) != 2:
        if isinstance(setting, str) or setting == 1:
            return 1
        raise ValueError(
            f"decimate={setting!r} needs 3-D input (n_samples, n_channels, n_times); "
            f"got samples of shape {tuple(sample_shape)}"
        )
    n_times = int(sample_shape[1])
    if isinstance(setting, str):
        if sfreq is None:
            return decimation_factor(n_times, AUTO_DECIMATION_SAMPLES)
        factor = max(1, math.floor(sfreq / AUTO_DECIMATION_SFREQ + 0.5))
        return max(1, min(factor, n_times // 8))  # at least 8 samples are left
    if setting > 1 and -(-n_times // setting) < 8:
        raise ValueError(
            f"decimate={setting} leaves {-(-n_times // setting)} of {n_times} time samples; "
            "at least 8 are needed"
        )
    if setting > 1 and sfreq is not None and sfreq / setting < MIN_DECIMATED_SFREQ:
        raise ValueError(
            f"decimate={setting} brings sfreq={sfreq:g} Hz down to {sfreq / setting:g} Hz; at "
            f"least {MIN_DECIMATED_SFREQ:g} Hz are needed (below it the seed networks' shortest "
            "time kernel, 100 ms, spans fewer than 3 samples); use a smaller decimate"
        )
    return int(setting)


def seed_sfreq(sfreq: float | None, factor: int) -> float | None:
    """The rate (Hz) the seeds' kernels are scaled to: ``sfreq`` after decimation by ``factor``.

    None (an unknown rate) keeps the seeds' published lengths.

    Examples
    --------
    >>> seed_sfreq(250.0, 2), seed_sfreq(None, 4)
    (125.0, None)
    """
    return None if sfreq is None else float(sfreq) / factor


#: "auto" multi-fidelity needs at least this many epochs (three rungs at factor 3).
AUTO_HALVING_EPOCHS = 27


def min_epochs_for(setting: int | str | None, max_epochs: int, halving_factor: int) -> int | None:
    """The lowest rung's epochs that ``min_epochs=setting`` means, or None for no halving.

    ``"auto"`` turns successive halving on for budgets of at least
    :data:`AUTO_HALVING_EPOCHS` epochs, from ``max_epochs / halving_factor**2``
    (three rungs), and leaves shorter budgets at full fidelity.

    Examples
    --------
    >>> min_epochs_for("auto", 60, 3), min_epochs_for("auto", 20, 3), min_epochs_for(5, 20, 3)
    (7, None, 5)
    """
    if not isinstance(setting, str):
        return setting
    if max_epochs < AUTO_HALVING_EPOCHS:
        return None
    return max(1, round(max_epochs / halving_factor**2))


def class_weight_ok(value: Any) -> bool:
    """Whether ``value`` is a valid ``class_weight`` (its labels are checked in ``fit``).

    Examples
    --------
    >>> class_weight_ok(None), class_weight_ok("balanced"), class_weight_ok({"a": 2.0})
    (True, True, True)
    >>> class_weight_ok("auto"), class_weight_ok({"a": -1.0}), class_weight_ok([1.0, 2.0])
    (False, False, False)
    """
    if value is None or (isinstance(value, str) and value == "balanced"):
        return True
    return isinstance(value, dict) and all(
        is_real(w) and np.isfinite(w) and w >= 0 for w in value.values()
    )


def class_weight(setting: Any, classes: np.ndarray | None) -> str | tuple[float, ...] | None:
    """The recipe's class weights: None, ``"balanced"``, or one weight per class of ``classes``.

    A dict gives its labels' weights, and 1 to the classes it does not name.

    Raises
    ------
    ValueError
        If a dict names a label that is not among ``classes``.

    Examples
    --------
    >>> class_weight({"b": 3.0}, np.array(["a", "b", "c"]))
    (1.0, 3.0, 1.0)
    >>> class_weight({"d": 3.0}, np.array(["a", "b"]))
    Traceback (most recent call last):
        ...
    ValueError: class_weight has labels that are not classes of y: ['d'] (classes: ['a', 'b'])
    """
    if not isinstance(setting, dict):
        return setting
    labels = [] if classes is None else classes.tolist()
    unknown = [key for key in setting if key not in labels]
    if unknown:
        raise ValueError(
            f"class_weight has labels that are not classes of y: {unknown!r:.200} "
            f"(classes: {labels!r:.200})"
        )
    return tuple(float(setting.get(label, 1.0)) for label in labels)


def recipe(est: Any, sample_ndim: int, classes: np.ndarray | None = None) -> Recipe:
    """How ``est`` trains (every network of a search), for samples of ``sample_ndim`` axes.

    ``augment=True`` means :class:`~skevonas.training.augment.EEGAugment`'s
    defaults; augmentation needs EEG-like input (2 axes per sample:
    channels and time). An estimator without ``holdout`` or
    ``candidate_time_limit`` (:class:`~skevonas.GenomeClassifier`) trains on
    its own split, without a time limit. ``classes`` (those of ``y``) turn
    a ``class_weight`` dict into one weight per class (:func:`class_weight`).

    Raises
    ------
    ValueError
        If augmentation is asked for input that is not EEG-like, or
        ``class_weight`` names a label that is not among ``classes``.

    Examples
    --------
    >>> from skevonas import EvolutionaryNASClassifier
    >>> found = recipe(EvolutionaryNASClassifier(augment=True), sample_ndim=2)
    >>> found.lr_schedule, found.augment, found.reshuffle
    ('cosine', EEGAugment(time_shift=0.1, scale=0.1, noise=0.05, channel_dropout=0.0), True)
    >>> recipe(EvolutionaryNASClassifier(), sample_ndim=1) == Recipe()  # the same defaults
    True
    """
    augment = est.augment
    if augment is True or augment is np.True_:
        augment = EEGAugment()
    elif augment is False or augment is np.False_:
        augment = None
    if augment is not None and sample_ndim != 2:
        raise ValueError(
            f"augment={est.augment!r} augments EEG-like input of shape (n_samples, n_channels, "
            f"n_times); got samples with {sample_ndim} axes"
        )
    return Recipe(
        max_epochs=est.max_epochs,
        patience=est.patience,
        scoring=est.scoring,
        net_params=dict(est.net_params or {}),
        time_limit=getattr(est, "candidate_time_limit", None),
        lr_schedule=est.lr_schedule,
        label_smoothing=float(est.label_smoothing),
        augment=augment,
        reshuffle=getattr(est, "holdout", "fixed") == "reshuffled",
        class_weight=class_weight(getattr(est, "class_weight", None), classes),
    )


def ga_settings(est: Any) -> GASettings:
    """The estimator's nine genetic-algorithm settings, as one frozen object.

    Examples
    --------
    >>> from skevonas import EvolutionaryNASClassifier
    >>> ga = ga_settings(EvolutionaryNASClassifier(population_size=6, elite_size=6))
    >>> ga.population_size, ga.n_elites, ga == GASettings(population_size=6, elite_size=6)
    (6, 5, True)
    """
    return GASettings(
        population_size=est.population_size,
        n_generations=est.n_generations,
        elite_size=est.elite_size,
        selection=est.selection,
        tournament_size=est.tournament_size,
        crossover=est.crossover,
        crossover_rate=est.crossover_rate,
        mutation_rate=est.mutation_rate,
        local_rate=est.local_rate,
    )


def fidelity(
    est: Any, space: SearchSpace | None = None, initial: Sequence[Genome] = ()
) -> Fidelity:
    """How the estimator's search spends epochs (``min_epochs``, ``halving_factor``).

    The ``initial`` genomes, as the search's ``space`` holds them
    (:func:`~skevonas.evolution.generational.seed_genomes`), are protected:
    they go on to the full budget whatever their early scores.

    Examples
    --------
    >>> from skevonas import EvolutionaryNASClassifier
    >>> fidelity(EvolutionaryNASClassifier(max_epochs=9, min_epochs=1)).budgets
    (1, 3, 9)
    >>> fidelity(EvolutionaryNASClassifier(max_epochs=20)).budgets is None  # "auto" below 27
    True
    """
    low = min_epochs_for(est.min_epochs, est.max_epochs, est.halving_factor)
    protected = [g.key() for g in seed_genomes(space, initial)] if space is not None else []
    return Fidelity.halving(est.max_epochs, low, est.halving_factor, protected)


def low_data(est: Any) -> tuple[int, float] | None:
    """Fidelity in data (``min_data_fraction``): the lowest rung's epochs and share, or None.

    None without successive halving (no rung below ``max_epochs``) or with
    ``min_data_fraction=1``.

    Examples
    --------
    >>> from skevonas import EvolutionaryNASClassifier
    >>> low_data(EvolutionaryNASClassifier(min_data_fraction=0.25))  # rungs 11, 33, 100
    (11, 0.25)
    >>> low_data(EvolutionaryNASClassifier(max_epochs=20, min_data_fraction=0.25)) is None
    True
    """
    budgets = fidelity(est).budgets
    share = float(est.min_data_fraction)
    return None if budgets is None or len(budgets) < 2 or share >= 1 else (budgets[0], share)


def workers(est: Any) -> Workers:
    """Where the estimator's search trains, and how many at once.

    Examples
    --------
    >>> from skevonas import EvolutionaryNASClassifier
    >>> workers(EvolutionaryNASClassifier(n_jobs=2))
    Workers(device='cpu', candidates_per_device=1, n_jobs=2, torch_threads=1)
    """
    return Workers(est.device, est.candidates_per_device, est.n_jobs, est.torch_threads)


def final_stage(est: Any) -> FinalStage:
    """What follows the estimator's search: finalists, their folds, the ensemble's size.

    Examples
    --------
    >>> from skevonas import EvolutionaryNASClassifier
    >>> final_stage(EvolutionaryNASClassifier(cv=None))
    FinalStage(finalists=3, folds=None, members=1, calibrate=False)
    """
    return FinalStage(est.n_finalists, est.cv, est.ensemble_size, bool(est.calibrate))


def initial_genomes(
    setting: str | Sequence[Any] | None, space: SearchSpace, sfreq: float | None = None
) -> list[Genome]:
    """The genomes that seed the first generation, checked against ``space``.

    ``"auto"`` gives the family's own seeds that the space can express
    (:meth:`skevonas.spaces.families.Family.seeds_for`: ShallowConvNet, EEGNet and
    EEGNeX for ``"eeg"``, the common 2 x 512 MLP for ``"mlp"``, a small
    VGG-style CNN for ``"cnn2d"``), their time kernels scaled to ``sfreq``
    (Hz, the rate the search sees: :func:`seed_sfreq`) when it is known; ``None``
    gives none; a list may hold genomes, their dicts or JSON strings, used
    as they are.

    Raises
    ------
    ValueError
        Naming every entry that is not a genome, or is of another family.

    Examples
    --------
    >>> from skevonas import mlp_space
    >>> [len(g.layers) for g in initial_genomes("auto", mlp_space().bind((4,)))]
    [2]
    >>> initial_genomes(None, mlp_space().bind((4,)))
    []
    >>> from skevonas import eeg_space
    >>> seeds = initial_genomes("auto", eeg_space().bind((3, 500)), sfreq=64)
    >>> [g.layers[0]["kernel_size"] for g in seeds]  # scaled from 250, 128 and 128 Hz
    [6, 32, 32]
    >>> initial_genomes(["{not json"], mlp_space().bind((4,)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: Invalid initial_genomes:
      - initial_genomes[0]: genome must be ...
    """
    if setting is None:
        return []
    if isinstance(setting, str):  # "auto", as search_problems made sure
        return get_family(space.family).seeds_for(space, sfreq)
    genomes, problems = [], []
    for i, item in enumerate(setting):
        try:
            genome = parse_genome(item)
        except ValueError as exc:
            problems.append(f"initial_genomes[{i}]: {exc}")
            continue
        if genome.family != space.family:
            problems.append(
                f"initial_genomes[{i}] is a {genome.family!r} genome, but the search "
                f"space {space.name!r} holds {space.family!r} ones"
            )
        genomes.append(genome)
    if problems:
        raise ValueError("Invalid initial_genomes:\n  - " + "\n  - ".join(problems))
    return genomes
