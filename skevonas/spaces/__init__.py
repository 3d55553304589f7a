"""What a network can be.

Genomes, their value domains and shape rules, search spaces and the
built-in catalogue, the model families and their torch builders.

Importing this wing loads no torch: the builders (:mod:`skevonas.spaces.builders`),
the family registry (:mod:`skevonas.spaces.families`) and
:mod:`skevonas.spaces.networks` do, when they are imported.
"""

from .catalogue import (
    SPACES,
    cnn_space,
    get_space,
    mlp_space,
    standard_image_cnn_genome,
    standard_mlp_genome,
)
from .eeg_space import (
    eeg_space,
    eegnet_genome,
    eegnex_genome,
    shallow_convnet_genome,
    standard_eeg_genomes,
)
from .genome import Genome, LayerGene, parse_genome
from .space import SearchSpace

__all__ = [
    "SPACES",
    "Genome",
    "LayerGene",
    "SearchSpace",
    "cnn_space",
    "eeg_space",
    "eegnet_genome",
    "eegnex_genome",
    "get_space",
    "mlp_space",
    "parse_genome",
    "shallow_convnet_genome",
    "standard_eeg_genomes",
    "standard_image_cnn_genome",
    "standard_mlp_genome",
]
