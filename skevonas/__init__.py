"""skevonas: evolutionary neural architecture search with a scikit-learn face.

The main entry point is :class:`EvolutionaryNASClassifier`; the building
blocks (genomes, search spaces, operators, the evolution loop, builders and
the evaluation worker) live in their own modules.
"""

from .callbacks import ProgressPrinter, SearchCallback
from .classifier import EvolutionaryNASClassifier, SearchFailedError
from .genome import Genome, LayerGene
from .space import SearchSpace, cnn_space, get_space, mlp_space

__version__ = "0.1.0"

__all__ = [
    "EvolutionaryNASClassifier",
    "Genome",
    "LayerGene",
    "ProgressPrinter",
    "SearchCallback",
    "SearchFailedError",
    "SearchSpace",
    "__version__",
    "cnn_space",
    "get_space",
    "mlp_space",
]
