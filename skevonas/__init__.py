"""skevonas: evolutionary neural architecture search with a scikit-learn face.

The main entry point is :class:`EvolutionaryNASClassifier`;
:class:`GenomeClassifier` trains one fixed architecture (e.g. a genome a
search found). The building blocks live in wings, each with one job:
:mod:`skevonas.spaces` (what a network can be), :mod:`skevonas.evolution`
(which genomes to try next), :mod:`skevonas.search` (running a search),
:mod:`skevonas.training` (how one network is trained), :mod:`skevonas.store`
(what is kept on disk) and :mod:`skevonas.cli` (the command).
:func:`save` and :func:`load` keep a fitted classifier in one file that
loading cannot use to run code (:mod:`skevonas.saving`).

The names below are imported on first use, so that ``import skevonas`` (and
``skevonas --help``) does not load torch until a name that needs it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# public name -> the module that defines it
_EXPORTS = {
    "CheckpointError": "store.checkpoint",
    "EarlyStopping": "evolution.callbacks",
    "EvolutionaryNASClassifier": "classifier",
    "Genome": "spaces.genome",
    "GenomeClassifier": "fixed",
    "LayerGene": "spaces.genome",
    "ModelFileError": "store.model_document",
    "ProgressBar": "evolution.callbacks",
    "ProgressPrinter": "evolution.callbacks",
    "SearchCallback": "evolution.callbacks",
    "SearchFailedError": "search.final",
    "SearchSpace": "spaces.space",
    "TargetScore": "evolution.callbacks",
    "TimeBudget": "evolution.callbacks",
    "cnn_space": "spaces.catalogue",
    "eeg_space": "spaces.eeg_space",
    "eegnet_genome": "spaces.eeg_space",
    "eegnex_genome": "spaces.eeg_space",
    "get_space": "spaces.catalogue",
    "load": "saving",
    "mlp_space": "spaces.catalogue",
    "parse_genome": "spaces.genome",
    "prepare_data": "prepare",
    "save": "saving",
    "shallow_convnet_genome": "spaces.eeg_space",
    "standard_eeg_genomes": "spaces.eeg_space",
    "standard_image_cnn_genome": "spaces.catalogue",
    "standard_mlp_genome": "spaces.catalogue",
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
    from .classifier import EvolutionaryNASClassifier
    from .evolution.callbacks import (
        EarlyStopping,
        ProgressBar,
        ProgressPrinter,
        SearchCallback,
        TargetScore,
        TimeBudget,
    )
    from .fixed import GenomeClassifier
    from .prepare import prepare_data
    from .saving import load, save
    from .search.final import SearchFailedError
    from .spaces.catalogue import (
        cnn_space,
        get_space,
        mlp_space,
        standard_image_cnn_genome,
        standard_mlp_genome,
    )
    from .spaces.eeg_space import (
        eeg_space,
        eegnet_genome,
        eegnex_genome,
        shallow_convnet_genome,
        standard_eeg_genomes,
    )
    from .spaces.genome import Genome, LayerGene, parse_genome
    from .spaces.space import SearchSpace
    from .store.checkpoint import CheckpointError
    from .store.model_document import ModelFileError


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
