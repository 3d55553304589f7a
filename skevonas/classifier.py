"""EvolutionaryNASClassifier: the scikit-learn contract around the search.

This file checks settings, prepares the data, runs the evolution loop
(:func:`skevonas.evolution.evolve`) with the evaluation worker, and refits the
fittest genome. It holds no genetic-algorithm logic of its own.
"""

from __future__ import annotations

import hashlib
import logging
import math
import numbers
import time
import uuid
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from joblib import Parallel, effective_n_jobs
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import get_scorer
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .builders import estimate_macs
from .builders.layers import channel_stats
from .callbacks import ProgressPrinter, SearchCallback, TimeBudget
from .devices import DevicePool, device_for, resolve_devices, threads_per_worker
from .evaluation import CandidateData, TrainSettings, evaluate_candidate, fit_final
from .evolution import evolve
from .genome import Genome
from .operators import CROSSOVERS, SELECTIONS
from .parallel import run_batch, share_once
from .space import SPACES, SearchSpace, get_space

__all__ = ["EvolutionaryNASClassifier", "SearchFailedError"]

logger = logging.getLogger(__name__)


class SearchFailedError(RuntimeError):
    """Every candidate of a search failed, so there is no model to refit."""


def _candidate_seed(entropy: int, genome: Genome) -> int:
    # Keyed by genome, so a candidate's seed does not depend on when or where
    # it runs, nor on the other candidates of its generation.
    digest = int(hashlib.sha1(genome.key().encode()).hexdigest()[:8], 16)
    return int(np.random.SeedSequence([entropy, digest]).generate_state(1)[0])


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class EvolutionaryNASClassifier(ClassifierMixin, BaseEstimator):
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
    search_space : {"auto", "mlp", "cnn1d", "cnn2d"} or SearchSpace, default="auto"
        The genomes the search may visit. ``"auto"`` picks the family from
        the dimensions of ``X``.
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
        Extra keyword arguments for every skorch ``NeuralNetClassifier``
        (e.g. ``{"callbacks": [...], "optimizer__weight_decay": 1e-4}``).
        Callbacks given here are added to skevonas's own.
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
        0 is silent; 1 prints one line per generation and the result.
    callbacks : list of SearchCallback or None, default=None
        Search-level callbacks (see :mod:`skevonas.callbacks`).

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
    ) -> None:
        self.search_space = search_space
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
        for name, low in (
            ("candidates_per_device", 1),
            ("population_size", 2),
            ("n_generations", 1),
            ("elite_size", 1),
            ("tournament_size", 1),
            ("max_epochs", 1),
            ("patience", 1),
        ):
            value = getattr(self, name)
            need(_is_int(value) and value >= low, name, f"an int >= {low}")
        need(self.selection in SELECTIONS, "selection", f"one of {sorted(SELECTIONS)}")
        need(
            self.crossover in ("both", *CROSSOVERS), "crossover", f"one of {['both', *CROSSOVERS]}"
        )
        for name in ("crossover_rate", "mutation_rate"):
            value = getattr(self, name)
            need(_is_real(value) and 0 <= value <= 1, name, "a float in [0, 1]")
        for name in ("max_time", "candidate_time_limit"):
            value = getattr(self, name)
            need(value is None or (_is_real(value) and value > 0), name, "None or a number > 0")
        vf = self.validation_fraction
        need(_is_real(vf) and 0 < vf < 1, "validation_fraction", "a float in (0, 1)")
        if isinstance(self.scoring, str):
            try:
                get_scorer(self.scoring)
            except ValueError:
                need(
                    False,
                    "scoring",
                    "a scikit-learn scorer name (see sklearn.metrics."
                    "get_scorer_names()) or a callable",
                )
        else:
            need(callable(self.scoring), "scoring", "a scikit-learn scorer name or a callable")
        need(isinstance(self.standardize, (bool, np.bool_)), "standardize", "True or False")
        need(
            self.net_params is None
            or (
                isinstance(self.net_params, dict)
                and all(isinstance(k, str) for k in self.net_params)
            ),
            "net_params",
            "None or a dict with string keys",
        )
        need(
            self.n_jobs is None or (_is_int(self.n_jobs) and self.n_jobs != 0),
            "n_jobs",
            "None or a non-zero int",
        )
        need(
            self.torch_threads is None or (_is_int(self.torch_threads) and self.torch_threads >= 1),
            "torch_threads",
            "None or an int >= 1",
        )
        need(_is_int(self.verbose) and self.verbose >= 0, "verbose", "an int >= 0")
        need(
            self.callbacks is None
            or (
                isinstance(self.callbacks, (list, tuple))
                and all(isinstance(cb, SearchCallback) for cb in self.callbacks)
            ),
            "callbacks",
            "None or a list of SearchCallback instances",
        )
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

    # ------------------------------------------------------------------ data
    def _validate_X(self, X: Any, y: Any = None, reset: bool = False) -> Any:
        """validate_data, plus the checks on sample dimensions and shape."""
        if reset:
            X, y = validate_data(self, X, y, allow_nd=True, dtype=np.float32)
        else:
            X = validate_data(self, X, reset=False, allow_nd=True, dtype=np.float32)
        if X.ndim > 4:
            raise ValueError(
                "X must be 2-D (n_samples, n_features), 3-D (n_samples, n_channels, "
                "n_times) or 4-D (n_samples, channels, height, width); got a "
                f"{X.ndim}-D array of shape {X.shape}"
            )
        if reset:
            return X, y
        if tuple(X.shape[1:]) != self.sample_shape_:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but "
                f"{type(self).__name__} was fitted on samples of shape {self.sample_shape_}"
            )
        return X

    def _split(self, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        n_samples = len(y)
        n_classes = len(self.classes_)
        counts = np.bincount(y, minlength=n_classes)
        n_valid = math.ceil(self.validation_fraction * n_samples)
        if counts.min() < 2:
            rare = self.classes_[int(np.argmin(counts))].tolist()
            raise ValueError(
                f"class {rare!r} has only {counts.min()} sample(s); the stratified "
                f"validation split (validation_fraction={self.validation_fraction}) needs "
                "at least 2 samples per class"
            )
        if n_valid < n_classes or n_samples - n_valid < n_classes:
            raise ValueError(
                f"{n_samples} samples with validation_fraction={self.validation_fraction} "
                f"give {n_valid} validation and {n_samples - n_valid} training samples, "
                f"but each part needs at least one sample of each of the {n_classes} classes"
            )
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_valid, random_state=seed)
        return next(splitter.split(np.zeros(n_samples), y))

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
        """
        devices = self._check_params()
        X, y = self._validate_X(X, y, reset=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in y, "
                f"got 1 class: {self.classes_[0].tolist()!r}"
            )
        y_enc = encoder.transform(y).astype(np.int64)
        self.sample_shape_ = tuple(int(s) for s in X.shape[1:])
        self.search_space_ = get_space(self.search_space, self.sample_shape_)

        # One seed source: random_state -> SeedSequence -> split, GA, candidates, refit.
        entropy = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        split_ss, ga_ss, refit_ss = np.random.SeedSequence(entropy).spawn(3)
        train_idx, valid_idx = self._split(y_enc, int(split_ss.generate_state(1)[0]))
        X_train = X[train_idx]
        data = CandidateData(
            X_train,
            y_enc[train_idx],
            X[valid_idx],
            y_enc[valid_idx],
            len(self.classes_),
            channel_stats(X_train) if self.standardize else None,
        )
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
        callbacks = list(self.callbacks or [])
        deadline = None
        if self.max_time is not None:
            deadline = time.time() + self.max_time
            callbacks.append(TimeBudget(self.max_time, deadline))
        if self.verbose:
            callbacks.append(ProgressPrinter())

        start = time.perf_counter()
        with (
            share_once(data),
            Parallel(n_jobs=n_jobs, return_as="generator_unordered") as parallel,
        ):

            def evaluate(genomes: Sequence[Genome], generation: int) -> list[dict]:
                return self._evaluate_generation(
                    parallel, genomes, data, settings, entropy, devices, pool, n_threads, deadline
                )

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
            )
        self.search_time_ = time.perf_counter() - start
        self.history_ = state.history
        self.evaluations_ = [record.to_dict() for record in state.records]
        self.n_evaluations_ = len(state.records)
        self.stop_reason_ = state.stop_reason
        if state.best is None:
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
        self.best_genome_ = state.best.genome
        self.best_score_ = float(state.best.score)

        start = time.perf_counter()
        self.best_estimator_ = fit_final(
            self.best_genome_,
            X,
            y_enc,
            len(self.classes_),
            epochs=int(state.best.info.get("best_epoch", self.max_epochs)),
            input_stats=channel_stats(X) if self.standardize else None,
            settings=settings,
            seed=int(refit_ss.generate_state(1)[0]),
            device=devices[0],
            n_threads=threads_per_worker(1, self.torch_threads),
        )
        self.refit_time_ = time.perf_counter() - start
        return self

    def _evaluate_generation(
        self,
        parallel: Parallel,
        genomes: Sequence[Genome],
        data: CandidateData,
        settings: TrainSettings,
        entropy: int,
        devices: list[str],
        pool: DevicePool | None,
        n_threads: int,
        deadline: float | None,
    ) -> list[dict]:
        """Train and score a batch of genomes; warn about the ones that failed."""
        # Most expensive first (longest-processing-time order), so the
        # workers finish together; results come back by index anyway.
        costs = [self._cost(g) for g in genomes]
        order = sorted(range(len(genomes)), key=lambda i: -costs[i])
        tasks = [
            (
                genomes[i],
                data,
                settings,
                _candidate_seed(entropy, genomes[i]),
                device_for(position, devices)
                if pool is None
                else (pool, device_for(position, devices)),
                n_threads,
                deadline,
            )
            for position, i in enumerate(order)
        ]
        results: list[dict] = [{}] * len(genomes)
        for i, result in zip(order, run_batch(parallel, evaluate_candidate, tasks), strict=True):
            results[i] = result
            if result["status"] == "failed":
                warnings.warn(
                    f"candidate {genomes[i].short_key()} failed and was recorded as "
                    f"such: {result.get('error')}",
                    RuntimeWarning,
                    stacklevel=3,
                )
        return results

    def _cost(self, genome: Genome) -> int:
        try:
            return estimate_macs(genome, self.sample_shape_, len(self.classes_))
        except Exception:  # noqa: BLE001 - the worker will report what is wrong
            return 0

    # ------------------------------------------------------------------ predict
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the refitted best network.

        Parameters
        ----------
        X : array-like with the sample shape seen in ``fit``

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        return self.best_estimator_.predict_proba(X).astype(np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like with the sample shape seen in ``fit``

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def describe(self) -> str:
        """Readable summary of the best architecture and the search."""
        check_is_fitted(self)
        return (
            f"{self.best_genome_.describe()}\n"
            f"validation {self.scoring if isinstance(self.scoring, str) else 'score'}: "
            f"{self.best_score_:.4f} ({self.n_evaluations_} candidates trained, "
            f"{len(self.history_)} generations, {self.stop_reason_})"
        )

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
