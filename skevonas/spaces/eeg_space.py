"""The EEG search space, and the standard EEG networks written as genomes.

:func:`eeg_space` is the default search space for EEG epochs
``(n_epochs, n_channels, n_times)``. Beside the EEG-NAS thesis's layer list
(convolution, dropout, batch normalisation, ELU, max pooling, identity) it
offers the building blocks of the networks EEG researchers use: temporal
convolution (optionally dilated), spatial (across-electrode, optionally
depthwise) convolution, separable convolution, average pooling with a
stride, and ShallowConvNet's square and log nonlinearities (see
:mod:`skevonas.spaces.builders.eeg`).

:func:`shallow_convnet_genome`, :func:`eegnet_genome` and
:func:`eegnex_genome` express ShallowConvNet (Schirrmeister et al., 2017),
EEGNet-8,2 (Lawhern et al., 2018) and EEGNeX (Chen et al., 2024) in that
space. By default the estimator seeds the first generation of an EEG search
with all three (``initial_genomes="auto"``), so evolution starts from the
field's baselines and can only improve on their validation score.
"""

from __future__ import annotations

from .domains import TRAINING_GENES, Choice, Domain, Float, Int, LayerSpec
from .genome import GeneValue, Genome, LayerGene
from .space import SearchSpace

__all__ = [
    "eeg_space",
    "eegnet_genome",
    "eegnex_genome",
    "shallow_convnet_genome",
    "standard_eeg_genomes",
]

# The EEG space's filter counts, which eegnet_genome checks its arguments against.
_TEMPORAL_FILTERS = (4, 8, 16, 24, 32, 40)
_DEPTH_MULTIPLIERS = (1, 2, 4)
_SEPARABLE_FILTERS = (8, 16, 32, 64)
# Spacing of the taps of a dilated time kernel (a genome without the gene has 1).
_DILATIONS = (1, 2, 4, 8)

# Training genes the standard networks start from (inside every space's domains).
_STANDARD_TRAINING: dict[str, GeneValue] = {
    "optimizer": "adam",
    "lr": 1e-3,
    "batch_size": 32,
    "weight_decay": 0.0,
    "head": "flatten",
}


def eeg_space(max_layers: int = 16) -> SearchSpace:
    """Search space of EEG networks over ``(channels, time)`` epochs.

    Layer kinds and their genes:

    ========================  ==================================================
    ``temporal_conv``         filters (4 to 40), kernel size (3 to 128 samples),
                              dilation (1, 2, 4, 8), padding (``"valid"`` or
                              ``"same"``)
    ``spatial_conv``          depth multiplier (1, 2, 4), depthwise (bool)
    ``separable_conv``        filters (8 to 64), kernel size (3 to 32),
                              dilation, padding
    ``conv``                  filters, kernel size (2 to 32), stride (1 to 3)
    ``avgpool``, ``maxpool``  pool size (2 to 80), stride (1 to 32, at most the
                              pool size)
    ``batchnorm``, ``elu``,   no genes
    ``square``, ``log``,
    ``identity``
    ``dropout``               rate (0 to 0.6)
    ========================  ==================================================

    Global genes: optimizer, learning rate, batch size and the ``"flatten"``
    head. Sampled genomes have up to 8 layers; mutation may grow them to
    ``max_layers``. A dilated kernel of size ``k`` spans ``(k - 1) *
    dilation + 1`` samples. ``dilation`` is implicit
    (:data:`~skevonas.spaces.domains.IMPLICIT_GENES`): a layer saved without it
    is undilated and still lies in the space.

    Parameters
    ----------
    max_layers : int, default=16
        Deepest genome in the space (EEGNet-8,2 has 12 layers, EEGNeX 16).

    Examples
    --------
    >>> import numpy as np
    >>> space = eeg_space().bind((6, 896))
    >>> space.family, [space.contains(g) for g in standard_eeg_genomes()]
    ('eeg', [True, True, True])
    >>> space.contains(space.sample(np.random.default_rng(0)))
    True
    """
    padding = Choice(("valid", "same"))
    pool: dict[str, Domain] = {"pool_size": Int(2, 80, log=True), "stride": Int(1, 32, log=True)}
    temporal: dict[str, Domain] = {
        "filters": Choice(_TEMPORAL_FILTERS),
        "kernel_size": Int(3, 128, log=True),
        "dilation": Choice(_DILATIONS),
        "padding": padding,
    }
    spatial: dict[str, Domain] = {
        "depth_multiplier": Choice(_DEPTH_MULTIPLIERS),
        "depthwise": Choice((True, False)),
    }
    separable: dict[str, Domain] = {
        "filters": Choice(_SEPARABLE_FILTERS),
        "kernel_size": Int(3, 32, log=True),
        "dilation": Choice(_DILATIONS),
        "padding": padding,
    }
    conv: dict[str, Domain] = {
        "filters": Choice((8, 16, 32, 64)),
        "kernel_size": Int(2, 32),
        "stride": Int(1, 3),
    }
    layers = [
        LayerSpec("temporal_conv", temporal, weight=2.0),
        LayerSpec("spatial_conv", spatial, weight=1.5),
        LayerSpec("separable_conv", separable, weight=1.0),
        LayerSpec("conv", conv, weight=1.0),
        LayerSpec("avgpool", pool, weight=1.5),
        LayerSpec("maxpool", pool, weight=1.0),
        LayerSpec("batchnorm", weight=1.5),
        LayerSpec("elu", weight=1.5),
        LayerSpec("square", weight=0.5),
        LayerSpec("log", weight=0.5),
        LayerSpec("dropout", {"rate": Float(0.0, 0.6)}, weight=1.0),
        LayerSpec("identity", weight=0.5),
    ]
    globals_: dict[str, Domain] = {**TRAINING_GENES, "head": Choice(("flatten",))}
    return SearchSpace(
        "eeg",
        layers,
        globals_,
        min_layers=1,
        max_layers=max_layers,
        init_max_layers=min(8, max_layers),
        name="eeg",
    )


def _samples(length: int, published_sfreq: float, sfreq: float | None, low: int, high: int) -> int:
    """A length in samples at ``published_sfreq``, rescaled to ``sfreq``, within [low, high]."""
    if sfreq is not None:
        if not (isinstance(sfreq, (int, float)) and sfreq > 0):
            raise ValueError(f"sfreq must be a number > 0, got {sfreq!r} instead")
        length = int(round(length * sfreq / published_sfreq))
    return min(max(length, low), high)


def shallow_convnet_genome(sfreq: float | None = None) -> Genome:
    """ShallowConvNet (Schirrmeister et al., 2017) as a genome of the EEG space.

    40 temporal filters of 25 samples, a full spatial convolution to 40
    maps, batch normalisation, square, average pooling over 75 samples with
    stride 15, log, dropout 0.5 and a dense output layer: a learnt
    filter-bank band-power decoder. Lengths are the published ones at
    250 Hz; with ``sfreq`` they are rescaled to that sampling rate.

    Parameters
    ----------
    sfreq : float or None, default=None
        Sampling rate of the data in Hz; None keeps the published lengths.

    Examples
    --------
    >>> g = shallow_convnet_genome()
    >>> [layer.kind for layer in g.layers]  # doctest: +NORMALIZE_WHITESPACE
    ['temporal_conv', 'spatial_conv', 'batchnorm', 'square', 'avgpool', 'log',
     'dropout']
    >>> shallow_convnet_genome(sfreq=125).layers[0]["kernel_size"]
    12
    """
    layers = [
        LayerGene(
            "temporal_conv",
            {"filters": 40, "kernel_size": _samples(25, 250.0, sfreq, 3, 128), "padding": "valid"},
        ),
        LayerGene("spatial_conv", {"depth_multiplier": 1, "depthwise": False}),
        LayerGene("batchnorm"),
        LayerGene("square"),
        LayerGene(
            "avgpool",
            {
                "pool_size": _samples(75, 250.0, sfreq, 2, 80),
                "stride": _samples(15, 250.0, sfreq, 1, 32),
            },
        ),
        LayerGene("log"),
        LayerGene("dropout", {"rate": 0.5}),
    ]
    return Genome("eeg", layers, _STANDARD_TRAINING)


def eegnet_genome(sfreq: float | None = None, f1: int = 8, depth_multiplier: int = 2) -> Genome:
    """EEGNet-F1,D (Lawhern et al., 2018; default EEGNet-8,2) as a genome of the EEG space.

    Block 1: ``f1`` temporal filters of half a second ("same" padding),
    batch normalisation, a depthwise spatial convolution with
    ``depth_multiplier`` filters per map, batch normalisation, ELU, average
    pooling by 4, dropout 0.25. Block 2: a separable convolution to
    ``f1 * depth_multiplier`` maps over 16 samples, batch normalisation,
    ELU, average pooling by 8, dropout 0.25. Lengths are the published ones
    at 128 Hz; with ``sfreq`` they are rescaled.

    Parameters
    ----------
    sfreq : float or None, default=None
        Sampling rate of the data in Hz; None keeps the published lengths.
    f1 : {4, 8, 16, 24, 32, 40}, default=8
        Temporal filters.
    depth_multiplier : {1, 2, 4}, default=2
        Spatial filters per temporal filter (D); the separable convolution
        has ``f1 * depth_multiplier`` filters (F2), which must be one of the
        space's 8, 16, 32 or 64.

    Examples
    --------
    >>> g = eegnet_genome()
    >>> len(g.layers), g.layers[0]["kernel_size"], g.layers[7]["filters"]
    (12, 64, 16)
    """
    f2 = f1 * depth_multiplier
    if (
        f1 not in _TEMPORAL_FILTERS
        or depth_multiplier not in _DEPTH_MULTIPLIERS
        or f2 not in _SEPARABLE_FILTERS
    ):
        raise ValueError(
            f"f1={f1!r} and depth_multiplier={depth_multiplier!r} give a genome outside the "
            f"EEG space: f1 must be one of {list(_TEMPORAL_FILTERS)}, depth_multiplier one of "
            f"{list(_DEPTH_MULTIPLIERS)}, and f1 * depth_multiplier one of "
            f"{list(_SEPARABLE_FILTERS)}"
        )
    layers = [
        LayerGene(
            "temporal_conv",
            {"filters": f1, "kernel_size": _samples(64, 128.0, sfreq, 3, 128), "padding": "same"},
        ),
        LayerGene("batchnorm"),
        LayerGene("spatial_conv", {"depth_multiplier": depth_multiplier, "depthwise": True}),
        LayerGene("batchnorm"),
        LayerGene("elu"),
        LayerGene("avgpool", {"pool_size": 4, "stride": 4}),
        LayerGene("dropout", {"rate": 0.25}),
        LayerGene(
            "separable_conv",
            {"filters": f2, "kernel_size": _samples(16, 128.0, sfreq, 3, 32), "padding": "same"},
        ),
        LayerGene("batchnorm"),
        LayerGene("elu"),
        LayerGene("avgpool", {"pool_size": 8, "stride": 8}),
        LayerGene("dropout", {"rate": 0.25}),
    ]
    return Genome("eeg", layers, _STANDARD_TRAINING)


def eegnex_genome(sfreq: float | None = None) -> Genome:
    """EEGNeX-8,32 (Chen et al., 2024) as a genome of the EEG space.

    braindecode's ``EEGNeX`` with its default settings. Blocks 1 and 2: 8
    then 32 temporal filters of half a second ("same" padding), each
    followed by batch normalisation; the second convolution mixes the 8 maps
    of the first. Block 3: a depthwise spatial convolution with 2 filters
    per map (64 maps), batch normalisation, ELU, average pooling by 4,
    dropout 0.5. Blocks 4 and 5: temporal convolutions over 16 samples
    dilated by 2 (to 32 maps) and by 4 (to 8 maps), each followed by batch
    normalisation; then ELU, average pooling by 8, dropout 0.5. Lengths are
    braindecode's, taken as 128 Hz (EEGNeX keeps EEGNet's sampling rate and
    kernel of 64 samples); with ``sfreq`` the kernels are rescaled and, as
    in :func:`eegnet_genome`, the pools are not.

    What the EEG space cannot express: braindecode's convolutions have no
    bias (each is followed by batch normalisation, which cancels one, so the
    genome's network computes the same functions with one redundant bias
    per filter); its pools pad the time axis by one sample on each side
    (which may add one pooled step); and it bounds the norm of the spatial
    and output weights (max-norm 1 and 0.25).

    Parameters
    ----------
    sfreq : float or None, default=None
        Sampling rate of the data in Hz; None keeps the published lengths.

    Examples
    --------
    >>> g = eegnex_genome()
    >>> [layer.kind for layer in g.layers]  # doctest: +NORMALIZE_WHITESPACE
    ['temporal_conv', 'batchnorm', 'temporal_conv', 'batchnorm', 'spatial_conv',
     'batchnorm', 'elu', 'avgpool', 'dropout', 'temporal_conv', 'batchnorm',
     'temporal_conv', 'batchnorm', 'elu', 'avgpool', 'dropout']
    >>> g.layers[11]
    temporal_conv(dilation=4, filters=8, kernel_size=16, padding='same')
    >>> [eegnex_genome(sfreq).layers[i]["kernel_size"] for sfreq in (64, 256) for i in (0, 9)]
    [32, 8, 128, 32]
    """
    block_1_2 = _samples(64, 128.0, sfreq, 3, 128)
    block_4_5 = _samples(16, 128.0, sfreq, 3, 128)

    def temporal(filters: int, kernel_size: int, dilation: int) -> LayerGene:
        genes: dict[str, GeneValue] = {
            "filters": filters,
            "kernel_size": kernel_size,
            "dilation": dilation,
            "padding": "same",
        }
        return LayerGene("temporal_conv", genes)

    layers = [
        temporal(8, block_1_2, 1),
        LayerGene("batchnorm"),
        temporal(32, block_1_2, 1),
        LayerGene("batchnorm"),
        LayerGene("spatial_conv", {"depth_multiplier": 2, "depthwise": True}),
        LayerGene("batchnorm"),
        LayerGene("elu"),
        LayerGene("avgpool", {"pool_size": 4, "stride": 4}),
        LayerGene("dropout", {"rate": 0.5}),
        temporal(32, block_4_5, 2),
        LayerGene("batchnorm"),
        temporal(8, block_4_5, 4),
        LayerGene("batchnorm"),
        LayerGene("elu"),
        LayerGene("avgpool", {"pool_size": 8, "stride": 8}),
        LayerGene("dropout", {"rate": 0.5}),
    ]
    return Genome("eeg", layers, _STANDARD_TRAINING)


def standard_eeg_genomes(sfreq: float | None = None) -> list[Genome]:
    """The standard EEG networks that seed an EEG search: ShallowConvNet, EEGNet-8,2 and EEGNeX.

    Parameters
    ----------
    sfreq : float or None, default=None
        Sampling rate of the data in Hz; None keeps the published lengths.

    Examples
    --------
    >>> [len(g.layers) for g in standard_eeg_genomes()]
    [7, 12, 16]
    """
    return [shallow_convnet_genome(sfreq), eegnet_genome(sfreq), eegnex_genome(sfreq)]
