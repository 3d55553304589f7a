"""EvolutionaryNASClassifier: the scikit-learn contract around the search.

``fit`` checks and reads the settings (:mod:`skevonas.settings`), prepares
the data (:mod:`skevonas.prepare`), picks what a warm start continues
(:mod:`skevonas.store`), runs the search on its pipeline
(:func:`skevonas.search.strategies.run_search`) and hands it to
:func:`skevonas.search.final.final_model`. No genetic-algorithm logic here.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import settings
from .base import NetClassifierBase
from .prepare import Seeds, decimate_data, draw_entropy, split_data
from .search import (
    CandidatePipeline,
    Display,
    FinalModel,
    SearchFailedError,
    describe_result,
    final_model,
    finalists,
    run_search,
    winner,
)
from .spaces import get_space
from .store import resume_point, search_meta
from .training.recipe import Recipe, inherit_share

if TYPE_CHECKING:
    from .evolution.records import SearchState
    from .spaces.space import SearchSpace
    from .store.journal import Journal

__all__ = ["EvolutionaryNASClassifier", "SearchFailedError"]

logger = logging.getLogger(__name__)


class EvolutionaryNASClassifier(NetClassifierBase):
    """Classifier whose neural architecture is evolved by a genetic algorithm.

    ``fit`` evolves a population of network genomes, each candidate trained
    with skorch on a stratified internal training part and scored on the
    held-out rest (its own reshuffled holdout by default); then the best few
    are re-scored by cross-validation, a weighted ensemble of them is chosen
    on their out-of-fold predictions, and its members are refitted on all
    the data (:mod:`skevonas.search.final`). The model family follows the input:
    2-D ``(n_samples, n_features)`` input gives MLPs, 3-D ``(n_samples,
    n_channels, n_times)`` input (EEG epochs, multichannel time series)
    gives EEG networks over time, 4-D
    ``(n_samples, channels, height, width)`` input gives 2-D CNNs.

    Parameters
    ----------
    search_space : str or SearchSpace, default="auto"
        The genomes the search may visit. ``"auto"`` picks the family from the dimensions of ``X``:
        ``"mlp"`` for 2-D ``X``, ``"eeg"`` (:func:`skevonas.spaces.eeg_space.eeg_space`: temporal,
        spatial and separable convolutions, pooling, ShallowConvNet's square and log...) for 3-D
        ``X``, ``"cnn2d"`` for 4-D ``X``. ``"cnn1d"`` is the EEG-NAS thesis's plain layer list over
        ``(channels, time)``; ``"keras_mlp"`` and ``"naturalselection"`` are the MLP spaces of two
        earlier GA systems (:mod:`skevonas.spaces.presets`).
    initial_genomes : "auto", None or list, default="auto"
        Genomes placed in the first generation (repaired into the search space); the rest of it is
        random. ``"auto"`` seeds the family's standard designs
        (:meth:`skevonas.spaces.families.Family.seeds_for`): ShallowConvNet, EEGNet-8,2 and EEGNeX
        for ``"eeg"`` (:func:`skevonas.spaces.eeg_space.standard_eeg_genomes`), a 2 x 512 MLP for
        ``"mlp"``, a small VGG-style CNN for ``"cnn2d"``, nothing for the others. ``None`` makes
        the first generation all random. A list may hold :class:`~skevonas.Genome` objects, their
        dicts or JSON strings; duplicates count once, and at most ``population_size`` are used.
    population_size : int, default=8
        Genomes per generation.
    n_generations : int, default=4
        Generations to evolve.
    elite_size : int, default=2
        Best genomes copied unchanged into the next generation: the best genome found so far always
        survives. At least 1 and at most ``population_size`` (a larger value is an error); with
        ``elite_size == population_size``, ``population_size - 1`` are copied, so that every
        generation breeds at least one new genome.
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
        Probability that an offspring is mutated. A mutation always changes the genome: a numeric
        step or categorical redraw of one gene, or adding, removing or replacing a layer. Offspring
        that duplicate a genome already seen are mutated again, so the search rarely wastes a slot;
        duplicates that remain are never trained twice.
    local_rate : float, default=0.0
        Probability that an offspring is instead one small step from an elite
        genome (:func:`~skevonas.evolution.operators.nudge`: a notch wider, a
        rate nudged...), and the share of the first generation's non-seed
        genomes that are a small step from a seed rather than random.
    strategy : {"generational", "asynchronous"}, default="generational"
        ``"generational"`` trains one generation at a time. ``"asynchronous"``
        (:mod:`skevonas.evolution.asynchronous`, aging evolution) keeps every worker busy: a
        candidate starts the moment one finishes, bred from the last ``population_size`` arrivals
        and the ``elite_size`` best, with asynchronous successive halving when ``min_epochs`` is
        set; it trains as many candidates, for many workers (GPUs, a Dask cluster).
    inherit_weights : bool or float, default=False
        A child starts from its trained parent's weights where their layers correspond
        (:mod:`skevonas.training.inherit`), on its parent's holdout, for a short schedule: this
        share of ``max_epochs`` (True: all of it); folds and refits train from scratch. The
        population's weights are kept (in ``checkpoint_dir`` too, as safetensors).
    max_epochs : int, default=100
        The epoch budget of every candidate, and of every refit; the
        learning-rate schedule runs over it.
    patience : int or None, default=None
        None trains every candidate for its whole budget and keeps its last
        weights; its score is the mean validation score of its last three
        epochs, which a refit for the same budget reproduces. An int stops
        a candidate after that many epochs without improvement, keeps its
        best epoch's weights, and refits for that epoch count (the old
        early-stopping recipe). A training loss that turns NaN or infinite
        always stops a candidate (recorded as failed).
    lr_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` anneals every candidate's learning rate (its ``lr``
        gene) to zero over ``max_epochs`` (:class:`~skevonas.training.runtime.CosineSchedule`),
        as does the refit. With ``min_epochs``, each rung goes on along that
        schedule, as one run of the full budget would.
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy loss, in [0, 1).
    class_weight : None, "balanced" or dict, default=None
        Class weights of every network's loss, as in scikit-learn: ``"balanced"``
        (``n_samples / (n_classes * count)`` of the part each network trains on)
        or ``{label: weight >= 0}`` (others weigh 1). Scores stay unweighted.
    augment : bool, EEGAugment or None, default=False
        Augment the training batches of 3-D input with
        :class:`~skevonas.training.augment.EEGAugment` (time shifts, amplitude
        scaling, noise, channel dropout): ``True`` for its defaults, or an
        instance. Off by default: on SelfRegulationSCP1 it cost 0.6 to 2.4
        test points (``docs/benchmarks.md``).
    min_epochs : "auto", int or None, default="auto"
        Successive halving within each generation (:mod:`skevonas.evolution.fidelity`): new
        candidates train about ``min_epochs`` epochs, the best ``1 / halving_factor`` go on, from
        where they stopped, for ``halving_factor`` times more, and so on up to ``max_epochs``.
        ``"auto"`` starts at ``max_epochs / halving_factor**2`` (11, 33, 100 for the defaults) when
        ``max_epochs`` is at least 27 (:func:`~skevonas.settings.min_epochs_for`); None trains
        every candidate for ``max_epochs``. Candidates stopped early are ``"partial"`` and rank
        below full-budget ones; the ``initial_genomes`` always go on to ``max_epochs``.
    halving_factor : int, default=3
        With ``min_epochs``, the ratio between successive budgets, and one in
        ``halving_factor`` candidates goes on to the next.
    min_data_fraction : float, default=1.0
        Fidelity in data: with successive halving, every candidate's first rung of epochs trains
        on this stratified share of its training part (later epochs and the scores use all of it);
        1.0 turns it off (:meth:`~skevonas.training.candidate.CandidateData.train_rows`).
    max_time : float or None, default=None
        Seconds for the whole ``fit``. The final stage is planned from the
        finalists' measured training times (:class:`~skevonas.search.budget.SearchBudget`):
        the search ends when only that time is left (candidates still training anneal
        their learning rate in time for it and keep what they reached), the finalists' folds
        run only if they and the refit fit in what is left; a refit that cannot finish trains
        a whole schedule over the epochs left (at least half), else the search's
        own network is kept, with a :class:`RuntimeWarning` and ``stop_reason_``.
    candidate_time_limit : float or None, default=None
        Seconds any one candidate may train (checked after every epoch); a candidate that
        hits it is scored on what it reached, its learning rate annealed in time for it.
    validation_fraction : float, default=0.2
        Share of the training data held out (stratified; whole groups with ``groups``).
    holdout : {"reshuffled", "fixed"}, default="reshuffled"
        ``"reshuffled"`` gives every candidate its own stratified holdout of
        ``validation_fraction`` (drawn from its seed), so no one small
        validation part decides the whole search (reshuffled holdouts;
        Nagler et al., NeurIPS 2024); ``"fixed"`` scores all candidates on
        one shared validation part.
    n_finalists : int, default=3
        After the search, this many best distinct genomes (by holdout
        score) are re-scored by cross-validation (``cv``) on all the data;
        the final model is chosen from them (:mod:`skevonas.search.final`).
    cv : int or None, default=3
        Folds of the finalists' stratified cross-validation (grouped when
        ``fit`` gets ``groups``). None skips it: the best holdout score wins.
    ensemble_size : int, default=1
        Steps of greedy ensemble selection (Caruana et al., 2004) on the
        finalists' out-of-fold predictions: the final model averages the
        class probabilities of at most this many distinct finalists, with
        weights that are multiples of ``1 / ensemble_size``, each refitted
        on all the data. 1 keeps the best cross-validated finalist alone: on
        SelfRegulationSCP1 ensembles of 3 scored up to 4 points below it.
    calibrate : bool, default=False
        Temperature scaling of ``predict_proba`` (``temperature_``), fitted on
        the final model's out-of-fold probabilities of the finalists' ``cv``
        (no extra training; ``predict`` is unchanged). Without them: 1. Off by
        default: on SelfRegulationSCP1 it moved log loss inside the noise.
    scoring : str or callable, default="accuracy"
        Any scikit-learn scorer name (``"balanced_accuracy"``,
        ``"roc_auc"``, ``"neg_log_loss"``...) or scorer callable; higher is
        better.
    standardize : bool, default=True
        Standardise inputs inside every network: per feature for 2-D input,
        per channel for 3-D and 4-D input. Statistics come from the internal
        training part during the search and from all of ``X`` for the refit.
        First, ``X`` is centred and scaled in float64 (``input_offset_``,
        ``input_scale_``) before the cast to float32: large offsets keep their signal.
    decimate : "auto" or int, default="auto"
        Decimate EEG-like input ``(n_samples, n_channels, n_times)`` in
        time before the search: a fixed low-pass filter, then every
        ``decimate``-th sample (:class:`~skevonas.spaces.builders.layers.Decimate`).
        The final network holds the same layer in front, so ``predict`` and
        the exports take data at its original rate. ``"auto"`` decimates
        to about 128 Hz with a known ``sfreq`` (250 Hz becomes 125 Hz), else
        by the smallest factor that leaves at most 256 time samples; 1 never
        decimates (:func:`~skevonas.settings.decimation`).
    sfreq : float or None, default=None
        Sampling rate of 3-D input in Hz (None: MNE Epochs' own, else
        unknown). It sets ``decimate="auto"`` and scales the ``"auto"``
        seeds' time kernels to the decimated rate (:doc:`/user_guide/eeg`).
    net_params : dict or None, default=None
        Extra keyword arguments for every skorch ``NeuralNetClassifier`` the
        search trains, and for the refit: callbacks (added to skevonas's own;
        with a schedule of your own, set ``lr_schedule="constant"``) and any
        skorch setting such as ``"optimizer__weight_decay": 1e-4``. They
        must pickle when ``n_jobs`` is not 1. ``"memory_format"``: the
        layout networks train in (:class:`~skevonas.training.net.SearchNet`).
    n_jobs : int or None, default=None
        Candidates evaluated in parallel with joblib (``None`` means 1 unless
        in a :func:`joblib.parallel_backend` context; ``-1`` means all cores).
    torch_threads : int or None, default=1
        Torch threads per candidate: small networks train fastest with one
        each and ``n_jobs`` candidates side by side. ``None`` shares the
        cores among the workers (``cpu_count // n_jobs``), for large networks.
    device : str or list of str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``, a list of devices, or ``"auto"``
        (all visible GPUs, else the CPU). With GPUs, each worker process is
        pinned to one GPU for the whole search.
    candidates_per_device : int, default=1
        Candidates training at once on each GPU; with GPUs and
        ``n_jobs=None``, ``len(devices) * candidates_per_device`` workers.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the genetic algorithm and every candidate's training.
        With an int, a search on CPU is reproducible.
    verbose : int, default=0
        0 is silent (failed candidates still warn); 1 shows on stderr the
        plan, an estimate after the first generation, a progress bar and a
        bar through the final stage; 2 also prints a line per generation and
        per final step (:class:`~skevonas.search.display.Display`). Messages
        also go to the ``skevonas`` :mod:`logging` loggers.
    callbacks : list of SearchCallback or None, default=None
        Search-level callbacks (see :mod:`skevonas.evolution.callbacks`): watch the
        search, or stop it (:class:`~skevonas.evolution.callbacks.EarlyStopping`,
        :class:`~skevonas.evolution.callbacks.TargetScore`...).
    checkpoint_dir : str, path or None, default=None
        A folder where the search state is written after every generation
        (atomically, as JSON; see :mod:`skevonas.store.checkpoint`), and every
        candidate's result as soon as it arrives. A new ``fit`` (with
        ``warm_start=False``) clears the checkpoint files it finds there.
    warm_start : bool, default=False
        Continue the earlier search: from the checkpoint in ``checkpoint_dir``
        when there is one (e.g. after a crash), else from this estimator's
        last ``fit``, up to ``n_generations`` in all, training nothing twice;
        on CPU the result equals that of an uninterrupted search. The data
        and the settings that decide the scores
        (:func:`~skevonas.store.resume.search_meta`) must be the same, or
        ``fit`` raises :class:`~skevonas.store.checkpoint.CheckpointError`;
        the operators', the final model's, budgets and parallelism may change.

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
        The final model's estimated score: the ensemble's out-of-fold score
        in the finalists' cross-validation (with ``cv=None``, the best
        holdout score, which is optimistic once many candidates are compared).
    ensemble_genomes_ : list of Genome
        The final model's members, ``best_genome_`` first.
    ensemble_weights_ : list of float
        Their weights in the average of class probabilities (summing to 1).
    temperature_ : float
        Divides the logits in ``predict_proba`` (``calibrate``); 1.0 uncalibrated.
    input_offset_, input_scale_ : ndarray of float64 or None
        ``(X - input_offset_) / input_scale_``, per feature or per channel
        (shape ``(n_channels, 1)``...); None without ``standardize``.
    finalists_ : list of dict
        One row per finalist: ``genome``, ``holdout_score``, ``cv_score``,
        ``cv_scores`` (per fold) and ``weight`` in the ensemble (0 if not a
        member).
    decimation_ : int
        The time-axis decimation factor of the search (1: none).
    sfreq_ : float or None
        Sampling rate of ``X`` in Hz (``sfreq``, or the MNE Epochs'), None if unknown.
    refit_losses_ : list of list of float
        Each member's training loss per epoch of its refit on all the data.
    best_estimator_ : skorch.NeuralNetClassifier
        The final model refitted on all of ``X, y``: the member's net, or a
        net whose module is an :class:`~skevonas.training.ensemble.EnsembleModule`
        (several members, or a decimation front).
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
        population_size: int = 8,
        n_generations: int = 4,
        elite_size: int = 2,
        selection: str = "tournament",
        tournament_size: int = 3,
        crossover: str = "both",
        crossover_rate: float = 0.5,
        mutation_rate: float = 0.8,
        local_rate: float = 0.0,
        strategy: str = "generational",
        inherit_weights: bool | float = False,
        max_epochs: int = 100,
        patience: int | None = None,
        lr_schedule: str = "cosine",
        label_smoothing: float = 0.0,
        class_weight: Any = None,
        augment: Any = False,
        min_epochs: int | str | None = "auto",
        halving_factor: int = 3,
        min_data_fraction: float = 1.0,
        max_time: float | None = None,
        candidate_time_limit: float | None = None,
        validation_fraction: float = 0.2,
        holdout: str = "reshuffled",
        n_finalists: int = 3,
        cv: int | None = 3,
        ensemble_size: int = 1,
        calibrate: bool = False,
        scoring: Any = "accuracy",
        standardize: bool = True,
        decimate: Any = "auto",
        sfreq: float | None = None,
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
        self.local_rate = local_rate
        self.strategy = strategy
        self.inherit_weights = inherit_weights
        self.max_epochs = max_epochs
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight
        self.augment = augment
        self.min_epochs = min_epochs
        self.halving_factor = halving_factor
        self.min_data_fraction = min_data_fraction
        self.max_time = max_time
        self.candidate_time_limit = candidate_time_limit
        self.validation_fraction = validation_fraction
        self.holdout = holdout
        self.n_finalists = n_finalists
        self.cv = cv
        self.ensemble_size = ensemble_size
        self.calibrate = calibrate
        self.scoring = scoring
        self.standardize = standardize
        self.decimate = decimate
        self.sfreq = sfreq
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
    def check_settings(self) -> None:
        """Raise one ValueError listing every invalid setting; ``fit`` calls it first.

        Call it to fail early, before the data is at hand (the command line
        does, before it creates any folder).

        Raises
        ------
        ValueError
            Naming each bad setting, its value and what it must be.

        Examples
        --------
        >>> EvolutionaryNASClassifier(population_size=1, mutation_rate=2).check_settings()
        Traceback (most recent call last):
            ...
        ValueError: Invalid settings for EvolutionaryNASClassifier:
          - population_size must be an int >= 2, got 1 instead
          - mutation_rate must be a float in [0, 1], got 2 instead
        """
        problems = settings.search_problems(self)
        if problems:
            raise ValueError(
                f"Invalid settings for {type(self).__name__}:\n  - " + "\n  - ".join(problems)
            )

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, groups: Any = None) -> EvolutionaryNASClassifier:
        """Evolve architectures on ``X, y`` and refit the fittest on all of it.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or mne.Epochs
            Training data: ``(n_samples, n_features)``, ``(n_samples,
            n_channels, n_times)`` or ``(n_samples, channels, height,
            width)``; never NaN or infinite; or MNE Epochs (:mod:`skevonas.epochs`).
        y : array-like of shape (n_samples,) or None, default=None
            Class labels; at least two. None: the Epochs' event names.
        groups : array-like of shape (n_samples,) or None, default=None
            Subject, session or recording of each sample: no holdout or fold
            puts a group on both sides (:mod:`skevonas.training.groups`);
            requested by default under metadata routing (``params={"groups": g}``).

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
        with self._unchanged_on_error():  # a refused or failed fit changes nothing
            self.check_settings()
            started = time.time()  # max_time counts from here
            X, sfreq, classes, y_enc, groups = self._fit_data(X, y, groups, self.cv)
            factor = settings.decimation(self.decimate, X.shape[1:], sfreq)
            recipe = settings.recipe(self, X.ndim - 1, classes)  # before any folder is touched
            X_search = decimate_data(X, factor)  # X itself when factor is 1
            space = get_space(self.search_space, X_search.shape[1:])
            rate = settings.seed_sfreq(sfreq, factor)  # the seeds' kernels are scaled to it
            initial = settings.initial_genomes(self.initial_genomes, space, rate)
            meta = search_meta(
                self.get_params(), space.name, initial, X, y_enc, classes, sfreq, groups=groups
            )
            last = getattr(self, "search_state_", None)
            resume, journal = resume_point(
                meta, self.checkpoint_dir, self.warm_start, last, space=space
            )
            with journal:  # holds the checkpoint folder's lock until the search ends
                # One seed source (skevonas.prepare); a resumed search keeps its entropy.
                seeds = Seeds.from_entropy(
                    draw_entropy(self.random_state)
                    if resume is None
                    else int(resume.meta["entropy"])
                )
                meta["entropy"] = seeds.entropy
                self.classes_, self.sample_shape_ = classes, tuple(int(s) for s in X.shape[1:])
                self.search_space_, self.sfreq_ = space, sfreq
                pipeline = self._pipeline(X_search, y_enc, groups, recipe, seeds, journal, started)
                self._weights = self._lineage_store(pipeline, journal, resume is not None)
                ga, fidelity = settings.ga_settings(self), settings.fidelity(self, space, initial)
                show = Display(
                    self.verbose,
                    pipeline,
                    ga,
                    fidelity=fidelity,
                    strategy=self.strategy,
                    resuming=resume is not None,
                )
                with pipeline:
                    start = time.perf_counter()
                    state = run_search(
                        space,
                        pipeline,
                        ga,
                        rng=np.random.default_rng(seeds.evolution),
                        strategy=self.strategy,
                        fidelity=fidelity,
                        callbacks=list(self.callbacks or []),
                        display=show.callbacks(),
                        initial_population=initial,
                        resume=resume,
                    )
                    state.meta = meta
                    self._keep(state, time.perf_counter() - start)
                    winner(state)  # raises when there is nothing to refit
                    start = time.perf_counter()
                    final = final_model(
                        pipeline,
                        finalists(state, pipeline.budget.final.finalists),
                        X_search,
                        y_enc,
                        stage=pipeline.budget.final,
                        refit_epochs=self.max_epochs if self.patience is None else None,
                        standardize=self.standardize,
                        seed=seeds.refit,
                        decimation=factor,
                        stop_at=pipeline.budget.end,
                        display=show,
                    )
            self._keep_final(final, factor, time.perf_counter() - start)
        return self

    def _pipeline(
        self,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray | None,
        recipe: Recipe,
        seeds: Seeds,
        journal: Journal,
        started: float,
    ) -> CandidatePipeline:
        """The pipeline that trains this fit's candidates on its internal split of ``X, y``."""
        parts = split_data(
            X,
            y,
            self.classes_,
            validation_fraction=self.validation_fraction,
            seed=seeds.split,
            standardize=self.standardize,
            groups=groups,
        )
        return CandidatePipeline(
            parts,
            recipe,
            entropy=seeds.entropy,
            workers=settings.workers(self),
            journal=journal,
            max_time=self.max_time,
            started=started,
            final=settings.final_stage(self),
            inherit=inherit_share(self.inherit_weights),
            low_data=settings.low_data(self),
        )

    def _lineage_store(self, pipeline: CandidatePipeline, journal: Journal, resuming: bool) -> Any:
        """The weights an in-memory warm start goes on with (a checkpoint's are on disk)."""
        lineage, kept = pipeline.lineage, getattr(self, "_weights", None)
        if lineage is not None and kept is not None and resuming and journal.folder is None:
            lineage.store = kept
        return None if lineage is None else lineage.store

    def _keep_final(self, final: FinalModel, factor: int, seconds: float) -> None:
        """Store the final model in the fitted attributes; warn about a cut refit."""
        self.best_genome_ = final.genomes[0]
        self.best_score_ = final.score
        self.ensemble_genomes_ = list(final.genomes)
        self.ensemble_weights_ = list(final.weights)
        self.temperature_ = final.temperature
        self.finalists_ = final.finalists
        self.decimation_ = factor
        self.refit_losses_ = final.losses
        self.best_estimator_ = final.net
        self.refit_time_ = seconds
        if final.note is not None:  # the final stage did not go as planned
            self.stop_reason_: str = f"{self.search_state_.stop_reason}; {final.note}"

    def _keep(self, state: SearchState, seconds: float) -> None:
        """Store what the search found in the fitted attributes."""
        self.search_state_ = state
        self.search_time_ = seconds
        self.history_ = state.history
        self.evaluations_ = [record.to_dict() for record in state.records]
        self.n_evaluations_ = len(state.records)
        self.stop_reason_ = str(state.stop_reason)

    # ------------------------------------------------------------------ result
    _net_attribute = "best_estimator_"

    @property
    def best_module_(self) -> Any:
        """The final network as a plain :class:`torch.nn.Module` (eval mode).

        The same object as ``module_``: for a float32 batch at the data's
        original rate, after the float64 step ``(X - input_offset_) / input_scale_``
        (with ``standardize``), logits (one member) or the log of the ensemble's
        weighted mean probabilities (:class:`~skevonas.training.ensemble.EnsembleModule`),
        so ``softmax(output / temperature_)`` gives ``predict_proba`` in both cases;
        usable without skevonas; :meth:`to_torchscript`, :meth:`to_onnx` and, as
        readable PyTorch code, :meth:`to_pytorch` export it with both steps, for raw ``X``.
        """
        return self.module_

    def describe(self) -> str:
        """Readable summary of the final model and the search (see ``describe_result``).

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = EvolutionaryNASClassifier(population_size=2, n_generations=1, max_epochs=2,
        ...                                 initial_genomes=None, random_state=0).fit(X, y)
        >>> print(clf.describe())  # doctest: +ELLIPSIS
        mlp genome ...
        estimated accuracy: ... (2 candidates trained, 1 generations, completed 1 generations)
        """
        check_is_fitted(self)
        return describe_result(
            self.ensemble_genomes_,
            self.ensemble_weights_,
            self.decimation_,
            self.scoring if isinstance(self.scoring, str) else "score",
            self.best_score_,
            f"{self.n_evaluations_} candidates trained, {len(self.history_)} generations, "
            f"{self.stop_reason_}",
        )

    # ------------------------------------------------------------------ model files
    # The model-file interface (NetClassifierBase.fitted_model, skevonas.save): the
    # genome, the results a file keeps with each one's JSON type, the ensemble.
    _genome_attribute = "best_genome_"
    _saved_attributes = {
        "best_score_": "number",
        "history_": "rows",
        "evaluations_": "rows",
        "stop_reason_": "str",
        "n_evaluations_": "int",
        "search_time_": "number",
        "refit_time_": "number",
    }
    _ensemble_attributes = ("ensemble_genomes_", "ensemble_weights_", "decimation_")
