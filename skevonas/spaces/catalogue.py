"""The named search spaces, and how a ``search_space`` setting becomes a space.

:data:`SPACES` maps each name the estimator's ``search_space`` accepts to a
function that builds that space:

======================  ==================================================
``"mlp"``               :func:`mlp_space`
``"eeg"``               :func:`skevonas.spaces.eeg_space.eeg_space`
``"cnn1d"``             :func:`cnn_space` with ``ndim=1``
``"cnn2d"``             :func:`cnn_space` with ``ndim=2, max_layers=16``
``"keras_mlp"``         :func:`skevonas.spaces.presets.keras_mlp_space`
``"naturalselection"``  :func:`skevonas.spaces.presets.naturalselection_space`
======================  ==================================================

:func:`get_space` resolves a setting (one of these names, ``"auto"`` or a
:class:`~skevonas.SearchSpace`) and binds it to the shape of one sample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .domains import TRAINING_GENES, Choice, Domain, Float, Int, LayerSpec
from .eeg_space import eeg_space
from .genome import Genome, LayerGene
from .presets import keras_mlp_space, naturalselection_space
from .shapes import auto_family
from .space import SearchSpace

__all__ = [
    "SPACES",
    "cnn_space",
    "get_space",
    "mlp_space",
    "standard_image_cnn_genome",
    "standard_mlp_genome",
]


def mlp_space(max_layers: int = 4) -> SearchSpace:
    """Multi-layer perceptrons for ``(n_samples, n_features)`` input.

    Each hidden layer has its own width (16 to 1,024 units), activation and
    dropout; depth ranges from 1 to ``max_layers``. Training genes: optimizer,
    learning rate, batch size and weight decay.

    Examples
    --------
    >>> space = mlp_space(max_layers=3)
    >>> space.family, space.max_layers, [s.kind for s in space.layers]
    ('mlp', 3, ['dense'])
    """
    dense_params: dict[str, Domain] = {
        "units": Choice((16, 32, 64, 128, 256, 512, 1024)),
        "activation": Choice(("relu", "elu", "tanh", "leaky_relu")),
        "dropout": Float(0.0, 0.5),
    }
    dense = LayerSpec("dense", dense_params)
    return SearchSpace(
        "mlp", [dense], dict(TRAINING_GENES), min_layers=1, max_layers=max_layers, name="mlp"
    )


def standard_mlp_genome() -> Genome:
    """The common baseline MLP, which seeds an ``"mlp"`` search: 2 x 512 ReLU units.

    Two hidden layers of 512 ReLU units with dropout 0.2 (the shape of the
    classic MNIST multi-layer perceptron), trained with AdamW at a learning
    rate of 1e-3, weight decay 0.01 (AdamW's default) and batches of 128. Under
    skevonas's recipe (cosine annealing over ``max_epochs``) it is a strong
    baseline on dense features: on Fashion-MNIST it scores 0.9085 after 30
    epochs (``docs/benchmarks.md``). It lies in :func:`mlp_space` for any
    ``max_layers`` of at least 2.

    Examples
    --------
    >>> genome = standard_mlp_genome()
    >>> [layer["units"] for layer in genome.layers], dict(genome.globals)["optimizer"]
    ([512, 512], 'adamw')
    >>> mlp_space().bind((784,)).contains(genome)
    True
    """
    dense = LayerGene("dense", {"units": 512, "activation": "relu", "dropout": 0.2})
    return Genome(
        "mlp",
        [dense, dense],
        {"optimizer": "adamw", "lr": 1e-3, "batch_size": 128, "weight_decay": 1e-2},
    )


def cnn_space(ndim: int = 1, max_layers: int = 10) -> SearchSpace:
    """Convolutional networks built from the EEG-NAS thesis's layer list.

    Layers: ``conv`` (filters, kernel size, stride), ``maxpool`` (pool size,
    stride equal to the pool size), ``batchnorm``, ``elu``, ``dropout``
    (rate) and ``identity``. For ``ndim=1`` the input is
    ``(channels, time)``; for ``ndim=2`` it is ``(channels, height, width)``
    and kernels and pools are square. Global genes: the classifier head
    (``"flatten"``; for images also global ``"avg"`` pooling) plus
    optimizer, learning rate and batch size.

    Examples
    --------
    >>> sorted(s.kind for s in cnn_space().layers)
    ['batchnorm', 'conv', 'dropout', 'elu', 'identity', 'maxpool']
    """
    if ndim not in (1, 2):
        raise ValueError(f"ndim must be one of [1, 2], got {ndim!r}")
    kernel = Int(2, 32) if ndim == 1 else Int(2, 7)
    pool = Int(2, 8) if ndim == 1 else Int(2, 4)
    conv_params: dict[str, Domain] = {
        "filters": Choice((8, 16, 32, 64)),
        "kernel_size": kernel,
        "stride": Int(1, 3),
    }
    layers = [
        LayerSpec("conv", conv_params, weight=3.0),
        LayerSpec("maxpool", {"pool_size": pool}, weight=2.0),
        LayerSpec("batchnorm", weight=1.5),
        LayerSpec("elu", weight=2.0),
        LayerSpec("dropout", {"rate": Float(0.0, 0.6)}, weight=1.0),
        LayerSpec("identity", weight=0.5),
    ]
    # Time series: a flatten head, as ShallowConvNet and EEGNet classify from
    # every remaining time step; on SCP1 every global-average variant we tried
    # was 0.07-0.14 less accurate than its flatten twin (docs/design.md).
    # Images: flatten or global average pooling.
    heads = ("flatten",) if ndim == 1 else ("flatten", "avg")
    globals_: dict[str, Domain] = {**TRAINING_GENES, "head": Choice(heads)}
    return SearchSpace(
        f"cnn{ndim}d",
        layers,
        globals_,
        min_layers=1,
        max_layers=max_layers,
        init_max_layers=min(6, max_layers),
        name=f"cnn{ndim}d",
    )


def standard_image_cnn_genome() -> Genome:
    """The common small image CNN, which seeds a ``"cnn2d"`` search.

    Two blocks of two 3 x 3 convolutions (32 then 64 filters), each followed by
    batch normalisation and ELU, each block ending in a 2 x 2 max pool and
    dropout (0.2, then 0.3); a flatten head; AdamW at a learning rate of 1e-3,
    weight decay 0.01 (AdamW's default), batches of 128. This is the layout of
    the VGG-style networks commonly trained on MNIST-sized images, written in
    :func:`cnn_space`'s layers (14 of them, so the ``"cnn2d"`` space allows up
    to 16). On Fashion-MNIST, trained by skevonas's recipe for 15 cosine epochs
    on all 60,000 images, it scores 0.9265 (``docs/benchmarks.md``). On smaller
    images :meth:`~skevonas.SearchSpace.repair` shrinks or drops the layers
    that would not fit.

    Examples
    --------
    >>> genome = standard_image_cnn_genome()
    >>> [layer["filters"] for layer in genome.layers if layer.kind == "conv"]
    [32, 32, 64, 64]
    >>> cnn_space(2, max_layers=16).bind((1, 28, 28)).contains(genome)
    True
    """

    def block(filters: int, dropout: float) -> list[LayerGene]:
        conv = LayerGene("conv", {"filters": filters, "kernel_size": 3, "stride": 1})
        unit = [conv, LayerGene("batchnorm"), LayerGene("elu")]
        return [
            *unit,
            *unit,
            LayerGene("maxpool", {"pool_size": 2}),
            LayerGene("dropout", {"rate": dropout}),
        ]

    return Genome(
        "cnn2d",
        [*block(32, 0.2), *block(64, 0.3)],
        {
            "optimizer": "adamw",
            "lr": 1e-3,
            "batch_size": 128,
            "weight_decay": 1e-2,
            "head": "flatten",
        },
    )


def _cnn1d_space() -> SearchSpace:
    return cnn_space(1)


def _cnn2d_space() -> SearchSpace:
    # 16 layers: room for the standard image CNN's 14 (standard_image_cnn_genome)
    return cnn_space(2, max_layers=16)


#: Search-space name -> a function that builds the space (with its defaults).
SPACES: dict[str, Callable[[], SearchSpace]] = {
    "mlp": mlp_space,
    "eeg": eeg_space,
    "cnn1d": _cnn1d_space,
    "cnn2d": _cnn2d_space,
    # the seed systems' spaces (skevonas.spaces.presets; the EEG thesis's is "cnn1d")
    "keras_mlp": keras_mlp_space,
    "naturalselection": naturalselection_space,
}


def get_space(name: str | SearchSpace, sample_shape: Sequence[int]) -> SearchSpace:
    """Resolve a search-space setting and bind it to the shape of one sample.

    ``"auto"`` picks the family from the number of dimensions of one sample
    (:data:`skevonas.spaces.shapes.AUTO_FAMILIES`): 1 -> ``"mlp"``, 2 -> ``"eeg"``
    (:func:`skevonas.spaces.eeg_space.eeg_space`), 3 -> ``"cnn2d"``.

    Parameters
    ----------
    name : str or SearchSpace
        ``"auto"``, a name in :data:`SPACES`, or a space of one's own.
    sample_shape : sequence of int
        Shape of one sample.

    Returns
    -------
    space : SearchSpace
        The space, bound to ``sample_shape``.

    Raises
    ------
    ValueError
        If ``name`` is not a known space, ``"auto"`` has no family for
        samples of that many dimensions, or the space's family expects
        samples of another number of dimensions.

    Examples
    --------
    >>> get_space("auto", (6, 896)).name
    'eeg'
    >>> get_space("cnn2d", (3, 32, 32)).input_shape
    (3, 32, 32)
    >>> get_space("rnn", (6, 896))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: search_space must be one of ['auto', 'mlp', 'eeg', ...] or a SearchSpace, got 'rnn'
    """
    if isinstance(name, SearchSpace):
        return name.bind(sample_shape)
    if name == "auto":
        name = auto_family(len(sample_shape))
    if name not in SPACES:
        raise ValueError(
            f"search_space must be one of {['auto', *SPACES]} or a SearchSpace, got {name!r}"
        )
    return SPACES[name]().bind(sample_shape)
