"""The model families, in one registry: what each one is and where its parts live.

A model family (a genome's ``family``) is everything skevonas knows about one
kind of network, gathered in a :class:`Family` record:

- the shape of its input and how its layers change it (its
  :class:`~skevonas.spaces.shapes.ShapeRule`, whose ``rank`` is the number of
  dimensions of one sample);
- its builder (:mod:`skevonas.spaces.builders`): genome, sample shape and number
  of classes to the named layers of the network;
- its default search space (:mod:`skevonas.spaces.catalogue`);
- the genomes an ``initial_genomes="auto"`` search starts from (the standard
  EEG networks for ``"eeg"``, the common 2 x 512 MLP for ``"mlp"``, a small
  VGG-style CNN for ``"cnn2d"``, none for ``"cnn1d"``), where the search
  space has their genes
  (:meth:`Family.seeds_for`).

:data:`FAMILIES` maps each family name to its record; :func:`get_family`
looks one up and :func:`family_for_rank` gives the family that
``search_space="auto"`` picks for samples of a given number of dimensions.

The torch-free parts of a family live below this module, so that search
spaces and the command line need no torch: the shape rules in
:mod:`skevonas.spaces.shapes` and the spaces in :mod:`skevonas.spaces.catalogue`. This
registry puts them together with the builders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from .builders.cnn import build_cnn
from .builders.eeg import build_eeg
from .builders.mlp import build_mlp
from .catalogue import SPACES, standard_image_cnn_genome, standard_mlp_genome
from .eeg_space import standard_eeg_genomes
from .genome import Genome
from .shapes import EEG_EPOCHS, FEATURES, IMAGES, SERIES, ShapeRule, auto_family
from .space import SearchSpace

__all__ = [
    "FAMILIES",
    "Builder",
    "Family",
    "families_with_rank",
    "family_for_rank",
    "get_family",
]

#: A builder: ``builder(genome, sample_shape, n_classes)`` -> named layers.
Builder = Callable[[Genome, tuple[int, ...], int], list[tuple[str, nn.Module]]]


class _NoSeeds:
    """The seed genomes of a family without standard networks: none, at any rate."""

    def __call__(self, sfreq: float | None = None) -> list[Genome]:
        return []

    def __repr__(self) -> str:
        return "no seeds"


@dataclass(frozen=True)
class Family:
    """One model family: its input's shape rule, builder, default space and seed genomes.

    Parameters
    ----------
    name : str
        The family name, as in ``Genome.family`` and ``SearchSpace.family``.
    shape_rule : ShapeRule
        How the family's layers change the shape of one sample
        (:mod:`skevonas.spaces.shapes`); its ``rank`` is the family's input rank.
    builder : callable
        ``builder(genome, sample_shape, n_classes)``: the named layers of the
        network a genome of this family describes.
    default_space : callable
        ``default_space()``: the family's default :class:`~skevonas.SearchSpace`.
    seed_genomes : callable, default=no seeds
        ``seed_genomes(sfreq=None)``: the standard networks of the family,
        which a search with ``initial_genomes="auto"`` starts from where its
        space has their genes (:meth:`seeds_for`; by default none); ``sfreq``
        is the sampling rate (Hz) of time-series input, if known, which a
        family over time may scale its networks' kernels to (the others
        ignore it).

    Examples
    --------
    >>> family = get_family("eeg")
    >>> family.input_ndim, family.shape_rule.name, family.default_space().name
    (2, 'eeg epochs', 'eeg')
    >>> [len(g.layers) for g in family.seed_genomes()]  # ShallowConvNet, EEGNet-8,2, EEGNeX
    [7, 12, 16]
    >>> [layer["units"] for g in get_family("mlp").seed_genomes() for layer in g.layers]
    [512, 512]
    >>> get_family("cnn1d").seed_genomes()
    []
    """

    name: str
    shape_rule: ShapeRule
    builder: Builder
    default_space: Callable[[], SearchSpace]
    seed_genomes: Callable[..., list[Genome]] = _NoSeeds()

    @property
    def input_ndim(self) -> int:
        """Dimensions of one sample of this family (its shape rule's rank)."""
        return self.shape_rule.rank

    def seeds_for(self, space: SearchSpace, sfreq: float | None = None) -> list[Genome]:
        """The seed genomes that ``space`` can express: ``initial_genomes="auto"``.

        ``sfreq`` (Hz) is the sampling rate of the data the search sees, if
        known: the EEG seeds' time kernels are scaled to it from their
        papers' rates (:func:`~skevonas.spaces.eeg_space.standard_eeg_genomes`).

        A seed is kept when the space has each of its layer kinds and exactly
        its global genes, so that repairing it into the space changes values
        at most (a kernel shrunk to a short signal, a width clipped), never
        what the network is. A space of another design, such as the
        ``"naturalselection"`` MLP space with its Keras optimizers and no
        learning-rate gene, gets no seeds.

        Examples
        --------
        >>> from skevonas import get_space
        >>> mlp = get_family("mlp")
        >>> len(mlp.seeds_for(get_space("mlp", (20,))))
        1
        >>> mlp.seeds_for(get_space("naturalselection", (20,)))
        []
        >>> eeg = get_family("eeg").seeds_for(get_space("eeg", (3, 500)), sfreq=256)
        >>> [g.layers[0]["kernel_size"] for g in eeg]  # ShallowConvNet, EEGNet, EEGNeX
        [26, 128, 128]
        """
        kinds = {spec.kind for spec in space.layers}
        genes = {name for name, _ in space.globals}
        return [
            genome
            for genome in self.seed_genomes(sfreq)
            if genome.family == space.family
            and {layer.kind for layer in genome.layers} <= kinds
            and {name for name, _ in genome.globals} == genes
        ]


def _standard_mlp_genomes(sfreq: float | None = None) -> list[Genome]:
    return [standard_mlp_genome()]


def _standard_image_cnn_genomes(sfreq: float | None = None) -> list[Genome]:
    return [standard_image_cnn_genome()]


#: Family name -> its :class:`Family` record. The order is that of the ranks
#: (``"cnn1d"`` before ``"eeg"``), as error messages list them.
FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("mlp", FEATURES, build_mlp, SPACES["mlp"], _standard_mlp_genomes),
        Family("cnn1d", SERIES, build_cnn, SPACES["cnn1d"]),
        Family("eeg", EEG_EPOCHS, build_eeg, SPACES["eeg"], standard_eeg_genomes),
        Family("cnn2d", IMAGES, build_cnn, SPACES["cnn2d"], _standard_image_cnn_genomes),
    )
}


def get_family(name: str) -> Family:
    """The registered model family called ``name``.

    Raises
    ------
    ValueError
        If no family has that name.

    Examples
    --------
    >>> get_family("cnn2d").input_ndim
    3
    >>> get_family("rnn")
    Traceback (most recent call last):
        ...
    ValueError: Unknown model family 'rnn'; must be one of ['cnn1d', 'cnn2d', 'eeg', 'mlp']
    """
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown model family {name!r}; must be one of {sorted(FAMILIES)}"
        ) from None


def family_for_rank(ndim: int) -> Family:
    """The family ``search_space="auto"`` picks for samples of ``ndim`` dimensions.

    1 -> ``"mlp"``, 2 -> ``"eeg"``, 3 -> ``"cnn2d"``
    (:data:`skevonas.spaces.shapes.AUTO_FAMILIES`).

    Raises
    ------
    ValueError
        If no family reads samples of that many dimensions by default.

    Examples
    --------
    >>> family_for_rank(2).name
    'eeg'
    >>> family_for_rank(4)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: samples must have one of [1, 2, 3] dimensions for ..., got 4 instead
    """
    return get_family(auto_family(ndim))


def families_with_rank(ndim: int) -> list[Family]:
    """Every family whose samples have ``ndim`` dimensions, in registry order.

    Examples
    --------
    >>> [family.name for family in families_with_rank(2)]
    ['cnn1d', 'eeg']
    >>> families_with_rank(5)
    []
    """
    return [family for family in FAMILIES.values() if family.input_ndim == ndim]
