"""The ensemble part of a model file: its ``"ensemble"`` entry and the network it describes.

A search's final network is either one plain network (what
:func:`~skevonas.spaces.networks.build_module` builds) or an
:class:`~skevonas.training.ensemble.EnsembleModule`: an optional
:class:`~skevonas.spaces.builders.layers.Decimate` front, then the weighted average
of one or more members, each built for the decimated samples. A model file
of a plain network has no ``"ensemble"`` entry (so earlier skevonas versions
read it); that of an ensemble has
``{"genomes": [...], "weights": [...], "decimation": int}``, which
:func:`read_ensemble` checks as :mod:`skevonas.store.model_document` checks the rest of
the document; :func:`fitted_ensemble` makes the entry of a fitted network,
checked as :func:`read_ensemble` would check it. :func:`build_network`
builds either kind, on the ``meta`` device for the tensor check of
:func:`skevonas.load` or for real.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from ..spaces.builders.layers import Decimate
from ..spaces.genome import Genome
from ..spaces.networks import build_module
from ..training.ensemble import EnsembleModule
from .model_document import ModelFileError, genome_for_samples

__all__ = [
    "MAX_DECIMATION",
    "MAX_MEMBERS",
    "WEIGHT_SUM_TOLERANCE",
    "EnsembleEntry",
    "build_ensemble",
    "build_network",
    "check_mixing_weights",
    "fitted_ensemble",
    "read_ensemble",
]

# No search comes near these; they bound the work of building a crafted file.
MAX_MEMBERS = 50
MAX_DECIMATION = 1_000
# How far from 1 the sum of an ensemble's weights may be.
WEIGHT_SUM_TOLERANCE = 1e-6
_KEYS = ("genomes", "weights", "decimation")


class EnsembleEntry(NamedTuple):
    """The checked ``"ensemble"`` entry of a document: members, weights, decimation.

    Parameters
    ----------
    genomes : tuple of Genome
        The members.
    weights : tuple of float
        Their weights.
    decimation : int
        The time-axis decimation factor in front of the members.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> member = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> entry = EnsembleEntry((member, member), (0.5, 0.5), 1)
    >>> len(entry.genomes), sum(entry.weights)
    (2, 1.0)
    """

    genomes: tuple[Genome, ...]
    weights: tuple[float, ...]
    decimation: int

    def member_shape(self, sample_shape: Sequence[int]) -> tuple[int, ...]:
        """The members' sample shape: the time axis decimated (``ceil(n_times / decimation)``).

        Examples
        --------
        >>> EnsembleEntry((), (), 4).member_shape((3, 62))
        (3, 16)
        """
        if self.decimation == 1:
            return tuple(sample_shape)
        channels, n_times = sample_shape
        return (channels, -(-n_times // self.decimation))

    def to_dict(self) -> dict[str, Any]:
        """The entry as a model file's document holds it (plain JSON values).

        Examples
        --------
        >>> from skevonas import Genome, LayerGene
        >>> member = Genome("mlp", [LayerGene("dense", {"units": 8})])
        >>> entry = EnsembleEntry((member,), (1.0,), 1).to_dict()
        >>> sorted(entry), entry["weights"], entry["decimation"]
        (['decimation', 'genomes', 'weights'], [1.0], 1)
        """
        return {
            "genomes": [genome.to_dict() for genome in self.genomes],
            "weights": [float(w) for w in self.weights],
            "decimation": int(self.decimation),
        }


# --------------------------------------------------------------------------- save
def fitted_ensemble(
    module: nn.Module,
    genomes: Sequence[Genome],
    weights: Sequence[float],
    decimation: int,
    best_genome: Genome,
    sample_shape: Sequence[int],
) -> EnsembleEntry | None:
    """The ensemble a fitted network is, checked against what its estimator says it is.

    The ensemble attributes of an estimator (``ensemble_genomes_``,
    ``ensemble_weights_``, ``decimation_``) must describe its network: one
    member without decimation for a plain network, else the members,
    weights and decimation of its
    :class:`~skevonas.training.ensemble.EnsembleModule`, as a model file may
    hold them (:func:`read_ensemble` would accept them).

    Parameters
    ----------
    module : nn.Module
        The fitted network (``net_.module_``).
    genomes : sequence of Genome
        Its members (``ensemble_genomes_``).
    weights : sequence of float
        Their weights (``ensemble_weights_``).
    decimation : int
        The time-axis decimation factor in front of them (``decimation_``).
    best_genome : Genome
        The estimator's genome (``best_genome_``), one of the members.
    sample_shape : sequence of int
        The shape of the samples the network takes (``sample_shape_``).

    Returns
    -------
    ensemble : EnsembleEntry or None
        ``None`` for a plain network (its file has no ``"ensemble"`` entry).

    Raises
    ------
    ValueError
        If they do not describe ``module``, or describe an ensemble that a
        model file may not hold.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> fitted_ensemble(nn.Linear(4, 3), [g], [1.0], 1, g, (4,)) is None
    True
    >>> module = EnsembleModule([nn.Linear(4, 3), nn.Linear(4, 3)], [0.5, 0.5])
    >>> fitted_ensemble(module, [g, g], [0.5, 0.5], 1, g, (4,)).weights
    (0.5, 0.5)
    >>> fitted_ensemble(nn.Linear(4, 3), [g], [1.0], 4, g, (4,))
    Traceback (most recent call last):
        ...
    ValueError: the estimator's network is one plain network, but its ensemble_genomes_ \
has 1 members and its decimation_ is 4
    """
    if not isinstance(module, EnsembleModule):
        if len(genomes) != 1 or decimation != 1:
            raise ValueError(
                f"the estimator's network is one plain network, but its ensemble_genomes_ "
                f"has {len(genomes)} members and its decimation_ is {decimation!r}"
            )
        return None
    if len({"standardize" in dict(m.named_children()) for m in module.members}) > 1:
        raise ValueError("the ensemble's members must all standardise their input, or none")
    factor = module.decimate.factor if isinstance(module.decimate, Decimate) else 1
    if not (len(genomes) == len(weights) == len(module.members)) or factor != decimation:
        raise ValueError(
            f"the estimator's ensemble_genomes_ ({len(genomes)}), ensemble_weights_ "
            f"({len(weights)}) and decimation_ ({decimation!r}) do not describe its network: "
            f"{len(module.members)} members, decimation {factor}"
        )
    entry = EnsembleEntry(tuple(genomes), tuple(float(w) for w in weights), int(decimation))
    problems = _problems(entry.to_dict(), sample_shape)  # what load would refuse
    if best_genome not in entry.genomes:
        problems.append("best_genome_ is none of its ensemble_genomes_")
    if problems:
        raise ValueError("the estimator's ensemble cannot be saved: " + "; ".join(problems))
    return entry


# --------------------------------------------------------------------------- load
def read_ensemble(
    document: Mapping[str, Any], genome: Genome, where: str, allowed: bool = True
) -> EnsembleEntry | None:
    """The document's ensemble: ``None`` for one plain network (no ``"ensemble"`` entry).

    The entry is ``{"genomes": [...], "weights": [...], "decimation": int}``:
    1 to ``MAX_MEMBERS`` member genomes, each checked as the document's
    genome is (:func:`~skevonas.store.model_document.genome_for_samples`), one of
    them equal to it; one finite positive weight per member, summing to 1
    (within ``WEIGHT_SUM_TOLERANCE``); a time-axis decimation factor from 1 to
    ``MAX_DECIMATION``, above 1 only for samples of shape ``(channels, times)``.
    Only the file of an estimator whose networks may be ensembles (the
    ``ensembles`` of its :class:`~skevonas.store.model_document.ModelKind`)
    may have one.

    Parameters
    ----------
    document : mapping
        A document from :func:`~skevonas.store.model_document.read_document`.
    genome : Genome
        Its genome (from :func:`~skevonas.store.model_document.read_genome`).
    where : str
        How error messages name the file.
    allowed : bool, default=True
        Whether the document's estimator may hold an ensemble; if not, an
        ``"ensemble"`` entry is refused.

    Returns
    -------
    ensemble : EnsembleEntry or None

    Raises
    ------
    ModelFileError
        Naming each problem of the entry, or the member genome that is wrong.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> doc = {"estimator": "EvolutionaryNASClassifier", "genome": g.to_dict(),
    ...        "sample_shape": [4]}
    >>> read_ensemble(doc, g, "'m'") is None
    True
    >>> entry = {"genomes": [g.to_dict()], "weights": [1.0], "decimation": 1}
    >>> read_ensemble(doc | {"ensemble": entry}, g, "'m'").weights
    (1.0,)
    >>> fixed = doc | {"estimator": "GenomeClassifier", "ensemble": entry}
    >>> read_ensemble(fixed, g, "'m'", allowed=False)
    Traceback (most recent call last):
        ...
    skevonas.store.model_document.ModelFileError: 'm': a GenomeClassifier file has no \
'ensemble' entry
    >>> entry = {"genomes": [g.to_dict()] * 2, "weights": [0.5, float("nan")], "decimation": 2}
    >>> read_ensemble(doc | {"ensemble": entry}, g, "'m'")
    Traceback (most recent call last):
        ...
    skevonas.store.model_document.ModelFileError: 'm': the ensemble is damaged or crafted:
      - the weights must be finite numbers > 0: weight 1 is nan
      - decimation 2 needs samples of shape (channels, times), got (4,)
    """
    if "ensemble" not in document:
        return None
    entry = document["ensemble"]
    if not allowed:
        raise ModelFileError(f"{where}: a {document['estimator']} file has no 'ensemble' entry")
    if not (isinstance(entry, dict) and set(entry) == set(_KEYS)):
        raise ModelFileError(
            f"{where}: 'ensemble' must be an object with the keys {sorted(_KEYS)}, got "
            f"{sorted(entry) if isinstance(entry, dict) else entry!r:.80}"
        )
    shape = document["sample_shape"]
    problems = _problems(entry, shape)
    if problems:
        raise ModelFileError(
            f"{where}: the ensemble is damaged or crafted:\n  - " + "\n  - ".join(problems)
        )
    genomes = tuple(
        genome_for_samples(data, shape, where, f"ensemble member {i}")
        for i, data in enumerate(entry["genomes"])
    )
    if genome not in genomes:
        raise ModelFileError(
            f"{where}: the stored genome (best_genome_) is none of the ensemble's "
            f"{len(genomes)} members"
        )
    return EnsembleEntry(genomes, tuple(float(w) for w in entry["weights"]), entry["decimation"])


def _problems(entry: Mapping[str, Any], sample_shape: Sequence[int]) -> list[str]:
    """What is wrong with the counts, weights and decimation of an ensemble entry."""
    genomes, weights, decimation = (entry[key] for key in _KEYS)
    if not isinstance(genomes, list) or not 1 <= len(genomes) <= MAX_MEMBERS:
        got = f"{len(genomes)} members" if isinstance(genomes, list) else f"{genomes!r:.80}"
        return [f"'genomes' must be a list of 1 to {MAX_MEMBERS} member genomes, got {got}"]
    problems = []
    if not isinstance(weights, list) or len(weights) != len(genomes):
        got = f"{len(weights)} weights" if isinstance(weights, list) else f"{weights!r:.80}"
        problems.append(f"'weights' must hold one weight per member ({len(genomes)}), got {got}")
    else:
        bad = [
            f"weight {i} is {w!r:.40}"
            for i, w in enumerate(weights)
            if type(w) not in (int, float) or not (math.isfinite(w) and w > 0)
        ]
        total = math.fsum(weights) if not bad else 1.0
        if bad:
            problems.append("the weights must be finite numbers > 0: " + ", ".join(bad[:5]))
        elif abs(total - 1) > WEIGHT_SUM_TOLERANCE:
            problems.append(
                f"the weights must sum to 1 (within {WEIGHT_SUM_TOLERANCE}), they sum to {total!r}"
            )
    if type(decimation) is not int or not 1 <= decimation <= MAX_DECIMATION:
        problems.append(
            f"'decimation' must be an int from 1 to {MAX_DECIMATION}, got {decimation!r:.40}"
        )
    elif decimation > 1 and len(sample_shape) != 2:
        problems.append(
            f"decimation {decimation} needs samples of shape (channels, times), got "
            f"{tuple(sample_shape)}"
        )
    return problems


def build_network(
    genome: Genome,
    ensemble: EnsembleEntry | None,
    sample_shape: tuple[int, ...],
    n_classes: int,
    input_stats: tuple[np.ndarray, np.ndarray] | None,
    where: str,
) -> nn.Module:
    """The untrained network a model file describes: plain, or an ensemble.

    Parameters
    ----------
    genome : Genome
        The document's genome: the plain network's.
    ensemble : EnsembleEntry or None
        The ensemble (from :func:`read_ensemble`); ``None`` for a plain network.
    sample_shape : tuple of int
        The shape of the user's samples.
    n_classes : int
        Number of classes.
    input_stats : (mean, std) or None
        Placeholder standardisation statistics for the samples each network
        takes (the file's own replace them), or ``None`` for none.
    where : str
        How error messages name the file.

    Returns
    -------
    network : nn.Module
        What :func:`~skevonas.spaces.networks.build_module` builds, or an
        :class:`~skevonas.training.ensemble.EnsembleModule` of such members.

    Raises
    ------
    ModelFileError
        If a genome cannot be built for its samples; the message names it.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("cnn1d", [LayerGene("conv", {"filters": 4, "kernel_size": 3, "stride": 1})])
    >>> entry = EnsembleEntry((g,), (1.0,), 4)
    >>> net = build_network(g, entry, (2, 64), 3, None, "'m'")
    >>> type(net).__name__, net.decimate.factor, net(torch.zeros(5, 2, 64)).shape
    ('EnsembleModule', 4, torch.Size([5, 3]))
    """
    if ensemble is None:
        return _member(genome, sample_shape, n_classes, input_stats, where, "the stored genome")
    return build_ensemble(ensemble, sample_shape, n_classes, input_stats, where)


def build_ensemble(
    ensemble: EnsembleEntry,
    sample_shape: tuple[int, ...],
    n_classes: int,
    input_stats: tuple[np.ndarray, np.ndarray] | None,
    where: str,
) -> EnsembleModule:
    """The untrained :class:`~skevonas.training.ensemble.EnsembleModule` of an ensemble entry.

    Each member gets a copy of ``input_stats`` (its own buffers); see
    :func:`build_network` for the parameters.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> h = Genome("mlp", [LayerGene("dense", {"units": 4, "activation": "tanh"})])
    >>> net = build_ensemble(EnsembleEntry((g, h), (0.5, 0.5), 1), (4,), 3, None, "'m'")
    >>> len(net.members), net(torch.zeros(2, 4)).shape
    (2, torch.Size([2, 3]))
    """
    shape = ensemble.member_shape(sample_shape)
    members = [
        # each its own statistics: a Standardize layer shares the arrays it is given
        _member(genome_i, shape, n_classes, _copy(input_stats), where, f"ensemble member {i}")
        for i, genome_i in enumerate(ensemble.genomes)
    ]
    decimate = Decimate(ensemble.decimation) if ensemble.decimation > 1 else None
    return EnsembleModule(members, ensemble.weights, decimate)


def _copy(stats: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray] | None:
    return None if stats is None else (stats[0].copy(), stats[1].copy())


def _member(
    genome: Genome,
    shape: tuple[int, ...],
    n_classes: int,
    input_stats: tuple[np.ndarray, np.ndarray] | None,
    where: str,
    what: str,
) -> nn.Module:
    try:
        return build_module(genome, shape, n_classes, input_stats)
    except Exception as exc:  # noqa: BLE001 - whatever breaks, the file does not describe a net
        raise ModelFileError(
            f"{where}: {what} cannot be built for samples of shape {shape} and {n_classes} "
            f"classes ({type(exc).__name__}: {exc})"
        ) from exc


def check_mixing_weights(module: nn.Module, ensemble: EnsembleEntry | None, where: str) -> None:
    """Raise ModelFileError if a loaded ensemble's ``weights`` tensor disagrees with the document.

    Examples
    --------
    >>> from torch import nn
    >>> module = EnsembleModule([nn.Linear(2, 2), nn.Linear(2, 2)], [0.5, 0.5])
    >>> check_mixing_weights(module, EnsembleEntry((), (0.5, 0.5), 1), "'m'")
    >>> check_mixing_weights(module, EnsembleEntry((), (0.9, 0.1), 1), "'m'")
    Traceback (most recent call last):
        ...
    skevonas.store.model_document.ModelFileError: 'm': the tensor 'weights' ([0.5, 0.5]) \
is not the ensemble's weights [0.9, 0.1]
    """
    if ensemble is None:
        return
    stored = module.get_buffer("weights").detach().cpu()
    expected = torch.as_tensor(ensemble.weights, dtype=torch.float64)
    if stored.shape != expected.shape or not torch.allclose(
        stored.double(), expected / expected.sum(), rtol=0, atol=WEIGHT_SUM_TOLERANCE
    ):
        raise ModelFileError(
            f"{where}: the tensor 'weights' ({stored.tolist()}) is not the ensemble's weights "
            f"{list(ensemble.weights)}"
        )
