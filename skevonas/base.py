"""What every skevonas classifier shares: input checks, the split, prediction.

:class:`NetClassifierBase` holds the parts of the scikit-learn contract that
do not depend on how the network was chosen: validating ``X`` and ``y``,
encoding the labels, the stratified validation split, ``predict_proba`` /
``predict`` through the fitted skorch net, and export of that net. The
search (:class:`~skevonas.EvolutionaryNASClassifier`) and the
fixed-architecture classifier (:class:`~skevonas.GenomeClassifier`) subclass
it.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import get_scorer
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .builders.layers import channel_stats
from .evaluation import CandidateData

__all__ = ["NetClassifierBase"]


def is_int(value: Any) -> bool:
    """True for integers, False for bools and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    """True for real numbers, False for bools and everything else."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class NetClassifierBase(ClassifierMixin, BaseEstimator):
    """Base class of the skevonas classifiers (not meant to be used directly).

    Subclasses set ``classes_``, ``sample_shape_`` and their fitted skorch
    net in ``fit``, and name the net's attribute in ``_net_attribute``.
    """

    _net_attribute = "estimator_"

    # ------------------------------------------------------------------ settings
    def _training_problems(self) -> list[str]:
        """What is wrong with the training settings both classifiers share.

        ``scoring``, ``standardize``, ``net_params`` and ``torch_threads``;
        one message per bad setting, in the house form.
        """
        problems = []
        scoring = self.scoring
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
        if not isinstance(self.standardize, (bool, np.bool_)):
            problems.append(f"standardize must be True or False, got {self.standardize!r} instead")
        net_params = self.net_params
        if not (
            net_params is None
            or (isinstance(net_params, dict) and all(isinstance(k, str) for k in net_params))
        ):
            problems.append(
                f"net_params must be None or a dict with string keys, got {net_params!r} instead"
            )
        threads = self.torch_threads
        if not (threads is None or (is_int(threads) and threads >= 1)):
            problems.append(f"torch_threads must be None or an int >= 1, got {threads!r} instead")
        return problems

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

    def _encode_targets(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Validate ``X, y``; set ``classes_`` and ``sample_shape_``; return int64 labels."""
        X, y = self._validate_X(X, y, reset=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in y, "
                f"got 1 class: {self.classes_[0].tolist()!r}"
            )
        self.sample_shape_ = tuple(int(s) for s in X.shape[1:])
        return X, encoder.transform(y).astype(np.int64)

    def _entropy(self) -> int:
        """The one seed a fit derives everything from, drawn from ``random_state``."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    @staticmethod
    def _seeds(entropy: int) -> tuple[int, np.random.SeedSequence, int]:
        """``(split seed, genetic-algorithm seed sequence, refit seed)`` for ``entropy``.

        Both classifiers derive their seeds here, so a
        :class:`~skevonas.GenomeClassifier` with the search's data and
        ``random_state`` reproduces the search's split and refit.
        """
        split_ss, ga_ss, refit_ss = np.random.SeedSequence(entropy).spawn(3)
        return int(split_ss.generate_state(1)[0]), ga_ss, int(refit_ss.generate_state(1)[0])

    def _candidate_data(self, X: np.ndarray, y: np.ndarray, split_seed: int) -> CandidateData:
        """The internal train / validation parts, standardised with training-part statistics."""
        train_idx, valid_idx = self._split(y, split_seed)
        X_train = X[train_idx]
        return CandidateData(
            X_train,
            y[train_idx],
            X[valid_idx],
            y[valid_idx],
            len(self.classes_),
            channel_stats(X_train) if self.standardize else None,
        )

    def _split(self, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Stratified train / validation indices for ``validation_fraction``."""
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

    # ------------------------------------------------------------------ predict
    def _net(self) -> Any:
        check_is_fitted(self)
        return getattr(self, self._net_attribute)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the fitted network.

        Parameters
        ----------
        X : array-like with the sample shape seen in ``fit``
            The samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.

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
        net = self._net()
        X = self._validate_X(X)
        return net.predict_proba(X).astype(np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like with the sample shape seen in ``fit``
            The samples.

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
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    # ------------------------------------------------------------------ export
    @property
    def module_(self) -> Any:
        """The fitted network as a plain :class:`torch.nn.Module` (on its device, in eval mode).

        It maps a float32 batch of samples to one logit per class (columns
        follow ``classes_``); softmax gives ``predict_proba``.
        """
        return self._net().module_.eval()

    def to_torchscript(self, path: str | Path | None = None) -> Any:
        """Export the fitted network to TorchScript; see :func:`skevonas.export.to_torchscript`.

        The program maps a float32 batch to class probabilities (columns in the
        order of ``classes_``) and loads with :func:`torch.jit.load`, without
        skevonas.

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
        from .export import to_torchscript

        return to_torchscript(self, path)

    def to_onnx(self, path: str | Path) -> Path:
        """Export the fitted network to ONNX; see :func:`skevonas.export.to_onnx`.

        The graph maps a float32 batch (input ``"input"``) to class probabilities
        (output ``"probabilities"``, columns in the order of ``classes_``). Needs
        ``pip install "skevonas[onnx]"``.

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
        from .export import to_onnx

        return to_onnx(self, path)

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
