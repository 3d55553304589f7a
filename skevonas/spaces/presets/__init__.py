"""Search spaces of earlier genetic-algorithm systems, as presets.

Each function returns a :class:`~skevonas.SearchSpace` of family ``"mlp"``
that reproduces the space of one earlier system, so that a search with
skevonas can be compared with it (or with a brute-force sweep of it):

- :func:`keras_mlp_space`: the Keras MLP genetic algorithm of Matt Harvey
  (github.com/harvitronix/neural-network-genetic-algorithm, 2017): 672
  networks, every genome of which :func:`keras_mlp_grid` lists;
- :func:`naturalselection_space`: the feed-forward genus ``FNN`` of Dan
  Saattrup Nielsen's naturalselection package (version 0.3, 2019).

Both systems trained with Keras and named their optimizers by Keras's
strings, so each preset uses PyTorch twins of those optimizers at Keras's
default settings: ``"keras_<name>"`` for standalone Keras 2, which the Keras
MLP GA used, and ``"tf_keras_<name>"`` for tf.keras 2, which naturalselection
imports. Neither space has a learning-rate gene: each twin trains with its
Keras default learning rate. :mod:`skevonas.spaces.presets.keras` lists the twins
(:data:`~skevonas.spaces.presets.keras.KERAS_OPTIMIZERS`), says where they are
inexact, and holds Keras's weight initializers, which the ``initializer``
gene uses (Keras layers start with zero biases and Glorot-uniform weights).
The training recipe finds the twins through :func:`preset_optimizer`; they
are not among its core optimizers
(:data:`skevonas.training.recipe.OPTIMIZERS`).

Further, the presets train with PyTorch's cross-entropy on logits (Keras:
softmax then categorical cross-entropy, the same loss) and skevonas's own
early stopping on the validation score.

Examples
--------
>>> from skevonas.spaces.presets import keras_mlp_grid, keras_mlp_space
>>> space = keras_mlp_space()
>>> grid = keras_mlp_grid()
>>> len(grid), all(space.contains(g) for g in grid)
(672, True)
"""

from __future__ import annotations

import itertools
from typing import Any

from ..domains import Choice, Domain, Int, LayerSpec
from ..genome import Genome
from ..space import SearchSpace

__all__ = [
    "KERAS_MLP_CHOICES",
    "keras_mlp_genome",
    "keras_mlp_grid",
    "keras_mlp_space",
    "naturalselection_space",
    "preset_optimizer",
    "preset_optimizer_names",
]

# The prefixes of the presets' optimizer names (Keras 2, tf.keras 2).
_OPTIMIZER_PREFIXES = ("keras_", "tf_keras_")


def preset_optimizer(name: str) -> tuple[type, dict[str, Any]] | None:
    """The torch twin of a preset's Keras optimizer: (class, keyword arguments), or None.

    The keyword arguments include the Keras default learning rate. Names
    without a preset's prefix give None without importing torch.

    Examples
    --------
    >>> cls, args = preset_optimizer("tf_keras_adagrad")
    >>> cls.__name__, args["lr"]
    ('Adagrad', 0.001)
    >>> preset_optimizer("adam") is None, preset_optimizer("keras_lbfgs") is None
    (True, True)
    """
    if not name.startswith(_OPTIMIZER_PREFIXES):
        return None
    from .keras import KERAS_OPTIMIZERS  # torch, only when a preset optimizer is asked for

    return KERAS_OPTIMIZERS.get(name)


def preset_optimizer_names() -> list[str]:
    """The names :func:`preset_optimizer` knows, sorted.

    Examples
    --------
    >>> names = preset_optimizer_names()
    >>> len(names), names[0], names[-1]
    (14, 'keras_adadelta', 'tf_keras_sgd')
    """
    from .keras import KERAS_OPTIMIZERS

    return sorted(KERAS_OPTIMIZERS)


_NEURONS = (64, 128, 256, 512, 768, 1024)
_LAYERS = (1, 2, 3, 4)
_ACTIVATIONS = ("relu", "elu", "tanh", "sigmoid")
_OPTIMIZERS = ("rmsprop", "adam", "sgd", "adagrad", "adadelta", "adamax", "nadam")
#: The gene values of the Keras MLP GA (its ``nn_param_choices``), in its order.
KERAS_MLP_CHOICES: dict[str, tuple[int | str, ...]] = {
    "nb_neurons": _NEURONS,
    "nb_layers": _LAYERS,
    "activation": _ACTIVATIONS,
    "optimizer": _OPTIMIZERS,
}
# The GA's fixed settings: Dropout(0.2) after every hidden layer, Keras's
# default initializer.
_KERAS_DROPOUT = 0.2
_KERAS_INITIALIZER = "glorot_uniform"


def _check_batch_size(batch_size: object) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r} instead")
    return batch_size


def keras_mlp_space(*, batch_size: int = 128) -> SearchSpace:
    """The search space of the Keras MLP genetic algorithm: 672 networks.

    The Keras MLP GA (github.com/harvitronix/neural-network-genetic-algorithm)
    evolves four genes: ``nb_layers`` (1 to 4 hidden layers), ``nb_neurons``
    (64, 128, 256, 512, 768 or 1024), ``activation`` (relu, elu, tanh or
    sigmoid) and ``optimizer`` (rmsprop, adam, sgd, adagrad, adadelta,
    adamax or nadam). Every hidden layer of a network has the same width
    and activation and is followed by a dropout of 0.2; the output is a
    softmax layer. That makes 6 x 4 x 4 x 7 = 672 networks.

    Here those genes are the network-wide global genes ``depth``, ``units``,
    ``activation`` and ``optimizer`` of a genome with no layer genes (the
    MLP builder builds ``depth`` equal dense layers from them), so the
    genomes of this space map one-to-one onto the GA's 672 networks. Fixed
    genes (one value each) hold the GA's other settings: ``dropout`` 0.2,
    ``initializer`` ``"glorot_uniform"`` (Keras's default, with zero
    biases) and ``batch_size``.

    There is no learning-rate gene: each optimizer trains with its Keras 2
    default (``"keras_<name>"`` optimizers: sgd 0.01, rmsprop 0.001, adagrad
    0.01, adadelta 1.0, adam 0.001, adamax 0.002, nadam 0.002; see
    :mod:`skevonas.spaces.presets.keras` for the PyTorch twins and where they are
    inexact).

    Parameters
    ----------
    batch_size : int, default=128
        The GA's batch size: 128 for MNIST, 64 for CIFAR-10.

    Returns
    -------
    space : SearchSpace
        Family ``"mlp"``, named ``"keras_mlp"``.

    See Also
    --------
    keras_mlp_grid : Every genome of this space.
    keras_mlp_genome : The genome of one of the GA's networks.

    Examples
    --------
    >>> import numpy as np
    >>> space = keras_mlp_space()
    >>> space.name, space.max_layers
    ('keras_mlp', 0)
    >>> sorted(dict(space.globals))  # doctest: +NORMALIZE_WHITESPACE
    ['activation', 'batch_size', 'depth', 'dropout', 'initializer', 'optimizer',
     'units']
    >>> genome = space.sample(np.random.default_rng(0))
    >>> space.contains(genome), genome.layers
    (True, ())
    """
    batch_size = _check_batch_size(batch_size)
    globals_: dict[str, Domain] = {
        "depth": Int(1, 4),
        "units": Choice(KERAS_MLP_CHOICES["nb_neurons"]),
        "activation": Choice(KERAS_MLP_CHOICES["activation"]),
        "optimizer": Choice(tuple(f"keras_{o}" for o in KERAS_MLP_CHOICES["optimizer"])),
        "dropout": Choice((_KERAS_DROPOUT,)),
        "initializer": Choice((_KERAS_INITIALIZER,)),
        "batch_size": Choice((batch_size,)),
    }
    # No layer genes (min_layers = max_layers = 0): the network is all global
    # genes. A space needs one layer kind; "identity" is never drawn.
    return SearchSpace(
        "mlp", [LayerSpec("identity")], globals_, min_layers=0, max_layers=0, name="keras_mlp"
    )


def keras_mlp_genome(
    nb_layers: int,
    nb_neurons: int,
    activation: str,
    optimizer: str,
    *,
    batch_size: int = 128,
) -> Genome:
    """The genome of :func:`keras_mlp_space` for one network of the Keras MLP GA.

    Parameters
    ----------
    nb_layers, nb_neurons, activation, optimizer
        The GA's four genes, with its values (``KERAS_MLP_CHOICES``), e.g.
        ``optimizer="adam"``.
    batch_size : int, default=128
        As in :func:`keras_mlp_space`.

    Returns
    -------
    genome : Genome
        A genome inside ``keras_mlp_space(batch_size=batch_size)``.

    Raises
    ------
    ValueError
        If a gene is not one of the GA's values (all problems in one message).

    Examples
    --------
    >>> print(keras_mlp_genome(2, 512, "relu", "adam"))  # doctest: +NORMALIZE_WHITESPACE
    mlp: output | activation='relu', batch_size=128, depth=2, dropout=0.2,
    initializer='glorot_uniform', optimizer='keras_adam', units=512
    >>> keras_mlp_genome(5, 512, "relu", "lbfgs")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: nb_layers must be one of [1, 2, 3, 4], got 5 instead; optimizer must be ...
    """
    batch_size = _check_batch_size(batch_size)
    genes = {
        "nb_layers": nb_layers,
        "nb_neurons": nb_neurons,
        "activation": activation,
        "optimizer": optimizer,
    }
    problems = [
        f"{name} must be one of {list(KERAS_MLP_CHOICES[name])}, got {value!r} instead"
        for name, value in genes.items()
        if not Choice(KERAS_MLP_CHOICES[name]).contains(value)
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return Genome(
        "mlp",
        [],
        {
            "depth": int(nb_layers),
            "units": int(nb_neurons),
            "activation": activation,
            "optimizer": f"keras_{optimizer}",
            "dropout": _KERAS_DROPOUT,
            "initializer": _KERAS_INITIALIZER,
            "batch_size": batch_size,
        },
    )


def keras_mlp_grid(*, batch_size: int = 128) -> list[Genome]:
    """Every genome of :func:`keras_mlp_space`: the GA's 672 networks.

    In the order of the GA's own brute-force script (``brute.py``): by
    ``nb_neurons``, then ``nb_layers``, ``activation`` and ``optimizer``.

    Parameters
    ----------
    batch_size : int, default=128
        As in :func:`keras_mlp_space`.

    Returns
    -------
    genomes : list of Genome
        672 genomes with distinct keys.

    Examples
    --------
    >>> grid = keras_mlp_grid()
    >>> len(grid), len({g.key() for g in grid})
    (672, 672)
    >>> grid[0]["units"], grid[0]["depth"], grid[0]["activation"], grid[0]["optimizer"]
    (64, 1, 'relu', 'keras_rmsprop')
    """
    return [
        keras_mlp_genome(layers, neurons, activation, optimizer, batch_size=batch_size)
        for neurons, layers, activation, optimizer in itertools.product(
            _NEURONS, _LAYERS, _ACTIVATIONS, _OPTIMIZERS
        )
    ]


# naturalselection's FNN defaults (naturalselection/nn.py, version 0.3).
_NS_WIDTHS = (0, 16, 32, 64, 128, 256, 512, 1024)  # 0: no layer
_NS_DROPOUTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)  # np.arange(0, 0.6, 0.1)
_NS_OPTIMIZERS = ("sgd", "rmsprop", "adagrad", "adadelta", "adamax", "adam", "nadam")
_NS_ACTIVATIONS = ("relu", "elu", "softplus", "softsign")
_NS_BATCH_SIZES = (16, 32, 64, 128, 256, 512, 1024, 2048)
_NS_INITIALIZERS = (
    "lecun_uniform",
    "lecun_normal",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
)


def naturalselection_space(*, max_layers: int = 5) -> SearchSpace:
    """The search space of the naturalselection package's feed-forward networks.

    naturalselection (github.com/saattrupdan/naturalselection, version 0.3)
    evolves the genus ``FNN``, whose defaults this space copies:

    - global genes: ``optimizer`` (sgd, rmsprop, adagrad, adadelta, adamax,
      adam or nadam), ``initializer`` (lecun_uniform, lecun_normal,
      glorot_uniform, glorot_normal, he_uniform or he_normal), hidden
      ``activation`` (relu, elu, softplus or softsign), ``batch_size`` (16
      to 2048, powers of 2) and ``input_dropout`` (0, 0.1, ..., 0.5);
    - ``max_layers`` hidden-layer slots (5 by default), each a ``dense``
      gene with ``units`` 0, 16, 32, ..., 1024 (0: no layer) and
      ``dropout`` 0, 0.1, ..., 0.5, the package's ``layer<i>`` and
      ``dropout<i>`` genes. As in the package, the dropout of a slot with no
      layer still applies (to the output of the layer before).

    Every genome has exactly ``max_layers`` slots, so a genome of this space
    and one of the package's genomes are the same thing. The package draws
    dropout from its grid of six values, so this space does too (not the
    whole of [0, 0.5]). There is no learning-rate gene: each optimizer
    trains with its tf.keras 2 default (``"tf_keras_<name>"`` optimizers: sgd
    0.01, all others 0.001; see :mod:`skevonas.spaces.presets.keras` for the
    PyTorch twins and where they are inexact). The package's output layer
    and loss are the user's choice; here, as everywhere in skevonas, the
    output is a linear layer trained with cross-entropy (a softmax output).

    Parameters
    ----------
    max_layers : int, default=5
        Number of hidden-layer slots (the package's
        ``max_number_of_hidden_layers``).

    Returns
    -------
    space : SearchSpace
        Family ``"mlp"``, named ``"naturalselection"``.

    Examples
    --------
    >>> import numpy as np
    >>> space = naturalselection_space()
    >>> space.min_layers, space.max_layers, sorted(dict(space.globals))
    (5, 5, ['activation', 'batch_size', 'initializer', 'input_dropout', 'optimizer'])
    >>> genome = space.sample(np.random.default_rng(0))
    >>> space.contains(genome), [layer.kind for layer in genome.layers]
    (True, ['dense', 'dense', 'dense', 'dense', 'dense'])
    """
    if isinstance(max_layers, bool) or not isinstance(max_layers, int) or max_layers < 1:
        raise ValueError(f"max_layers must be an int >= 1, got {max_layers!r} instead")
    dense = LayerSpec("dense", {"units": Choice(_NS_WIDTHS), "dropout": Choice(_NS_DROPOUTS)})
    globals_: dict[str, Domain] = {
        "optimizer": Choice(tuple(f"tf_keras_{o}" for o in _NS_OPTIMIZERS)),
        "initializer": Choice(_NS_INITIALIZERS),
        "activation": Choice(_NS_ACTIVATIONS),
        "batch_size": Choice(_NS_BATCH_SIZES),
        "input_dropout": Choice(_NS_DROPOUTS),
    }
    return SearchSpace(
        "mlp",
        [dense],
        globals_,
        min_layers=max_layers,
        max_layers=max_layers,
        name="naturalselection",
    )
