"""GenomeClassifier: a fixed architecture behind the scikit-learn contract.

A genome found by :class:`~skevonas.EvolutionaryNASClassifier` (its
``best_genome_``, or the JSON from ``best_genome_.to_json()``) describes a
network and how to train it. :class:`GenomeClassifier` trains that network on
new data without a new search, the way the search trains and refits its
candidates: scored once on a stratified validation part, then trained on
all the data for the same epoch budget (or, with ``patience``, for the
epoch count early stopping picked).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .base import NetClassifierBase
from .prepare import Seeds, draw_entropy, split_data
from .settings import is_int, is_real, recipe, training_problems
from .spaces.builders.layers import channel_stats
from .spaces.families import families_with_rank
from .spaces.genome import GENOME_FORMS, Genome, parse_genome
from .spaces.networks import build_module, count_parameters
from .training.candidate import candidate_seed, evaluate_candidate, fit_final
from .training.devices import resolve_devices, threads_per_worker
from .training.recipe import Recipe, optimizer_names

__all__ = ["GenomeClassifier"]


def _training_gene_problems(genome: Genome) -> list[str]:
    """What is wrong with the genes that set up training (optimizer, lr, batch size)."""
    problems = []
    optimizer = genome.get("optimizer", "adam")
    if optimizer not in optimizer_names():
        problems.append(
            f"genome gene 'optimizer' must be one of {optimizer_names()}, got {optimizer!r}"
        )
    lr = genome.get("lr", 1e-3)
    if not (is_real(lr) and lr > 0):
        problems.append(f"genome gene 'lr' must be a number > 0, got {lr!r}")
    batch_size = genome.get("batch_size", 32)
    if not (is_int(batch_size) and batch_size >= 1):
        problems.append(f"genome gene 'batch_size' must be an int >= 1, got {batch_size!r}")
    return problems


def _check_buildable(genome: Genome, sample_shape: tuple[int, ...], n_classes: int) -> None:
    """Raise ValueError unless ``genome`` builds a network that runs on ``sample_shape``."""
    expected = [family.name for family in families_with_rank(len(sample_shape))]
    if genome.family not in expected:
        raise ValueError(
            f"genome family {genome.family!r} does not match X: samples of shape "
            f"{sample_shape} ({len(sample_shape) + 1}-D X) need a genome of family "
            f"{' or '.join(map(repr, expected)) or 'none'} (mlp for 2-D X, eeg or cnn1d for "
            f"3-D, cnn2d for 4-D); genome: {genome}"
        )
    try:
        # Building draws initial weights; the user's torch RNG is left as it was.
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            build_module(genome, sample_shape, n_classes).eval()(torch.zeros((1, *sample_shape)))
    except Exception as exc:  # noqa: BLE001 - whatever breaks, the genome does not fit X
        raise ValueError(
            f"genome cannot be built for samples of shape {sample_shape} and "
            f"{n_classes} classes ({type(exc).__name__}: {exc}); genome: {genome}"
        ) from exc


class GenomeClassifier(NetClassifierBase):
    """Classifier with a fixed network architecture given by a genome.

    Reuses an architecture found by
    :class:`~skevonas.EvolutionaryNASClassifier` on new data without a new
    search. ``fit`` trains the network the genome describes (with its
    optimizer, learning rate and batch size) the way the search does: on a
    stratified internal training part, scored on the validation part (its
    ``validation_score_``); then it trains a fresh network on all of ``X,
    y`` for ``max_epochs`` (or, with ``patience``, for the epoch count early
    stopping picked). With ``validation_fraction=None`` it trains on all the
    data for ``max_epochs`` epochs, with no validation.

    With the settings and ``random_state`` of a search, and the same data,
    the fitted network equals the search's refit of that genome when the
    search's final model is that one network without decimation
    (``ensemble_size=1``, or an ensemble whose first member it is: then it
    equals that member).

    Parameters
    ----------
    genome : Genome, dict or str, default=None
        The architecture: a :class:`~skevonas.Genome`, its
        :meth:`~skevonas.Genome.to_dict` form or its
        :meth:`~skevonas.Genome.to_json` form. Its family must match ``X``:
        ``"mlp"`` for 2-D, ``"eeg"`` or ``"cnn1d"`` for 3-D and ``"cnn2d"`` for 4-D
        input. Required (the default ``None`` only makes the estimator
        constructible without arguments).
    max_epochs : int, default=100
        The epoch budget (the most epochs, with ``patience``). The default
        is the search's: both estimators train by one
        :class:`~skevonas.training.recipe.Recipe` with one set of defaults.
    patience : int or None, default=None
        None trains for ``max_epochs`` (on the internal training part, to
        score the genome, and then on all the data), as the search does by
        default. An int stops the validation run after that many epochs
        without improvement, and the best epoch decides the epochs of the
        final training.
    lr_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` anneals the learning rate over ``max_epochs``
        (:class:`~skevonas.training.runtime.CosineSchedule`).
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy loss, in [0, 1).
    class_weight : None, "balanced" or dict, default=None
        Class weights of the cross-entropy loss, as in scikit-learn:
        ``"balanced"`` weighs each class by ``n_samples / (n_classes *
        count)`` of the part the network trains on (the internal training
        part, then all of ``X``); a dict ``{label: weight >= 0}`` sets them
        (labels it does not name weigh 1). ``scoring`` stays unweighted
        unless it says otherwise (``"balanced_accuracy"``).
    augment : bool, EEGAugment or None, default=False
        Augment training batches of EEG-like input
        (:class:`~skevonas.training.augment.EEGAugment`; ``True`` for its defaults).
    validation_fraction : float or None, default=0.2
        Share of the data held out (stratified; whole groups when ``fit``
        gets ``groups``) for early stopping, or None for no validation.
    scoring : str or callable, default="accuracy"
        scikit-learn scorer name or callable that picks the best epoch
        (higher is better).
    standardize : bool, default=True
        Standardise inputs inside the network (per feature for 2-D input,
        per channel otherwise), with statistics of the data it trains on.
        Before that, ``X`` is centred and scaled in float64 by the statistics
        of all of it (``input_offset_``, ``input_scale_``), at fit and at
        prediction, before the cast to float32: raw amplitudes and large
        offsets keep their signal.
    net_params : dict or None, default=None
        Extra keyword arguments for the skorch ``NeuralNetClassifier``
        (callbacks, ``"optimizer__weight_decay"``, ``"memory_format"``: the
        layout it trains in, see :class:`~skevonas.training.net.SearchNet`...).
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (the first GPU,
        else the CPU).
    torch_threads : int or None, default=1
        Torch threads for training; ``None`` uses every core.
    random_state : int, RandomState instance or None, default=None
        Seeds the split and the training. With an int, training on the CPU
        is reproducible.
    sfreq : float or None, default=None
        Sampling rate of 3-D input in Hz (None: MNE Epochs' own, else
        unknown). It is recorded (``sfreq_``, model files) and checked
        against Epochs given to ``predict``; the genome is trained as it is,
        never rescaled (build it for the rate, e.g.
        ``shallow_convnet_genome(sfreq=...)``) and nothing is decimated.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Size of axis 1 of ``X``.
    sample_shape_ : tuple of int
        Shape of one sample, ``X.shape[1:]``.
    genome_ : Genome
        The genome, parsed.
    estimator_ : skorch.NeuralNetClassifier
        The network trained on all of ``X, y``.
    best_epoch_ : int
        Epochs of the final training: ``max_epochs``, or with ``patience``
        the best validation epoch.
    validation_score_ : float
        The validation score as the search scores candidates (the mean of
        the last three epochs; with ``patience``, around the best epoch);
        NaN without validation.
    n_params_ : int
        Trainable parameters of the network.
    input_offset_, input_scale_ : ndarray of float64 or None
        The step ``(X - input_offset_) / input_scale_`` applied in float64
        before the cast to float32 (per feature: shape ``(n_features,)``; per
        channel: ``(n_channels, 1)`` or ``(channels, 1, 1)``); the scale is 1
        where the spread is 0. None with ``standardize=False``.
    sfreq_ : float or None
        Sampling rate of ``X`` in Hz (``sfreq``, or the MNE Epochs'), None if unknown.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skevonas import Genome, LayerGene
    >>> X, y = load_iris(return_X_y=True)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})],
    ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
    >>> clf = GenomeClassifier(genome.to_json(), max_epochs=5, random_state=0).fit(X, y)
    >>> clf.n_params_
    131
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    def __init__(
        self,
        genome: Genome | Mapping[str, Any] | str | None = None,
        max_epochs: int = 100,
        patience: int | None = None,
        lr_schedule: str = "cosine",
        label_smoothing: float = 0.0,
        class_weight: Any = None,
        augment: Any = False,
        validation_fraction: float | None = 0.2,
        scoring: Any = "accuracy",
        standardize: bool = True,
        net_params: dict | None = None,
        device: str = "cpu",
        torch_threads: int | None = 1,
        random_state: Any = None,
        sfreq: float | None = None,
    ) -> None:
        self.genome = genome
        self.max_epochs = max_epochs
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight
        self.augment = augment
        self.validation_fraction = validation_fraction
        self.scoring = scoring
        self.standardize = standardize
        self.net_params = net_params
        self.device = device
        self.torch_threads = torch_threads
        self.random_state = random_state
        self.sfreq = sfreq

    # ------------------------------------------------------------------ settings
    def check_settings(self) -> None:
        """Raise one ValueError listing every invalid setting; ``fit`` calls it first.

        Raises
        ------
        ValueError
            Naming each bad setting, its value and what it must be.

        Examples
        --------
        >>> GenomeClassifier(genome=None, max_epochs=0).check_settings()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: Invalid settings for GenomeClassifier:
          - genome must be a Genome, ... got None instead
          - max_epochs must be an int >= 1, got 0 instead
        """
        self._genome_and_device()

    def _genome_and_device(self) -> tuple[Genome, str]:
        """Validate every setting; return the parsed genome and the device."""
        problems: list[str] = []

        def need(ok: bool, name: str, rule: str) -> None:
            if not ok:
                problems.append(f"{name} must be {rule}, got {getattr(self, name)!r} instead")

        genome = self._genome_or_problems(problems)
        need(is_int(self.max_epochs) and self.max_epochs >= 1, "max_epochs", "an int >= 1")
        vf = self.validation_fraction
        need(
            vf is None or (is_real(vf) and 0 < vf < 1),
            "validation_fraction",
            "None or a float in (0, 1)",
        )
        problems += training_problems(self)
        device = self._device_or_problems(problems)
        if problems or genome is None:  # a None genome has added its problem
            raise ValueError(
                f"Invalid settings for {type(self).__name__}:\n  - " + "\n  - ".join(problems)
            )
        return genome, device

    def _genome_or_problems(self, problems: list[str]) -> Genome | None:
        """The parsed genome, or None after adding what is wrong with it to ``problems``."""
        if self.genome is None:
            problems.append(f"genome must be {GENOME_FORMS}, got None instead")
            return None
        try:
            genome = parse_genome(self.genome)
        except ValueError as exc:
            problems.append(str(exc))
            return None
        problems += _training_gene_problems(genome)
        return genome

    def _device_or_problems(self, problems: list[str]) -> str:
        """The one device to train on; adds to ``problems`` if there is none."""
        if not isinstance(self.device, str):
            problems.append(
                "device must be one of 'cpu', 'cuda', 'cuda:N' or 'auto', "
                f"got {self.device!r} instead"
            )
            return "cpu"
        try:
            return resolve_devices(self.device)[0]
        except ValueError as exc:
            problems.append(str(exc))
            return "cpu"

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, groups: Any = None) -> GenomeClassifier:
        """Train the genome's network on ``X, y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or mne.Epochs
            ``(n_samples, n_features)`` for an mlp genome, ``(n_samples,
            n_channels, n_times)`` for eeg and cnn1d, ``(n_samples, channels, height,
            width)`` for cnn2d; never NaN or infinite. MNE Epochs give their
            data, sampling rate and labels (:mod:`skevonas.epochs`).
        y : array-like of shape (n_samples,) or None, default=None
            Class labels; at least two classes. None only with Epochs: the
            names of their events.
        groups : array-like of shape (n_samples,) or None, default=None
            Subject, session or recording of every sample: the validation
            part then holds whole groups, as the search's holdout does
            (:func:`~skevonas.training.groups.grouped_holdout`); at least 2
            groups. Without a validation part (``validation_fraction=None``)
            nothing is split, and they are only checked. Requested by
            default under metadata routing, as for
            :class:`~skevonas.EvolutionaryNASClassifier`.

        Returns
        -------
        self : GenomeClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            For invalid settings, a genome that does not fit ``X``, or
            ``groups`` that cannot be split (wrong length, NaN, one group).
        RuntimeError
            If training on the internal training part fails (e.g. the loss
            becomes NaN).

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skevonas import Genome, LayerGene
        >>> X, y = load_iris(return_X_y=True)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})],
        ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
        >>> clf = GenomeClassifier(genome, max_epochs=10, patience=3, random_state=0).fit(X, y)
        >>> 1 <= clf.best_epoch_ <= 10, 0.0 <= clf.validation_score_ <= 1.0
        (True, True)

        With ``groups`` (here 10 made-up subjects), the validation part holds whole subjects:

        >>> import numpy as np
        >>> subjects = np.arange(len(y)) % 10
        >>> clf = GenomeClassifier(genome, max_epochs=2, random_state=0)
        >>> clf.fit(X, y, groups=subjects).best_epoch_
        2

        Without a validation part it trains for ``max_epochs``:

        >>> GenomeClassifier(genome, max_epochs=3, validation_fraction=None).fit(X, y).best_epoch_
        3
        """
        with self._unchanged_on_error():  # a failed fit changes nothing
            genome, device = self._genome_and_device()
            X, sfreq, classes, y_enc, groups = self._fit_data(X, y, groups)  # Epochs read
            n_classes = len(classes)
            _check_buildable(genome, tuple(X.shape[1:]), n_classes)
            self.classes_, self.sample_shape_ = classes, tuple(int(s) for s in X.shape[1:])
            self.genome_, self.sfreq_ = genome, sfreq
            # The seeds of EvolutionaryNASClassifier (skevonas.prepare): the
            # early-stopped run gets the seed the search gives this genome.
            seeds = Seeds.from_entropy(draw_entropy(self.random_state))
            how = recipe(self, X.ndim - 1, classes)
            n_threads = threads_per_worker(1, self.torch_threads)
            if self.validation_fraction is None:
                self.best_epoch_, self.validation_score_ = int(self.max_epochs), float("nan")
            else:
                self.best_epoch_, self.validation_score_ = self._early_stopped(
                    X,
                    y_enc,
                    groups,
                    how,
                    seeds.split,
                    candidate_seed(seeds.entropy, genome),
                    device,
                    n_threads,
                )
                if self.patience is None:  # a fixed budget: the final training trains it all
                    self.best_epoch_ = int(self.max_epochs)
            self.estimator_ = fit_final(
                genome,
                X,
                y_enc,
                n_classes,
                epochs=self.best_epoch_,
                input_stats=channel_stats(X) if self.standardize else None,
                recipe=how,
                seed=seeds.refit,
                device=device,
                n_threads=n_threads,
            )
            self.n_params_ = count_parameters(self.estimator_.module_)
        return self

    def _early_stopped(
        self,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray | None,
        how: Recipe,
        split_seed: int,
        seed: int,
        device: str,
        n_threads: int,
    ) -> tuple[int, float]:
        """Train on the internal training part; return the best epoch and its score."""
        assert self.validation_fraction is not None  # fit trains without one otherwise
        data = split_data(
            X,
            y,
            self.classes_,
            validation_fraction=float(self.validation_fraction),
            seed=split_seed,
            standardize=self.standardize,
            groups=groups,
        )
        result = evaluate_candidate(self.genome_, data, how, seed, device, n_threads)
        if result["status"] != "ok":
            raise RuntimeError(
                f"training genome {self.genome_.short_key()} on the internal training part "
                f"failed: {result.get('error')}; genome: {self.genome_}"
            )
        return int(result["best_epoch"]), float(result["score"])

    def describe(self) -> str:
        """Readable summary of the architecture and its training.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skevonas import Genome, LayerGene
        >>> X, y = load_iris(return_X_y=True)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})],
        ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
        >>> clf = GenomeClassifier(genome, max_epochs=3, validation_fraction=None).fit(X, y)
        >>> print(clf.describe())  # doctest: +ELLIPSIS
        mlp genome ...
           0. dense(activation='relu', units=16)
              output (linear, one unit per class)
          training: batch_size=16, lr=0.01, optimizer='adam'
        131 parameters, trained 3 epochs on all data (no validation)
        """
        check_is_fitted(self)
        score = (
            "no validation"
            if self.validation_fraction is None
            else f"validation score {self.validation_score_:.4f}"
        )
        return (
            f"{self.genome_.describe()}\n{self.n_params_} parameters, trained "
            f"{self.best_epoch_} epochs on all data ({score})"
        )

    # ------------------------------------------------------------------ model files
    # What skevonas.save keeps (NetClassifierBase.fitted_model): the genome and,
    # with the JSON type of each, the results of the fit.
    _genome_attribute = "genome_"
    _saved_attributes = {"best_epoch_": "int", "validation_score_": "number"}

    def _restore_derived_attributes(self) -> None:
        """``n_params_``, which a model file does not keep: the net's trainable parameters."""
        self.n_params_ = count_parameters(self.estimator_.module_)
