"""What every skevonas classifier shares: input checks, prediction, export.

:class:`NetClassifierBase` holds the parts of the scikit-learn contract that
do not depend on how the network was chosen: validating ``X`` (and ``y`` at
fit time), ``predict_proba`` / ``predict`` through the fitted skorch net
(:attr:`~NetClassifierBase.net_`), and export of that net. MNE Epochs are
taken wherever ``X`` is (:mod:`skevonas.epochs`). Labels, seeds and
the internal split come from :mod:`skevonas.prepare`. The
search (:class:`~skevonas.EvolutionaryNASClassifier`) and the
fixed-architecture classifier (:class:`~skevonas.GenomeClassifier`) subclass
it.

It also describes a fitted estimator to the model files of
:mod:`skevonas.store` (:func:`skevonas.save`, :func:`skevonas.load`), which
import no estimator: :meth:`~NetClassifierBase.fitted_model` gives the
fitted state as a :class:`~skevonas.store.modelfile.FittedModel`,
:meth:`~NetClassifierBase.from_fitted_model` rebuilds an estimator from one,
and :meth:`~NetClassifierBase.model_kind` says what a file of the class may
hold. A subclass names its attributes in a few class attributes (the net,
the genome, the results a file keeps, the ensemble's) and overrides
``_restore_derived_attributes`` for what a file need not keep.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .epochs import check_sfreq, input_sfreq, is_epochs, read_epochs

if TYPE_CHECKING:
    from .spaces.genome import Genome
    from .store.ensemble_entry import EnsembleEntry
    from .store.model_document import ModelKind
    from .store.modelfile import FittedModel

__all__ = ["NetClassifierBase"]

_Estimator = TypeVar("_Estimator", bound="NetClassifierBase")


# float32 keeps 24 bits: a value whose offset is this many times its spread
# keeps fewer than about 1,000 distinct levels of its signal.
_OFFSET_RATIO = 2.0**14


def _check_dimensions(X: Any, sample_shape: tuple[int, ...] | None, owner: str) -> None:
    """Refuse ``X`` whose number of dimensions is not the one ``fit`` saw, saying both.

    An estimator fitted on 2-D ``X`` leaves the check to scikit-learn's own
    (its messages are part of the estimator contract).

    Examples
    --------
    >>> _check_dimensions(np.zeros((2, 128)), (14, 896), "Est")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: Est was fitted on a 3-D X of shape (n_samples, 14, 896), but X is a 2-D ...
    >>> _check_dimensions(np.zeros((2, 14, 896)), (14, 896), "Est")
    """
    if sample_shape is None:
        return
    try:
        shape = np.shape(X)
    except (TypeError, ValueError):  # ragged or not array-like: validate_data says why
        return
    fitted_ndim = len(sample_shape) + 1
    if len(shape) == fitted_ndim or (fitted_ndim == 2 and len(shape) < 3):
        return
    raise ValueError(
        f"{owner} was fitted on a {fitted_ndim}-D X of shape "
        f"(n_samples, {', '.join(str(s) for s in sample_shape)}), but X is a "
        f"{len(shape)}-D array of shape {tuple(shape)}; pass samples of shape {sample_shape}"
    )


def _warn_if_offset_swamps_signal(X: Any) -> None:
    """Warn when casting ``X`` to float32 would lose most of its signal.

    The networks train in float32. A feature (or channel) whose mean is more
    than ``2**14`` times its standard deviation (e.g. ``X + 1e8``) keeps
    fewer than about 1,000 distinct levels after the cast, whatever
    standardisation follows, so the warning asks for centring first. ``fit``
    calls it only with ``standardize=False``: otherwise ``X`` is centred and
    scaled in float64 before the cast (``input_offset_``, ``input_scale_``).
    """
    if hasattr(X, "to_numpy") and hasattr(X, "dtypes"):  # a pandas DataFrame
        X = X.to_numpy()
    if not isinstance(X, np.ndarray) or X.dtype.kind not in "iuf" or X.ndim < 2 or not X.size:
        return
    if X.dtype.itemsize <= 4 and X.dtype.kind == "f":  # float32 (or smaller) as given
        return
    axes = (0,) if X.ndim == 2 else (0, *range(2, X.ndim))
    with np.errstate(all="ignore"):
        mean = np.abs(X.mean(axis=axes, dtype=np.float64))
        std = X.std(axis=axes, dtype=np.float64)
    bad = np.flatnonzero((mean > _OFFSET_RATIO * std) & (std > 0) & np.isfinite(mean))
    if bad.size:
        warnings.warn(
            f"{bad.size} feature(s)/channel(s) of X (first: index {int(bad[0])}, mean "
            f"{float(mean[bad[0]]):.6g}, std {float(std[bad[0]]):.6g}) have an offset over "
            f"{_OFFSET_RATIO:.0f} times their spread: the networks compute in float32, which "
            "keeps too few digits of such data to learn from it. Centre X first (subtract "
            "its mean, e.g. with sklearn.preprocessing.StandardScaler in a Pipeline), or "
            "leave standardize=True, which centres X in float64 before the cast.",
            UserWarning,
            stacklevel=4,
        )


class NetClassifierBase(ClassifierMixin, BaseEstimator):
    """Base class of the skevonas classifiers (not meant to be used directly).

    Subclasses set ``classes_``, ``sample_shape_`` and their fitted skorch
    net in ``fit``, and name the net's attribute in ``_net_attribute``. For
    the model files they also name their genome's attribute
    (``_genome_attribute``), the fitted results a file keeps with the JSON
    type of each (``_saved_attributes``, see
    :class:`~skevonas.store.model_document.ModelKind`) and, if their network
    may be an ensemble, the attributes of its members, their weights and
    its decimation (``_ensemble_attributes``).

    Their ``fit`` takes ``groups`` (subject, session or recording of every
    sample), which keeps each group on one side of every internal split.
    With scikit-learn's metadata routing on, ``fit`` requests ``groups`` by
    default: a ``cross_validate(..., params={"groups": g})`` or a Pipeline
    given ``groups`` hands them to the classifier as to a group splitter,
    so its internal holdout never leaks a subject that the outer split
    keeps apart; ``set_fit_request(groups=False)`` turns that off.
    """

    # groups requested by default (metadata routing): an outer split by subject
    # should not be undone by an internal holdout that mixes subjects
    __metadata_request__fit: ClassVar[dict[str, bool]] = {"groups": True}

    _net_attribute = "estimator_"
    _genome_attribute: ClassVar[str] = "genome_"
    _saved_attributes: ClassVar[Mapping[str, str]] = {}
    _ensemble_attributes: ClassVar[tuple[str, str, str] | None] = None

    # ------------------------------------------------------------------ data
    def _fit_input(self, X: Any, y: Any) -> tuple[np.ndarray, Any, float | None]:
        """A fit's ``X, y`` (MNE Epochs read) as :meth:`_validate_X` checks them, and their rate.

        The rate (Hz) is the ``sfreq`` setting, else the Epochs' own, else
        None (:func:`~skevonas.epochs.input_sfreq`).
        """
        data = read_epochs(X, y)
        X, y = self._validate_X(data.X, data.y, reset=True)
        return X, y, input_sfreq(getattr(self, "sfreq", None), data.sfreq, X.shape[1:])

    def _fit_data(self, X: Any, y: Any, groups: Any, n_folds: int | None = None) -> tuple:
        """A fit's ``X`` and rate (:meth:`_fit_input`), classes, encoded ``y`` and group codes.

        ``groups`` are checked (:func:`~skevonas.training.groups.check_groups`):
        one per sample, at least 2 groups and at least ``n_folds``.
        """
        from .prepare import check_groups, encode_labels

        X, y, sfreq = self._fit_input(X, y)
        classes, y_enc = encode_labels(y, owner=type(self).__name__)
        return X, sfreq, classes, y_enc, check_groups(groups, len(y_enc), n_folds=n_folds)

    def _epochs_samples(self, X: Any) -> Any:
        """The data of MNE Epochs given to a fitted estimator, checked against its ``sfreq_``."""
        if not is_epochs(X):
            return X
        data = read_epochs(X)
        check_sfreq(getattr(self, "sfreq_", None), data.sfreq, type(self).__name__)
        return data.X

    def _validate_X(self, X: Any, y: Any = None, reset: bool = False) -> Any:
        """validate_data, the checks on sample dimensions and shape, the float64 affine step.

        With ``standardize``, ``fit`` (``reset=True``) sets ``input_offset_``
        and ``input_scale_`` from all of ``X`` in float64; then, at fit and
        at prediction, ``X`` is centred and scaled by them in float64 before
        it is cast to float32. Without, ``X`` is cast as it is.
        """
        from .prepare import apply_input_affine, input_affine

        floats = (np.float64, np.float32)  # the cast to float32 comes after the affine step
        if reset:
            if not self.standardize:
                _warn_if_offset_swamps_signal(X)
            X, y = validate_data(self, X, y, allow_nd=True, dtype=floats)
            self._check_rank(X)
            affine: tuple[np.ndarray | None, np.ndarray | None] = (
                input_affine(X) if self.standardize else (None, None)
            )
            self.input_offset_, self.input_scale_ = affine
        else:
            X = self._epochs_samples(X)
            _check_dimensions(X, getattr(self, "sample_shape_", None), type(self).__name__)
            X = validate_data(self, X, reset=False, allow_nd=True, dtype=floats)
            self._check_rank(X)
        # None: standardize=False, or an estimator fitted by an older skevonas
        offset, scale = getattr(self, "input_offset_", None), getattr(self, "input_scale_", None)
        if offset is not None and scale is not None:
            X = apply_input_affine(X, offset, scale)
        # torch cannot wrap negatively strided (e.g. X[:, ::-1]) or otherwise
        # non-contiguous arrays without a copy; a C-contiguous array is not copied
        X = np.ascontiguousarray(X, dtype=np.float32)
        if reset:
            return X, y
        if tuple(X.shape[1:]) != self.sample_shape_:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but "
                f"{type(self).__name__} was fitted on samples of shape {self.sample_shape_}"
            )
        return X

    @staticmethod
    def _check_rank(X: np.ndarray) -> None:
        """Refuse ``X`` of more than 4 dimensions."""
        if X.ndim > 4:
            raise ValueError(
                "X must be 2-D (n_samples, n_features), 3-D (n_samples, n_channels, "
                "n_times) or 4-D (n_samples, channels, height, width); got a "
                f"{X.ndim}-D array of shape {X.shape}"
            )

    @contextlib.contextmanager
    def _unchanged_on_error(self) -> Iterator[None]:
        """Leave the fitted attributes as they were if the body raises (a refused fit)."""
        before = {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}
        try:
            yield
        except BaseException:
            for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                delattr(self, name)
            self.__dict__.update(before)
            raise

    # ------------------------------------------------------------------ predict
    @property
    def net_(self) -> Any:
        """The fitted skorch net (``best_estimator_`` or ``estimator_``), in the mode it is in."""
        check_is_fitted(self)
        return getattr(self, self._net_attribute)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the fitted network.

        Parameters
        ----------
        X : array-like with the sample shape seen in ``fit``, or mne.Epochs
            The samples (Epochs: at the rate seen in ``fit``, if known).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``. A calibrated search
            (``calibrate=True``) divides the network's logits by its
            ``temperature_`` first: ``softmax(log(p) / temperature_)``.

        Examples
        --------
        Either skevonas classifier; here a :class:`~skevonas.GenomeClassifier`,
        which trains one network:

        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skevonas import Genome, GenomeClassifier, LayerGene
        >>> X, y = load_iris(return_X_y=True)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})],
        ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
        >>> clf = GenomeClassifier(genome, max_epochs=5, random_state=0).fit(X, y)
        >>> proba = clf.predict_proba(X[:4])
        >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1.0))
        ((4, 3), True)
        """
        from .training.calibration import apply_temperature

        return apply_temperature(self._network_proba(X), getattr(self, "temperature_", 1.0))

    def _network_proba(self, X: Any) -> np.ndarray:
        """The network's own class probabilities (before any temperature), in float64."""
        net = self.net_
        X = self._validate_X(X)
        return net.predict_proba(X).astype(np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like with the sample shape seen in ``fit``, or mne.Epochs
            The samples (Epochs: at the rate seen in ``fit``, if known).

        Returns
        -------
        y : ndarray of shape (n_samples,)
            The class of highest probability, as one of the labels in ``classes_``.

        Examples
        --------
        Either skevonas classifier; here a :class:`~skevonas.GenomeClassifier`,
        which trains one network, on string labels:

        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skevonas import Genome, GenomeClassifier, LayerGene
        >>> X, y = load_iris(return_X_y=True)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})],
        ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
        >>> names = np.array(["setosa", "versicolor", "virginica"])[y]
        >>> clf = GenomeClassifier(genome, max_epochs=5, random_state=0).fit(X, names)
        >>> clf.classes_.tolist()
        ['setosa', 'versicolor', 'virginica']
        >>> set(clf.predict(X)) <= set(clf.classes_)
        True
        """
        # the network's probabilities: a temperature never changes the argmax
        proba = self._network_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y``.

        Parameters
        ----------
        X : array-like or mne.Epochs
            The samples.
        y : array-like of shape (n_samples,) or None, default=None
            The true labels. None only for MNE Epochs, whose events' names
            are then the labels (:func:`~skevonas.epochs.epochs_labels`).
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Sample weights.

        Returns
        -------
        score : float
            The share of samples predicted right (weighted).

        Raises
        ------
        TypeError
            If ``y`` is None and ``X`` is not MNE Epochs.

        Examples
        --------
        A one-layer network on the wine data; without ``y``, only Epochs are scored.

        >>> from sklearn.datasets import load_wine
        >>> from skevonas import GenomeClassifier, standard_mlp_genome
        >>> X, y = load_wine(return_X_y=True)
        >>> clf = GenomeClassifier(standard_mlp_genome(), max_epochs=2).fit(X, y)
        >>> 0.0 <= clf.score(X, y) <= 1.0
        True
        >>> clf.score(X)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        TypeError: GenomeClassifier.score needs y, the true labels, unless X is MNE Epochs ...
        """
        if y is None:
            if not is_epochs(X):
                raise TypeError(
                    f"{type(self).__name__}.score needs y, the true labels, unless X is MNE "
                    "Epochs (whose events give them)"
                )
            y = read_epochs(X).y
        return float(super().score(X, y, sample_weight=sample_weight))

    # ------------------------------------------------------------------ export
    @property
    def module_(self) -> Any:
        """The fitted network as a plain :class:`torch.nn.Module` (on its device, in eval mode).

        It maps a float32 batch of samples to one logit per class (columns
        follow ``classes_``); softmax gives ``predict_proba`` (of a
        calibrated search: ``softmax(logits / temperature_)``). With
        ``standardize=True`` it takes ``X`` after the float64 affine step of
        ``predict``, ``(X - input_offset_) / input_scale_`` cast to float32,
        not raw ``X`` (:meth:`to_torchscript` and :meth:`to_onnx` take raw
        ``X``).
        """
        return self.net_.module_.eval()

    def to_torchscript(self, path: str | Path | None = None) -> Any:
        """Export the fitted network to TorchScript (:func:`skevonas.store.export.to_torchscript`).

        The program maps a float32 batch of raw ``X`` (as ``predict_proba``
        takes it) to ``predict_proba``'s class probabilities (columns in the
        order of ``classes_``) and loads with :func:`torch.jit.load`, without
        skevonas. The affine step of ``input_offset_`` and ``input_scale_``
        is in it, in float32: centre data with a large offset in float64
        first (see :mod:`skevonas.store.export`).

        Parameters
        ----------
        path : str, path or None, default=None
            Where to save the program; ``None`` returns it instead.

        Returns
        -------
        path or torch.jit.ScriptModule
            ``Path(path)`` when ``path`` is given, else the program.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skevonas import Genome, GenomeClassifier, LayerGene
        >>> X, y = load_iris(return_X_y=True)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})],
        ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
        >>> import torch
        >>> clf = GenomeClassifier(genome, max_epochs=5, random_state=0).fit(X, y)
        >>> program = clf.to_torchscript()  # or clf.to_torchscript("model.pt")
        >>> proba = program(torch.as_tensor(X[:4], dtype=torch.float32)).numpy()
        >>> bool(np.allclose(proba, clf.predict_proba(X[:4]), atol=1e-6))
        True
        """
        from .store.export import to_torchscript

        return to_torchscript(self, path)

    def to_onnx(self, path: str | Path) -> Path:
        """Export the fitted network to ONNX; see :func:`skevonas.store.export.to_onnx`.

        The graph maps a float32 batch of raw ``X`` (input ``"input"``) to
        ``predict_proba``'s class probabilities (output ``"probabilities"``,
        columns in the order of ``classes_``); the affine step of
        ``input_offset_`` and ``input_scale_`` is in it, in float32 (centre
        data with a large offset in float64 first: see
        :mod:`skevonas.store.export`). Needs ``pip install "skevonas[onnx]"``.

        Parameters
        ----------
        path : str or path
            The ``.onnx`` file to write.

        Returns
        -------
        path : Path
            ``Path(path)``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skevonas import Genome, GenomeClassifier, LayerGene
        >>> X, y = load_iris(return_X_y=True)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})],
        ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
        >>> import tempfile, pathlib
        >>> import onnxruntime
        >>> clf = GenomeClassifier(genome, max_epochs=5, random_state=0).fit(X, y)
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = clf.to_onnx(pathlib.Path(tmp.name) / "model.onnx")
        >>> session = onnxruntime.InferenceSession(str(path))
        >>> (proba,) = session.run(None, {"input": X[:4].astype(np.float32)})
        >>> bool(np.allclose(proba, clf.predict_proba(X[:4]), atol=1e-5))
        True
        >>> tmp.cleanup()
        """
        from .store.export import to_onnx

        return to_onnx(self, path)

    def to_pytorch(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Export as plain PyTorch code and weights (:func:`skevonas.store.export.to_pytorch`).

        The folder (``model.py``, ``model.safetensors``, ``config.json``,
        ``README.md``) runs without skevonas: ``load(folder)`` from its
        ``model.py`` gives ``predict`` and ``predict_proba`` on raw samples.

        Parameters
        ----------
        directory : str or path
            The folder to write into (created if missing).
        overwrite : bool, default=False
            Replace the export files the folder already holds.

        Returns
        -------
        directory : Path
            ``Path(directory)``.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from sklearn.datasets import load_iris
        >>> from skevonas import Genome, GenomeClassifier, LayerGene
        >>> X, y = load_iris(return_X_y=True)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})])
        >>> clf = GenomeClassifier(genome, max_epochs=2, random_state=0).fit(X, y)
        >>> tmp = tempfile.TemporaryDirectory()
        >>> folder = clf.to_pytorch(pathlib.Path(tmp.name) / "iris")
        >>> sorted(p.name for p in folder.iterdir())
        ['README.md', 'config.json', 'model.py', 'model.safetensors']
        >>> tmp.cleanup()
        """
        from .store.export import to_pytorch

        return to_pytorch(self, directory, overwrite=overwrite)

    # ------------------------------------------------------------------ model files
    @classmethod
    def model_kind(cls) -> ModelKind:
        """What a model file of this class holds, for the checks of :func:`skevonas.load`.

        Returns
        -------
        kind : ModelKind
            The class's name, its constructor's parameters, the fitted
            results a file keeps with the JSON type of each, and whether its
            network may be an ensemble
            (:class:`~skevonas.store.model_document.ModelKind`).

        Examples
        --------
        >>> from skevonas import GenomeClassifier
        >>> kind = GenomeClassifier.model_kind()
        >>> kind.name, kind.params[:2], kind.ensembles
        ('GenomeClassifier', ('augment', 'class_weight'), False)
        >>> kind.attributes
        {'best_epoch_': 'int', 'validation_score_': 'number'}
        """
        from .store.model_document import ModelKind

        return ModelKind(
            cls.__name__,
            tuple(cls().get_params(deep=False)),
            cls._saved_attributes,
            ensembles=cls._ensemble_attributes is not None,
        )

    def fitted_model(self) -> FittedModel:
        """The fitted state as a model file holds it: what :func:`skevonas.save` writes.

        Returns
        -------
        model : FittedModel
            The class's name, the parameters a JSON document can hold (and
            the names of the others), the genome, the classes, the feature
            names, the sample shape, the fitted net (not a copy), the fitted
            results a file keeps and the network's ensemble, if it is one
            (:class:`~skevonas.store.modelfile.FittedModel`).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ValueError
            If its ensemble attributes (``ensemble_genomes_``,
            ``ensemble_weights_``, ``decimation_``) do not describe its
            network, or describe one that a model file may not hold.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skevonas import Genome, GenomeClassifier, LayerGene
        >>> X, y = load_iris(return_X_y=True)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})],
        ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
        >>> clf = GenomeClassifier(genome, max_epochs=3, random_state=0).fit(X, y)
        >>> model = clf.fitted_model()
        >>> model.estimator, model.genome == clf.genome_, model.sample_shape
        ('GenomeClassifier', True, (4,))
        >>> model.attributes["best_epoch_"], model.params["max_epochs"]
        (3, 3)
        """
        from .store.modelfile import FittedModel, plain_params

        net = self.net_  # raises NotFittedError
        params, dropped = plain_params(self.get_params(deep=False))
        names = getattr(self, "feature_names_in_", None)
        genome = getattr(self, self._genome_attribute)
        sample_shape = tuple(int(s) for s in self.sample_shape_)
        return FittedModel(
            estimator=type(self).__name__,
            genome=genome,
            classes=np.asarray(self.classes_),
            sample_shape=sample_shape,
            net=net,
            params=params,
            dropped_params=tuple(dropped),
            feature_names_in=None if names is None else tuple(str(n) for n in names),
            attributes={key: getattr(self, key) for key in self._saved_attributes},
            ensemble=self._fitted_ensemble(net.module_, genome, sample_shape),
            input_offset=getattr(self, "input_offset_", None),
            input_scale=getattr(self, "input_scale_", None),
            temperature=getattr(self, "temperature_", None),
            sfreq=getattr(self, "sfreq_", None),
        )

    def _fitted_ensemble(
        self, module: Any, genome: Genome, sample_shape: tuple[int, ...]
    ) -> EnsembleEntry | None:
        """The ensemble the fitted network is, per ``_ensemble_attributes``; None if plain."""
        if self._ensemble_attributes is None:
            return None
        from .store.ensemble_entry import fitted_ensemble

        genomes_at, weights_at, decimation_at = self._ensemble_attributes
        # an estimator without them (e.g. fitted by an older skevonas): one network
        genomes = getattr(self, genomes_at, [genome])
        weights = getattr(self, weights_at, [1.0])
        decimation = getattr(self, decimation_at, 1)
        return fitted_ensemble(module, genomes, weights, decimation, genome, sample_shape)

    @classmethod
    def from_fitted_model(cls: type[_Estimator], model: FittedModel) -> _Estimator:
        """The fitted estimator of a :class:`~skevonas.store.modelfile.FittedModel`.

        What :func:`skevonas.load` returns for the model a file holds. The
        estimator predicts with ``model.net`` (not a copy); its parameters
        are ``model.params``, the others at their defaults.

        Parameters
        ----------
        model : FittedModel
            The state of an estimator of this class, from
            :meth:`fitted_model` or :func:`~skevonas.store.modelfile.read_model`.

        Returns
        -------
        estimator : NetClassifierBase
            A fitted estimator of this class. A search (an estimator whose
            network may be an ensemble) of a plain network has one member
            of weight 1 and no decimation.

        Raises
        ------
        ValueError
            If ``model`` is of another class, or lacks a fitted result that
            this class keeps.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skevonas import Genome, GenomeClassifier, LayerGene
        >>> X, y = load_iris(return_X_y=True)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})],
        ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
        >>> clf = GenomeClassifier(genome, max_epochs=3, random_state=0).fit(X, y)
        >>> same = GenomeClassifier.from_fitted_model(clf.fitted_model())
        >>> bool(np.array_equal(same.predict_proba(X), clf.predict_proba(X)))
        True
        >>> same.genome_ == clf.genome_, same.n_params_ == clf.n_params_
        (True, True)
        """
        if model.estimator != cls.__name__:
            raise ValueError(
                f"{cls.__name__}.from_fitted_model takes the model of a {cls.__name__}, got "
                f"one of a {model.estimator!r:.80}"
            )
        missing = sorted(set(cls._saved_attributes) - set(model.attributes))
        if missing:
            raise ValueError(f"the model of a {cls.__name__} lacks the fitted results {missing}")
        estimator = cls(**model.params)
        fitted: dict[str, Any] = {
            "classes_": model.classes,
            "n_features_in_": model.n_features_in,
            "sample_shape_": tuple(model.sample_shape),
            "sfreq_": model.sfreq,
        }
        if model.feature_names_in is not None:
            fitted["feature_names_in_"] = np.asarray(model.feature_names_in, dtype=object)
        fitted[cls._genome_attribute] = model.genome
        fitted[cls._net_attribute] = model.net
        # a file of an older skevonas has neither: X goes to the network as it is
        fitted["input_offset_"], fitted["input_scale_"] = model.input_offset, model.input_scale
        if model.temperature is not None or "calibrate" in estimator.get_params(deep=False):
            fitted["temperature_"] = 1.0 if model.temperature is None else model.temperature
        fitted.update((key, model.attributes[key]) for key in cls._saved_attributes)
        if cls._ensemble_attributes is not None:
            from .store.ensemble_entry import EnsembleEntry

            # a plain network is one member of weight 1, without decimation
            entry = model.ensemble or EnsembleEntry((model.genome,), (1.0,), 1)
            genomes, weights, decimation = cls._ensemble_attributes
            fitted[genomes] = list(entry.genomes)
            fitted[weights] = list(entry.weights)
            fitted[decimation] = entry.decimation
        for key, value in fitted.items():
            setattr(estimator, key, value)
        estimator._restore_derived_attributes()
        return estimator

    def _restore_derived_attributes(self) -> None:
        """Set the fitted attributes a model file does not keep (derived from the rest); a hook."""

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
