"""EvolutionaryNASClassifier: the scikit-learn contract around the search.

This file checks settings, prepares the data, runs the evolution loop
(:func:`skevonas.evolution.evolve`) with the evaluation worker, and refits the
fittest genome. It holds no genetic-algorithm logic of its own.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import time
import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from joblib import Parallel, effective_n_jobs
from sklearn.utils.validation import check_is_fitted

from .base import NetClassifierBase, is_int, is_real
from .builders import estimate_macs
from .builders.layers import channel_stats
from .callbacks import ProgressBar, ProgressPrinter, SearchCallback, TimeBudget
from .checkpoint import (
    CheckpointError,
    append_result,
    clear_checkpoint,
    has_checkpoint,
    load_checkpoint,
    load_journal,
    save_checkpoint,
)
from .devices import DevicePool, device_for, resolve_devices, threads_per_worker
from .eeg import standard_eeg_genomes
from .evaluation import (
    CandidateData,
    TrainSettings,
    candidate_seed,
    evaluate_candidate,
    fit_final,
)
from .evolution import SearchState, evolve
from .fidelity import rung_budgets, successive_halving
from .fixed import parse_genome
from .genome import Genome
from .operators import CROSSOVERS, SELECTIONS
from .parallel import iter_batch, share_once
from .space import SPACES, SearchSpace, get_space

__all__ = ["EvolutionaryNASClassifier", "SearchFailedError"]

logger = logging.getLogger(__name__)


class SearchFailedError(RuntimeError):
    """Every candidate of a search failed, so there is no model to refit.

    A :class:`RuntimeError`. Its message gives the errors the candidates
    reported, or says that the time ran out before any candidate finished.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = EvolutionaryNASClassifier(population_size=2, n_generations=1, max_time=1e-6)
    >>> try:
    ...     clf.fit(X, y)  # the time is up before the first candidate starts
    ... except SearchFailedError as exc:
    ...     print(exc)  # doctest: +ELLIPSIS
    no candidate finished training (...); raise max_time or lower the budget per candidate
    """


def _describe(value: Any) -> Any:
    """A JSON value standing for a setting: plain values as they are, objects by type."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_describe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _describe(v) for k, v in sorted(value.items(), key=str)}
    if isinstance(value, np.random.RandomState):
        return "RandomState instance"
    kind = value if isinstance(value, type) else type(value)
    return f"{kind.__module__}.{getattr(kind, '__qualname__', kind.__name__)}"


def _data_fingerprint(X: np.ndarray, y: np.ndarray, est: Any) -> dict[str, Any]:
    """What identifies the training data: shape, classes and a hash of the values."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(X, dtype=np.float32).data)
    digest.update(np.ascontiguousarray(y, dtype=np.int64).data)
    return {
        "shape": [int(n) for n in X.shape],
        "classes": [str(c) for c in est.classes_],
        "sha256": digest.hexdigest(),
    }


def _check_compatible(saved: dict[str, Any], now: dict[str, Any], source: str) -> None:
    """Raise CheckpointError naming every setting or data property that changed."""
    problems = []
    for name, value in now["settings"].items():
        old = saved.get("settings", {}).get(name, "<missing>")
        if old != value:
            problems.append(f"{name}={old!r} there, {value!r} here")
    old_data = saved.get("data", {})
    for name in ("shape", "classes"):
        if old_data.get(name) != now["data"][name]:
            problems.append(f"data {name} {old_data.get(name)!r} there, {now['data'][name]!r} here")
    if not problems and old_data.get("sha256") != now["data"]["sha256"]:
        problems.append("the data values differ (another X or y of the same shape)")
    if problems:
        raise CheckpointError(
            f"cannot continue the search from {source}: it was made with other settings "
            "or data:\n  - "
            + "\n  - ".join(problems)
            + "\nUse the same data and settings, or warm_start=False to start anew."
        )


@dataclass(frozen=True)
class _Workers:
    """What every candidate of one ``fit`` is trained with, and where."""

    parallel: Parallel
    data: CandidateData
    settings: TrainSettings
    entropy: int
    devices: list[str]
    pool: DevicePool | None
    n_threads: int
    deadline: float | None


class EvolutionaryNASClassifier(NetClassifierBase):
    """Classifier whose neural architecture is evolved by a genetic algorithm.

    ``fit`` splits the training data into an internal (stratified) training
    part and a validation part, evolves a population of network genomes (each
    candidate trained with skorch on the training part, scored on the
    validation part), then refits the fittest genome on all the data. The
    model family follows the input: 2-D ``(n_samples, n_features)`` input
    gives MLPs, 3-D ``(n_samples, n_channels, n_times)`` input (EEG epochs,
    multichannel time series) gives 1-D CNNs over time, 4-D
    ``(n_samples, channels, height, width)`` input gives 2-D CNNs.

    Parameters
    ----------
    search_space : str or SearchSpace, default="auto"
        The genomes the search may visit. ``"auto"`` picks the family from
        the dimensions of ``X``: ``"mlp"`` for 2-D ``X``, ``"eeg"``
        (:func:`skevonas.eeg.eeg_space`: temporal, spatial and separable
        convolutions, pooling, ShallowConvNet's square and log...) for 3-D
        ``X``, ``"cnn2d"`` for 4-D ``X``. ``"cnn1d"`` is the EEG-NAS thesis's
        plain layer list over ``(channels, time)``; ``"keras_mlp"`` and
        ``"naturalselection"`` are the MLP spaces of two earlier GA systems
        (:mod:`skevonas.presets`).
    initial_genomes : "auto", None or list, default="auto"
        Genomes placed in the first generation (repaired into the search
        space); the rest of it is random. ``"auto"`` seeds an ``"eeg"``
        search with ShallowConvNet and EEGNet-8,2
        (:func:`skevonas.eeg.standard_eeg_genomes`) and other searches with
        nothing; ``None`` makes the first generation all random. A list may
        hold :class:`~skevonas.Genome` objects, their dicts or JSON strings,
        e.g. ``[shallow_convnet_genome(sfreq=128)]``; duplicates count once,
        and at most ``population_size`` are used.
    population_size : int, default=10
        Genomes per generation.
    n_generations : int, default=5
        Generations to evolve (the first one is random).
    elite_size : int, default=2
        Best genomes copied unchanged into the next generation (at least 1,
        at most ``population_size - 1``): the best genome found so far always
        survives.
    selection : {"tournament", "roulette"}, default="tournament"
        Parent selection: tournaments of ``tournament_size`` genomes, or
        fitness-proportional (roulette-wheel) selection.
    tournament_size : int, default=3
        Entrants per tournament.
    crossover : {"both", "gene", "layer"}, default="both"
        Gene-wise crossover (each gene from one parent), layer-wise crossover
        (whole layers inherited, one cut point per parent), or either with
        equal probability.
    crossover_rate : float, default=0.5
        Probability that an offspring comes from crossover rather than a
        copy of one parent.
    mutation_rate : float, default=0.8
        Probability that an offspring is mutated. A mutation always changes
        the genome: a numeric step or categorical redraw of one gene, or
        adding, removing or replacing a layer. Offspring that duplicate a
        genome already seen are mutated again, so the search rarely wastes a
        slot; duplicates that remain are never trained twice.
    max_epochs : int, default=30
        Most epochs any candidate trains.
    patience : int, default=5
        Epochs without improvement on the validation part before a candidate
        stops; its best epoch's weights and score are kept.
    min_epochs : int or None, default=None
        Multi-fidelity evaluation (:mod:`skevonas.fidelity`). ``None`` trains
        every candidate for up to ``max_epochs``. An int turns on successive
        halving within each generation: all new candidates train for about
        ``min_epochs`` epochs, the best ``1 / halving_factor`` of them go on,
        from where they stopped, for ``halving_factor`` times more, and so on
        up to ``max_epochs`` (e.g. 3, 10, 30 epochs for ``min_epochs=3``,
        ``max_epochs=30``). Candidates stopped early are recorded with status
        ``"partial"`` and their score at that budget; only full-budget scores
        compete for ``best_genome_``, and partial ones rank below them in
        selection.
    halving_factor : int, default=3
        With ``min_epochs``, the ratio between successive budgets, and one in
        ``halving_factor`` candidates goes on to the next.
    max_time : float or None, default=None
        Seconds for the whole search. When they are up, candidates still
        training stop (keeping what they reached), candidates not started are
        skipped, and the best genome so far is refitted: ``fit`` returns
        within ``max_time`` plus about one epoch, plus the refit.
    candidate_time_limit : float or None, default=None
        Seconds any one candidate may train (checked after every epoch); a
        candidate that hits it is scored on what it reached.
    validation_fraction : float, default=0.2
        Share of the training data held out (stratified) to score candidates.
    scoring : str or callable, default="accuracy"
        Any scikit-learn scorer name (``"balanced_accuracy"``,
        ``"roc_auc"``, ``"neg_log_loss"``...) or scorer callable; higher is
        better.
    standardize : bool, default=True
        Standardise inputs inside every network: per feature for 2-D input,
        per channel for 3-D and 4-D input. Statistics come from the internal
        training part during the search and from all of ``X`` for the refit.
    net_params : dict or None, default=None
        Extra keyword arguments for every skorch ``NeuralNetClassifier`` the
        search trains, and for the refit: skorch callbacks (e.g.
        ``{"callbacks": [LRScheduler(policy="StepLR", step_size=10)]}``, added
        to skevonas's own) and any skorch setting such as
        ``"optimizer__weight_decay": 1e-4``. They must pickle when
        ``n_jobs`` is not 1.
    n_jobs : int or None, default=None
        Candidates evaluated in parallel with joblib (``None`` means 1 unless
        in a :func:`joblib.parallel_backend` context; ``-1`` means all cores).
    torch_threads : int or None, default=1
        Torch threads per candidate. Small networks train fastest with one
        thread per candidate and ``n_jobs`` candidates side by side (on 2
        cores, a second thread gave a 1-D CNN on SCP1 about 1.15x, and under
        load it was often many times slower). ``None`` shares the cores among
        the workers (``cpu_count // n_jobs``), for large networks.
    device : str or list of str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``, a list of devices, or ``"auto"``
        (all visible GPUs, else the CPU). With GPUs, each worker process is
        pinned to one GPU for the whole search.
    candidates_per_device : int, default=1
        Candidates training at once on each GPU (small networks share a GPU
        well). With GPUs and ``n_jobs=None``, the search runs
        ``len(devices) * candidates_per_device`` workers. Ignored on the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the genetic algorithm and every candidate's training.
        With an int, a search on CPU is reproducible.
    verbose : int, default=0
        0 is silent (failed candidates still raise a warning); 1 shows a
        progress bar (tqdm, on stderr) with the generation, candidates
        trained, best score so far and, with ``max_time``, the time left; 2
        also prints one line per generation and the result. Library messages
        go to the ``skevonas`` :mod:`logging` loggers whatever ``verbose`` is.
    callbacks : list of SearchCallback or None, default=None
        Search-level callbacks (see :mod:`skevonas.callbacks`): watch the
        search, or stop it (:class:`~skevonas.callbacks.EarlyStopping`,
        :class:`~skevonas.callbacks.TargetScore`...).
    checkpoint_dir : str, path or None, default=None
        A folder where the search state is written after every generation
        (atomically, as JSON; see :mod:`skevonas.checkpoint`), and every
        candidate's result as soon as it arrives. A new ``fit`` (with
        ``warm_start=False``) clears the checkpoint files it finds there.
    warm_start : bool, default=False
        Continue the earlier search instead of starting a new one: from the
        checkpoint in ``checkpoint_dir`` when there is one (e.g. after a
        crash), else from this estimator's last ``fit``. The search goes on
        up to ``n_generations`` in all; nothing already trained is trained
        again, and on CPU the result equals that of an uninterrupted search.
        The data and the settings that decide the scores (``search_space``,
        ``population_size``, ``max_epochs``, ``patience``, ``min_epochs``,
        ``halving_factor``, ``candidate_time_limit``, ``validation_fraction``, ``scoring``,
        ``standardize``, ``net_params``, ``random_state``) must be the same,
        or ``fit`` raises :class:`~skevonas.checkpoint.CheckpointError`; the
        genetic operators' settings, budgets and parallelism may change.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Size of axis 1 of ``X`` (features for 2-D input, channels otherwise).
    sample_shape_ : tuple of int
        Shape of one sample, ``X.shape[1:]``.
    search_space_ : SearchSpace
        The search space, bound to ``sample_shape_``.
    best_genome_ : Genome
        The fittest genome; ``print(best_genome_)`` and
        ``best_genome_.to_json()`` describe it.
    best_score_ : float
        Its score on the validation part.
    best_estimator_ : skorch.NeuralNetClassifier
        The fittest genome refitted on all of ``X, y``.
    history_ : list of dict
        One row per generation: best, mean, std and min score of the
        population, best so far, new evaluations, cache hits, failures,
        seconds and elapsed time. ``pandas.DataFrame(history_)`` loads it.
    evaluations_ : list of dict
        One row per trained candidate: genome, score, status, generation,
        parents, epochs, best epoch, fit time, parameters, learning curves.
    n_evaluations_ : int
        Candidates trained (cache hits excluded).
    stop_reason_ : str
        Why the search ended.
    search_state_ : SearchState
        The state of the search (records, population, history, random
        generator), from which ``warm_start`` continues.
    search_time_, refit_time_ : float
        Seconds spent searching and refitting.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = EvolutionaryNASClassifier(population_size=4, n_generations=2,
    ...                                 max_epochs=5, random_state=0).fit(X, y)
    >>> clf.best_genome_.family
    'mlp'
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        search_space: str | SearchSpace = "auto",
        initial_genomes: str | Sequence[Any] | None = "auto",
        population_size: int = 10,
        n_generations: int = 5,
        elite_size: int = 2,
        selection: str = "tournament",
        tournament_size: int = 3,
        crossover: str = "both",
        crossover_rate: float = 0.5,
        mutation_rate: float = 0.8,
        max_epochs: int = 30,
        patience: int = 5,
        min_epochs: int | None = None,
        halving_factor: int = 3,
        max_time: float | None = None,
        candidate_time_limit: float | None = None,
        validation_fraction: float = 0.2,
        scoring: Any = "accuracy",
        standardize: bool = True,
        net_params: dict | None = None,
        n_jobs: int | None = None,
        torch_threads: int | None = 1,
        device: str | Sequence[str] = "cpu",
        candidates_per_device: int = 1,
        random_state: Any = None,
        verbose: int = 0,
        callbacks: list | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        warm_start: bool = False,
    ) -> None:
        self.search_space = search_space
        self.initial_genomes = initial_genomes
        self.population_size = population_size
        self.n_generations = n_generations
        self.elite_size = elite_size
        self.selection = selection
        self.tournament_size = tournament_size
        self.crossover = crossover
        self.crossover_rate = crossover_rate
        self.mutation_rate = mutation_rate
        self.max_epochs = max_epochs
        self.patience = patience
        self.min_epochs = min_epochs
        self.halving_factor = halving_factor
        self.max_time = max_time
        self.candidate_time_limit = candidate_time_limit
        self.validation_fraction = validation_fraction
        self.scoring = scoring
        self.standardize = standardize
        self.net_params = net_params
        self.n_jobs = n_jobs
        self.torch_threads = torch_threads
        self.device = device
        self.candidates_per_device = candidates_per_device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.checkpoint_dir = checkpoint_dir
        self.warm_start = warm_start

    # ------------------------------------------------------------------ settings
    def _check_params(self) -> list[str]:
        """Validate every setting; return the devices to use."""
        problems = []

        def need(ok: bool, name: str, rule: str) -> None:
            if not ok:
                problems.append(f"{name} must be {rule}, got {getattr(self, name)!r} instead")

        space = self.search_space
        need(
            isinstance(space, SearchSpace) or space in ("auto", *SPACES),
            "search_space",
            f"one of {['auto', *SPACES]} or a SearchSpace",
        )
        seeds = self.initial_genomes
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
            ("patience", 1),
            ("halving_factor", 2),
        ):
            value = getattr(self, name)
            need(is_int(value) and value >= low, name, f"an int >= {low}")
        low_epochs = self.min_epochs
        need(
            low_epochs is None
            or (
                is_int(low_epochs)
                and low_epochs >= 1
                and (not is_int(self.max_epochs) or low_epochs <= self.max_epochs)
            ),
            "min_epochs",
            "None or an int in [1, max_epochs]",
        )
        need(self.selection in SELECTIONS, "selection", f"one of {sorted(SELECTIONS)}")
        need(
            self.crossover in ("both", *CROSSOVERS), "crossover", f"one of {['both', *CROSSOVERS]}"
        )
        for name in ("crossover_rate", "mutation_rate"):
            value = getattr(self, name)
            need(is_real(value) and 0 <= value <= 1, name, "a float in [0, 1]")
        for name in ("max_time", "candidate_time_limit"):
            value = getattr(self, name)
            need(value is None or (is_real(value) and value > 0), name, "None or a number > 0")
        vf = self.validation_fraction
        need(is_real(vf) and 0 < vf < 1, "validation_fraction", "a float in (0, 1)")
        problems += self._training_problems()
        need(
            self.n_jobs is None or (is_int(self.n_jobs) and self.n_jobs != 0),
            "n_jobs",
            "None or a non-zero int",
        )
        need(is_int(self.verbose) and self.verbose >= 0, "verbose", "an int >= 0")
        need(
            self.callbacks is None
            or (
                isinstance(self.callbacks, (list, tuple))
                and all(isinstance(cb, SearchCallback) for cb in self.callbacks)
            ),
            "callbacks",
            "None or a list of SearchCallback instances",
        )
        need(
            self.checkpoint_dir is None or isinstance(self.checkpoint_dir, (str, os.PathLike)),
            "checkpoint_dir",
            "None or a folder path",
        )
        need(isinstance(self.warm_start, (bool, np.bool_)), "warm_start", "True or False")
        devices: list[str] = []
        try:
            devices = resolve_devices(self.device)
        except ValueError as exc:
            problems.append(str(exc))
        if problems:
            raise ValueError(
                f"Invalid settings for {type(self).__name__}:\n  - " + "\n  - ".join(problems)
            )
        return devices

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> EvolutionaryNASClassifier:
        """Evolve architectures on ``X, y`` and refit the fittest on all of it.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training data: ``(n_samples, n_features)``, ``(n_samples,
            n_channels, n_times)`` or ``(n_samples, channels, height,
            width)``; never NaN or infinite.
        y : array-like of shape (n_samples,)
            Class labels (ints or strings); at least two classes.

        Returns
        -------
        self : EvolutionaryNASClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            For invalid settings (all of them listed in one message), or data
            that does not suit them.
        CheckpointError
            With ``warm_start=True``, if the checkpoint or the last fit was made
            with other data or other settings that decide the scores.
        SearchFailedError
            If every candidate failed.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = EvolutionaryNASClassifier(population_size=2, n_generations=2, max_epochs=2,
        ...                                 random_state=0)
        >>> clf.fit(X, y) is clf
        True
        >>> clf.search_space_.name, len(clf.history_), clf.stop_reason_
        ('mlp', 2, 'completed 2 generations')
        """
        devices = self._check_params()
        X, y_enc = self._encode_targets(X, y)
        self.search_space_ = get_space(self.search_space, self.sample_shape_)
        initial_genomes = self._initial_genomes()
        meta: dict[str, Any] = {
            "settings": self._score_settings(initial_genomes),
            "data": _data_fingerprint(X, y_enc, self),
            # for the record: every setting of the run that wrote the state
            "params": {k: _describe(v) for k, v in sorted(self.get_params().items())},
        }
        resume, journal = self._resume_point(meta)

        # One seed source: random_state -> SeedSequence -> split, GA, candidates,
        # refit. A resumed search keeps the entropy it began with.
        entropy = int(resume.meta["entropy"]) if resume is not None else self._entropy()
        meta["entropy"] = entropy
        split_seed, ga_ss, refit_seed = self._seeds(entropy)
        data = self._candidate_data(X, y_enc, split_seed)
        settings = TrainSettings(
            self.max_epochs,
            self.patience,
            self.scoring,
            dict(self.net_params or {}),
            self.candidate_time_limit,
        )
        n_jobs, pool = self.n_jobs, None
        if any(d.startswith("cuda") for d in devices):
            pool = DevicePool(tuple(devices), self.candidates_per_device, uuid.uuid4().hex)
            n_jobs = pool.n_slots if n_jobs is None else n_jobs
        n_threads = threads_per_worker(effective_n_jobs(n_jobs), self.torch_threads)
        deadline = None if self.max_time is None else time.time() + self.max_time
        callbacks = self._search_callbacks(deadline)
        folder = self.checkpoint_dir
        checkpoint = None
        if folder is not None:

            def checkpoint(state: SearchState) -> None:
                state.meta = meta
                save_checkpoint(folder, state)

        logger.info(
            "%s %r search: population %d, %d generations, %d training samples, "
            "%d validation samples, n_jobs=%s, devices %s",
            "resuming the" if resume is not None else "starting a",
            self.search_space_.name,
            self.population_size,
            self.n_generations,
            len(data.y_train),
            len(data.y_valid),
            n_jobs,
            devices,
        )
        start = time.perf_counter()
        with (
            share_once(data),
            Parallel(n_jobs=n_jobs, return_as="generator_unordered") as parallel,
        ):
            workers = _Workers(
                parallel, data, settings, entropy, devices, pool, n_threads, deadline
            )

            def evaluate(genomes: Sequence[Genome], generation: int) -> Iterator[tuple[int, dict]]:
                # Results journaled before a crash come back without training.
                todo = []
                for i, genome in enumerate(genomes):
                    if genome.key() in journal:
                        yield i, journal.pop(genome.key())
                    else:
                        todo.append(i)
                batch = [genomes[i] for i in todo]
                for j, result in self._evaluate_generation(workers, batch):
                    if folder is not None and result["status"] != "skipped":
                        append_result(folder, generation, batch[j], result)
                    yield todo[j], result

            state = evolve(
                self.search_space_,
                evaluate,
                population_size=self.population_size,
                n_generations=self.n_generations,
                rng=np.random.default_rng(ga_ss),
                elite_size=min(self.elite_size, self.population_size - 1),
                selection=self.selection,
                tournament_size=self.tournament_size,
                crossover=self.crossover,
                crossover_rate=self.crossover_rate,
                mutation_rate=self.mutation_rate,
                callbacks=callbacks,
                initial_population=initial_genomes,
                resume=resume,
                checkpoint=checkpoint,
            )
        state.meta = meta
        self.search_state_ = state
        self.search_time_ = time.perf_counter() - start
        self.history_ = state.history
        self.evaluations_ = [record.to_dict() for record in state.records]
        self.n_evaluations_ = len(state.records)
        self.stop_reason_ = state.stop_reason
        best = state.best
        if best is None and (best := state.best_partial()) is not None:
            warnings.warn(
                f"no candidate trained for its full budget before the search ended "
                f"({state.stop_reason}); refitting the best partial one, scored after "
                f"{best.info.get('epochs')} epochs",
                RuntimeWarning,
                stacklevel=2,
            )
        if best is None:
            errors = sorted({str(r.info.get("error")) for r in state.records})
            if not state.records:
                raise SearchFailedError(
                    f"no candidate finished training ({state.stop_reason}); "
                    "raise max_time or lower the budget per candidate"
                )
            raise SearchFailedError(
                f"all {len(state.records)} candidates failed, so there is no model to "
                f"refit. Errors seen: {'; '.join(errors[:5])}"
            )
        self.best_genome_ = best.genome
        self.best_score_ = float(best.score)

        start = time.perf_counter()
        self.best_estimator_ = fit_final(
            self.best_genome_,
            X,
            y_enc,
            len(self.classes_),
            epochs=int(best.info.get("best_epoch", self.max_epochs)),
            input_stats=channel_stats(X) if self.standardize else None,
            settings=settings,
            seed=refit_seed,
            device=devices[0],
            n_threads=threads_per_worker(1, self.torch_threads),
        )
        self.refit_time_ = time.perf_counter() - start
        logger.info(
            "refitted %s on all %d samples in %.1f s",
            self.best_genome_.short_key(),
            len(y_enc),
            self.refit_time_,
        )
        return self

    # ------------------------------------------------------------------ resume
    def _score_settings(self, initial_genomes: list[Genome]) -> dict[str, Any]:
        """The settings a resumed search must share with the one it continues (as JSON).

        ``initial_genomes`` is what :meth:`_initial_genomes` returned for this fit.
        """
        space = self.search_space
        scoring = self.scoring
        random_state = self.random_state
        return {
            "search_space": space if isinstance(space, str) else repr(space),
            "search_space_bound": self.search_space_.name,
            "initial_genomes": [g.key() for g in initial_genomes],
            "population_size": int(self.population_size),
            "max_epochs": int(self.max_epochs),
            "patience": int(self.patience),
            "min_epochs": None if self.min_epochs is None else int(self.min_epochs),
            "halving_factor": int(self.halving_factor),
            "candidate_time_limit": self.candidate_time_limit,
            "validation_fraction": float(self.validation_fraction),
            "scoring": scoring if isinstance(scoring, str) else _describe(scoring),
            "standardize": bool(self.standardize),
            "net_params": {k: _describe(v) for k, v in sorted((self.net_params or {}).items())},
            "random_state": int(random_state) if is_int(random_state) else _describe(random_state),
        }

    def _resume_point(
        self, meta: dict[str, Any]
    ) -> tuple[SearchState | None, dict[str, dict[str, Any]]]:
        """The state to continue (or None) and the journaled results to reuse."""
        folder = self.checkpoint_dir
        on_disk = has_checkpoint(folder)
        if self.warm_start and on_disk and folder is not None:
            state, journal = load_checkpoint(folder), load_journal(folder)
            source = f"the checkpoint in {str(folder)!r}"
        else:
            # Whatever is in the folder is not the search that runs now.
            if folder is not None:
                if on_disk:
                    logger.info("warm_start=False: clearing the checkpoint in %s", folder)
                clear_checkpoint(folder)
            if not (self.warm_start and hasattr(self, "search_state_")):
                return None, {}
            state, journal = copy.deepcopy(self.search_state_), {}
            source = "this estimator's last fit"
        _check_compatible(state.meta, meta, source)
        done = {record.key for record in state.records}
        journal = {key: result for key, result in journal.items() if key not in done}
        logger.info(
            "warm start from %s: %d generations and %d evaluations done, %d more journaled",
            source,
            state.generation + 1,
            len(state.records),
            len(journal),
        )
        return state, journal

    def _initial_genomes(self) -> list[Genome]:
        """The genomes that seed the first generation, checked against the search space."""
        seeds = self.initial_genomes
        if seeds is None:
            return []
        if isinstance(seeds, str):  # "auto", as _check_params made sure
            return standard_eeg_genomes() if self.search_space_.family == "eeg" else []
        genomes, problems = [], []
        for i, item in enumerate(seeds):
            try:
                genome = parse_genome(item)
            except ValueError as exc:
                problems.append(f"initial_genomes[{i}]: {exc}")
                continue
            if genome.family != self.search_space_.family:
                problems.append(
                    f"initial_genomes[{i}] is a {genome.family!r} genome, but the search "
                    f"space {self.search_space_.name!r} holds {self.search_space_.family!r} ones"
                )
            genomes.append(genome)
        if problems:
            raise ValueError("Invalid initial_genomes:\n  - " + "\n  - ".join(problems))
        return genomes

    def _search_callbacks(self, deadline: float | None) -> list[SearchCallback]:
        callbacks = list(self.callbacks or [])
        if self.max_time is not None:
            callbacks.append(TimeBudget(self.max_time, deadline))
        if self.verbose >= 1:
            callbacks.append(ProgressBar(self.max_time))
        if self.verbose >= 2:
            callbacks.append(ProgressPrinter())
        return callbacks

    def _evaluate_generation(
        self, workers: _Workers, genomes: Sequence[Genome]
    ) -> Iterator[tuple[int, dict]]:
        """Train and score genomes; yield ``(index, result)`` as each is final.

        With ``min_epochs``, by successive halving (:mod:`skevonas.fidelity`).
        """
        if self.min_epochs is None:
            tasks = [(i, workers.settings.max_epochs, None) for i in range(len(genomes))]
            yield from self._train(workers, genomes, tasks, False)
            return
        budgets = rung_budgets(self.max_epochs, self.min_epochs, self.halving_factor)

        def run(tasks: Sequence[tuple[int, int, bytes | None]], keep: bool) -> Iterator:
            return self._train(workers, genomes, tasks, keep)

        yield from successive_halving(len(genomes), budgets, self.halving_factor, run)

    def _train(
        self,
        workers: _Workers,
        genomes: Sequence[Genome],
        tasks: Sequence[tuple[int, int, bytes | None]],
        keep_snapshot: bool,
    ) -> Iterator[tuple[int, dict]]:
        """Train ``(index, epochs, snapshot)`` tasks in parallel; yield ``(index, result)``.

        Failed candidates raise a warning.
        """
        # Most expensive first (longest-processing-time order), so the
        # workers finish together; results come back by index anyway.
        costs = [self._cost(genomes[i]) for i, _, _ in tasks]  # one budget per call
        order = sorted(range(len(tasks)), key=lambda k: -costs[k])
        jobs = []
        for position, k in enumerate(order):
            i, epochs, snapshot = tasks[k]
            device = device_for(position, workers.devices)
            jobs.append(
                (
                    genomes[i],
                    workers.data,
                    workers.settings,
                    candidate_seed(workers.entropy, genomes[i]),
                    device if workers.pool is None else (workers.pool, device),
                    workers.n_threads,
                    workers.deadline,
                    epochs,
                    snapshot,
                    keep_snapshot,
                )
            )
        for position, result in iter_batch(workers.parallel, evaluate_candidate, jobs):
            i = tasks[order[position]][0]
            if result["status"] == "failed":
                warnings.warn(
                    f"candidate {genomes[i].short_key()} failed and was recorded as "
                    f"such: {result.get('error')}",
                    RuntimeWarning,
                    stacklevel=4,
                )
            yield i, result

    def _cost(self, genome: Genome) -> int:
        try:
            return estimate_macs(genome, self.sample_shape_, len(self.classes_))
        except Exception:  # noqa: BLE001 - the worker will report what is wrong
            return 0

    # ------------------------------------------------------------------ result
    _net_attribute = "best_estimator_"

    @property
    def best_module_(self) -> Any:
        """The refitted best network as a plain :class:`torch.nn.Module` (eval mode).

        The same object as ``module_``: logits for a float32 batch, usable
        without skevonas; export it with :meth:`to_torchscript` or
        :meth:`to_onnx`.
        """
        return self.module_

    def describe(self) -> str:
        """Readable summary of the best architecture and the search.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = EvolutionaryNASClassifier(population_size=2, n_generations=1, max_epochs=2,
        ...                                 random_state=0).fit(X, y)
        >>> print(clf.describe())  # doctest: +ELLIPSIS
        mlp genome ...
        validation accuracy: ... (2 candidates trained, 1 generations, completed 1 generations)
        """
        check_is_fitted(self)
        return (
            f"{self.best_genome_.describe()}\n"
            f"validation {self.scoring if isinstance(self.scoring, str) else 'score'}: "
            f"{self.best_score_:.4f} ({self.n_evaluations_} candidates trained, "
            f"{len(self.history_)} generations, {self.stop_reason_})"
        )
