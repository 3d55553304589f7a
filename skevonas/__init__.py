"""skevonas: evolutionary neural architecture search with a scikit-learn face.

The main entry point is :class:`EvolutionaryNASClassifier`;
:class:`GenomeClassifier` trains one fixed architecture (e.g. a genome a
search found). The building blocks (genomes, search spaces, operators, the
evolution loop, builders, the evaluation worker, callbacks, checkpoints,
export and plots) live in their own modules.
"""

from .callbacks import (
    EarlyStopping,
    ProgressBar,
    ProgressPrinter,
    SearchCallback,
    TargetScore,
    TimeBudget,
)
from .checkpoint import CheckpointError
from .classifier import EvolutionaryNASClassifier, SearchFailedError
from .fixed import GenomeClassifier
from .genome import Genome, LayerGene
from .space import SearchSpace, cnn_space, get_space, mlp_space

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "EarlyStopping",
    "EvolutionaryNASClassifier",
    "Genome",
    "GenomeClassifier",
    "LayerGene",
    "ProgressBar",
    "ProgressPrinter",
    "SearchCallback",
    "SearchFailedError",
    "SearchSpace",
    "TargetScore",
    "TimeBudget",
    "__version__",
    "cnn_space",
    "get_space",
    "mlp_space",
]
