"""skevonas: evolutionary neural architecture search with a scikit-learn face.

The main entry point is :class:`EvolutionaryNASClassifier`;
:class:`GenomeClassifier` trains one fixed architecture (e.g. a genome a
search found). The building blocks (genomes, search spaces, operators, the
evolution loop, builders, the evaluation worker, callbacks, checkpoints,
export and plots) live in their own modules. :func:`save` and :func:`load`
keep a fitted classifier in one file that loading cannot use to run code
(:mod:`skevonas.modelfile`).

The names below are imported on first use, so that ``import skevonas`` (and
``skevonas --help``) does not load torch until a name that needs it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "CheckpointError": "checkpoint",
    "EarlyStopping": "callbacks",
    "EvolutionaryNASClassifier": "classifier",
    "Genome": "genome",
    "GenomeClassifier": "fixed",
    "LayerGene": "genome",
    "ModelFileError": "modelfile",
    "ProgressBar": "callbacks",
    "ProgressPrinter": "callbacks",
    "SearchCallback": "callbacks",
    "SearchFailedError": "final",
    "SearchSpace": "space",
    "TargetScore": "callbacks",
    "TimeBudget": "callbacks",
    "cnn_space": "spaces",
    "eeg_space": "eeg",
    "eegnet_genome": "eeg",
    "eegnex_genome": "eeg",
    "get_space": "spaces",
    "load": "modelfile",
    "mlp_space": "spaces",
    "parse_genome": "genome",
    "prepare_data": "data",
    "save": "modelfile",
    "shallow_convnet_genome": "eeg",
    "standard_eeg_genomes": "eeg",
    "standard_image_cnn_genome": "spaces",
    "standard_mlp_genome": "spaces",
}

__all__ = [
    "CheckpointError",
    "EarlyStopping",
    "EvolutionaryNASClassifier",
    "Genome",
    "GenomeClassifier",
    "LayerGene",
    "ModelFileError",
    "ProgressBar",
    "ProgressPrinter",
    "SearchCallback",
    "SearchFailedError",
    "SearchSpace",
    "TargetScore",
    "TimeBudget",
    "__version__",
    "cnn_space",
    "eeg_space",
    "eegnet_genome",
    "eegnex_genome",
    "get_space",
    "load",
    "mlp_space",
    "parse_genome",
    "prepare_data",
    "save",
    "shallow_convnet_genome",
    "standard_eeg_genomes",
    "standard_image_cnn_genome",
    "standard_mlp_genome",
]

if TYPE_CHECKING:  # pragma: no cover - what type checkers and IDEs see
    from .callbacks import (
        EarlyStopping,
        ProgressBar,
        ProgressPrinter,
        SearchCallback,
        TargetScore,
        TimeBudget,
    )
    from .checkpoint import CheckpointError
    from .classifier import EvolutionaryNASClassifier
    from .data import prepare_data
    from .eeg import (
        eeg_space,
        eegnet_genome,
        eegnex_genome,
        shallow_convnet_genome,
        standard_eeg_genomes,
    )
    from .final import SearchFailedError
    from .fixed import GenomeClassifier
    from .genome import Genome, LayerGene, parse_genome
    from .modelfile import ModelFileError, load, save
    from .space import SearchSpace
    from .spaces import (
        cnn_space,
        get_space,
        mlp_space,
        standard_image_cnn_genome,
        standard_mlp_genome,
    )


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
