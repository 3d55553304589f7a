"""Save and load a fitted classifier in one file that loading cannot use to run code.

:func:`save` writes the fitted state of an
:class:`~skevonas.EvolutionaryNASClassifier` or a
:class:`~skevonas.GenomeClassifier` (its
:meth:`~skevonas.base.NetClassifierBase.fitted_model`) with
:func:`~skevonas.store.modelfile.write_model`; :func:`load` reads one with
:func:`~skevonas.store.modelfile.read_model`, checked against what a file of
each class may hold (their
:meth:`~skevonas.base.NetClassifierBase.model_kind`), and rebuilds the
classifier of the class the file names
(:meth:`~skevonas.base.NetClassifierBase.from_fitted_model`). The format, its
checks and what it leaves out are in :mod:`skevonas.store.modelfile`; the
store imports no estimator, so the two meet here, in front of it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .classifier import EvolutionaryNASClassifier
from .fixed import GenomeClassifier
from .store.modelfile import read_model, write_model

__all__ = ["load", "save"]

# The classes a model file may hold, by name.
_CLASSES = {cls.__name__: cls for cls in (EvolutionaryNASClassifier, GenomeClassifier)}


def save(estimator: Any, path: str | os.PathLike) -> Path:
    """Save a fitted classifier in one file that loading cannot use to run code.

    The file is a safetensors file: the network's weights and buffers as
    tensors, and a JSON document with the genome, the classes, the feature
    names, the sample shape, the plain-valued parameters and the search's
    results (see :mod:`skevonas.store.modelfile` for what is left out). It is
    written to a temporary file first and then renamed, so ``path`` is never
    half written.

    Parameters
    ----------
    estimator : EvolutionaryNASClassifier or GenomeClassifier
        A fitted estimator.
    path : str or path
        The file to (over)write; ``.skevonas`` is the usual suffix.

    Returns
    -------
    path : Path
        ``Path(path)``.

    Raises
    ------
    TypeError
        If ``estimator`` is not one of the two skevonas classifiers.
    sklearn.exceptions.NotFittedError
        If it is not fitted.
    ValueError
        If its ensemble attributes (``ensemble_genomes_``,
        ``ensemble_weights_``, ``decimation_``) do not describe its network,
        or describe one that :func:`load` would refuse.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skevonas import Genome, GenomeClassifier, LayerGene, load, save
    >>> X, y = load_iris(return_X_y=True)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})],
    ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
    >>> clf = GenomeClassifier(genome, max_epochs=5, random_state=0).fit(X, y)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = save(clf, pathlib.Path(tmp.name) / "iris.skevonas")
    >>> loaded = load(path)
    >>> bool(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)))
    True
    >>> tmp.cleanup()
    """
    if type(estimator) not in _CLASSES.values():  # exactly: a subclass would load as its base
        raise TypeError(
            f"save takes a fitted EvolutionaryNASClassifier or GenomeClassifier, got a "
            f"{type(estimator).__module__}.{type(estimator).__qualname__}"
        )
    return write_model(estimator.fitted_model(), path)


def load(path: str | os.PathLike, device: str = "cpu") -> Any:
    """Load a classifier saved by :func:`save`, without unpickling anything.

    Parameters
    ----------
    path : str or path
        A file written by :func:`save` (or ``skevonas search``).
    device : str, default="cpu"
        Where the network is put: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns
    -------
    estimator : EvolutionaryNASClassifier or GenomeClassifier
        Fitted: it predicts exactly as the saved estimator did, and exports
        with ``to_torchscript``, ``to_onnx`` and ``to_pytorch``. A search also has
        ``ensemble_genomes_``, ``ensemble_weights_`` and ``decimation_``
        (one member and 1 for a file of a plain network).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ModelFileError
        If the file is not a skevonas model file, or is damaged or crafted
        (truncated, an absurd header, an unknown format version or class,
        tensors missing, extra or of the wrong shape or dtype, a document
        with wrong or unknown keys, an ensemble with too many members,
        weights that are not positive or do not sum to 1, a decimation out
        of range...); the message names the problem.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skevonas import EvolutionaryNASClassifier, load, save
    >>> X, y = load_iris(return_X_y=True)
    >>> names = np.array(["setosa", "versicolor", "virginica"])[y]
    >>> clf = EvolutionaryNASClassifier(population_size=2, n_generations=1, max_epochs=2,
    ...                                 random_state=0).fit(X, names)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> loaded = load(save(clf, pathlib.Path(tmp.name) / "iris.skevonas"))
    >>> loaded.classes_.tolist(), loaded.best_genome_ == clf.best_genome_
    (['setosa', 'versicolor', 'virginica'], True)
    >>> bool(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)))
    True
    >>> tmp.cleanup()
    """
    model = read_model(path, [cls.model_kind() for cls in _CLASSES.values()], device)
    return _CLASSES[model.estimator].from_fitted_model(model)
