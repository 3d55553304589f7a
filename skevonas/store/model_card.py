"""The ``README.md`` of a standalone export: a short model card.

:func:`model_card` says what the model takes (the shape of one sample, the
sampling rate, the input step), what it gives (the classes), how it was
found (the estimator's settings, its scores, the genome of each network
and its weight in an ensemble) and how to load it without skevonas.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..spaces.genome import Genome

__all__ = ["model_card"]

# Fitted results shown under "Scores", where the estimator has them.
_SCORES = (
    "best_score_",
    "validation_score_",
    "best_epoch_",
    "n_evaluations_",
    "stop_reason_",
    "search_time_",
    "refit_time_",
)
_USAGE = """```python
import sys
sys.path.insert(0, "path/to/this/folder")
import model

clf = model.load("path/to/this/folder")
proba = clf.predict_proba(X)   # shape (n_samples, n_classes), columns in the order of the classes
labels = clf.predict(X)        # the class labels
net = clf.module               # the torch.nn.Module
```
"""


def _value(value: Any) -> str:
    """A fitted result or setting as Markdown inline code."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return f"`{value:.6g}`"
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return "`" + text.replace("`", "'") + "`"


def _scores(estimator: Any) -> list[str]:
    lines = []
    for name in _SCORES:
        value = getattr(estimator, name, None)
        if isinstance(value, (int, float, str, np.number)) and not isinstance(value, bool):
            lines.append(f"- `{name}`: {_value(value)}")
    rows = getattr(estimator, "finalists_", None)
    if isinstance(rows, list) and rows:
        lines += [
            "",
            "Finalists (holdout score, cross-validated score, weight in the ensemble):",
            "",
        ]
        for row in rows:
            if not isinstance(row, Mapping):
                continue
            genome = row.get("genome")
            key = genome.short_key() if isinstance(genome, Genome) else "?"
            cells = [_number(row.get(k)) for k in ("holdout_score", "cv_score", "weight")]
            lines.append(f"- `{key}`: {', '.join(cells)}")
    return lines or ["(none recorded)"]


def _number(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    return f"{number:.4f}" if math.isfinite(number) else "-"


def _input(config: Mapping[str, Any]) -> list[str]:
    shape = config["input"]["sample_shape"]
    sfreq = config["input"]["sfreq"]
    lines = [
        f"- `X`: a NumPy array of shape `(n_samples, {', '.join(map(str, shape))})`, raw, "
        "as given to the estimator's `fit`",
    ]
    if sfreq is not None:
        lines.append(f"- sampling rate: {sfreq:g} Hz (time is the last axis)")
    lines += ["- what `predict_proba` does with it, in order:", ""]
    lines += [f"  {i}. `{step}`" for i, step in enumerate(config["preprocessing"]["steps"], 1)]
    return lines


def model_card(estimator: Any, model: Any, config: Mapping[str, Any]) -> str:
    """The model card (Markdown) of a standalone export.

    Parameters
    ----------
    estimator : fitted skevonas classifier
        Read for its fitted results (``best_score_``, ``validation_score_``,
        ``finalists_``...), where it has them.
    model : FittedModel
        ``estimator.fitted_model()``: the class, settings and genome.
    config : mapping
        The export's ``config.json``
        (:func:`~skevonas.store.standalone.export_config`).

    Returns
    -------
    text : str
        Markdown: data shape and classes, input, usage, settings, scores
        and genomes.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skevonas import Genome, GenomeClassifier, LayerGene
    >>> from skevonas.store.standalone import export_config
    >>> X, y = load_iris(return_X_y=True)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> clf = GenomeClassifier(genome, max_epochs=1, random_state=0).fit(X, y)
    >>> model = clf.fitted_model()
    >>> card = model_card(clf, model, export_config(clf, model, clf.module_))
    >>> print(card.splitlines()[0])
    # GenomeClassifier: 3 classes, samples of shape (4,)
    >>> "validation_score_" in card and "## Genome" in card
    True
    """
    shape = tuple(config["input"]["sample_shape"])
    classes = config["classes"]["values"]
    network = config["network"]
    genomes = [Genome.from_dict(g) for g in config["genomes"]]
    weights = config["weights"]
    kind = (
        f"an ensemble of {len(genomes)} networks (the weighted mean of their probabilities)"
        if network["class"] == "Ensemble"
        else f"one {genomes[0].family} network"
    )
    lines = [
        f"# {model.estimator}: {len(classes)} classes, samples of shape {shape}",
        "",
        f"Exported by skevonas {config['skevonas_version']} as plain PyTorch: {kind}, "
        f"{network['n_parameters']:,} parameters. Loading needs torch, numpy and "
        "safetensors, not skevonas.",
        "",
        "## Classes",
        "",
        ", ".join(_value(c) for c in classes) + f" (dtype `{config['classes']['dtype']}`)",
        "",
        "## Input",
        "",
        *_input(config),
        "",
        "## Use",
        "",
        _USAGE,
        "## Files",
        "",
        "- `model.py`: the network as PyTorch code, and `load`",
        "- `model.safetensors`: its weights and buffers",
        "- `config.json`: classes, input shape and steps, genomes, weights",
        "",
        "## Settings",
        "",
        *[f"- `{name}`: {_value(value)}" for name, value in sorted(model.params.items())],
        "",
        "## Scores",
        "",
        *_scores(estimator),
        "",
        "## Genome" + ("s" if len(genomes) > 1 else ""),
        "",
    ]
    for genome, weight in zip(genomes, weights, strict=True):
        prefix = f"weight {weight:.3g}: " if len(genomes) > 1 else ""
        lines += [f"- {prefix}`{genome}`"]
    if config["preprocessing"]["decimation"] > 1:
        lines += [
            "",
            f"The networks take the input decimated by {config['preprocessing']['decimation']}.",
        ]
    return "\n".join(lines) + "\n"
