"""What every skevonas classifier shares: input checks, prediction, export.

:class:`NetClassifierBase` holds the parts of the scikit-learn contract that
do not depend on how the network was chosen: validating ``X`` (and ``y`` at
fit time), ``predict_proba`` / ``predict`` through the fitted skorch net
(:attr:`~NetClassifierBase.net_`), and export of that net. Labels, seeds and
the internal split come from :mod:`skevonas.prepare`. The
search (:class:`~skevonas.EvolutionaryNASClassifier`) and the
fixed-architecture classifier (:class:`~skevonas.GenomeClassifier`) subclass
it.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["NetClassifierBase"]


# float32 keeps 24 bits: a value whose offset is this many times its spread
# keeps fewer than about 1,000 distinct levels of its signal.
_OFFSET_RATIO = 2.0**14


def _warn_if_offset_swamps_signal(X: Any) -> None:
    """Warn when casting ``X`` to float32 would lose most of its signal.

    The networks train in float32. A feature (or channel) whose mean is more
    than ``2**14`` times its standard deviation (e.g. ``X + 1e8``) keeps
    fewer than about 1,000 distinct levels after the cast, whatever
    standardisation follows, so the warning asks for centring first.
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
            "its mean, e.g. with sklearn.preprocessing.StandardScaler in a Pipeline).",
            UserWarning,
            stacklevel=4,
        )


class NetClassifierBase(ClassifierMixin, BaseEstimator):
    """Base class of the skevonas classifiers (not meant to be used directly).

    Subclasses set ``classes_``, ``sample_shape_`` and their fitted skorch
    net in ``fit``, and name the net's attribute in ``_net_attribute``.
    """

    _net_attribute = "estimator_"

    # ------------------------------------------------------------------ data
    def _validate_X(self, X: Any, y: Any = None, reset: bool = False) -> Any:
        """validate_data, plus the checks on sample dimensions and shape."""
        if reset:
            _warn_if_offset_swamps_signal(X)
            X, y = validate_data(self, X, y, allow_nd=True, dtype=np.float32)
        else:
            X = validate_data(self, X, reset=False, allow_nd=True, dtype=np.float32)
        # torch cannot wrap negatively strided (e.g. X[:, ::-1]) or otherwise
        # non-contiguous arrays without a copy; a C-contiguous array is not copied
        X = np.ascontiguousarray(X)
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
        net = self.net_
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
        return self.net_.module_.eval()

    def to_torchscript(self, path: str | Path | None = None) -> Any:
        """Export the fitted network to TorchScript (:func:`skevonas.store.export.to_torchscript`).

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
        from .store.export import to_torchscript

        return to_torchscript(self, path)

    def to_onnx(self, path: str | Path) -> Path:
        """Export the fitted network to ONNX; see :func:`skevonas.store.export.to_onnx`.

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
        from .store.export import to_onnx

        return to_onnx(self, path)

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
