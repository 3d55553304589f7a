"""Weight inheritance: a child network starts from its trained parent's weights.

A child bred by mutation (or crossover) from a trained parent need not start
from scratch: wherever its layers correspond to the parent's, it starts from
the parent's trained weights, changed as little as its genome requires, so
that it computes what the parent computed wherever the change allows.
:func:`inherit` gives the complete ``state_dict`` of the child's module (as
:func:`skevonas.spaces.networks.build_module` builds it); the worker builds the
child's net as usual and loads it. Everything here is pure: no I/O, and no
global random state.

Which layers correspond
    :func:`align_layers` aligns the parent's and the child's layer genes by
    kind (an optimal alignment by dynamic programming, most corresponding
    layers first, then most identical genes, earlier matches preferred), so
    an inserted or removed layer shifts the rest. Module names carry gene
    indices (``dense_3``, ``temporal_conv_0``), so the child's layer ``j``
    takes its tensors from the parent's layer ``i`` it is aligned with. The
    ``output`` layer corresponds to the parent's, and tensors in front of the
    layers (a :class:`~skevonas.spaces.builders.Standardize` layer's
    statistics) are copied from the parent, which was trained on inputs
    standardised by them. A crossover child inherits from one parent,
    :func:`crossover_parent`.

How a tensor is inherited
    - Same shape: copied.
    - A layer with more units or filters: the old units keep their weights
      (the first rows) and the new ones get the child's fresh
      initialisation; a layer with more inputs (after a widened one) gets
      zero weights on the new inputs, so the new units change nothing.
      Batch normalisation's new channels start at weight 1, bias 0, running
      mean 0 and variance 1. A narrowed layer keeps its first units.
    - A longer kernel holds the old one at its centre (zeros around it);
      a shorter one is the old one's centre crop. "Centre" is the tap that
      ``"same"`` padding puts at the output position, so odd to odd growth
      of a ``"same"`` convolution computes exactly what the parent did.
    - The ``output`` layer reads the feature maps flattened: its weights are
      resized per channel and per position (positions centred), and a
      change of ``head`` from ``"avg"`` to ``"flatten"`` spreads each
      channel's weight evenly over its positions (exact), from
      ``"flatten"`` to ``"avg"`` sums it (exact only for constant maps).
    - A layer with no counterpart in the parent starts as the identity where
      the family allows: a dense layer of equal width between ReLU-type
      activations (``relu``, ``leaky_relu``, ``elu``) gets an identity matrix
      and a zero bias (exact for ReLU after ReLU); a convolution, full or
      depthwise, with as many output channels as inputs, stride 1 and a
      shape it keeps (``"same"`` padding or a kernel of size 1) gets a
      Dirac kernel and a zero bias (EEG ``temporal_conv`` and
      ``separable_conv``; not the ``"valid"`` ``conv`` of the CNN families,
      nor a dilated even kernel, whose centre falls between taps); a new
      batch normalisation gets weight 1, bias 0, running mean 0 and running
      variance ``1 - eps``, the identity in eval mode. Everything else new
      gets the child's fresh initialisation.
    - Tensors whose shapes cannot be related (a full and a depthwise
      convolution, layers of another kind): fresh. A changed depth
      multiplier of a depthwise convolution keeps the first filters, which
      no longer line up with their maps.

The fresh initialisation is the child's own: exactly what building its
module after ``torch.manual_seed(seed)`` draws (:func:`initial_state`), but
drawn from a private :class:`torch.Generator`, so the result depends only on
the two genomes, the parent's state and ``seed``, never on what ran before
in the process, nor on ``n_jobs``. A child whose genome differs from its
parent's only in global genes (learning rate, optimizer, batch size,
dropout rates) gets every tensor of the parent unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..spaces.genome import NO_OP_KINDS, Genome, LayerGene
from ..spaces.networks import build_module
from ..spaces.presets.keras import initialize_linear
from ..spaces.shapes import signal_shapes

__all__ = ["Inheritance", "align_layers", "crossover_parent", "inherit", "initial_state"]

# Activations between which an identity dense layer is a good start.
RELU_TYPES = frozenset({"relu", "leaky_relu", "elu"})
_CONVS = (nn.Conv1d, nn.Conv2d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


@dataclass(frozen=True)
class Inheritance:
    """What a child inherits: its module's state and how much came from the parent.

    Parameters
    ----------
    state : dict of str to torch.Tensor
        The child module's complete ``state_dict`` (on the CPU).
    copied : int
        Entries (numbers) of ``state`` taken from the parent.
    total : int
        Entries of ``state``.
    origins : dict of str to str
        How each tensor was made: ``"copied"`` (the parent's, unchanged),
        ``"resized"`` (the parent's, widened, narrowed or re-centred),
        ``"identity"`` or ``"fresh"``.
    layers : dict of int to int
        Child layer index -> the parent layer index it inherits from.

    Examples
    --------
    >>> Inheritance({}, copied=3, total=4).fraction
    0.75
    """

    state: dict[str, torch.Tensor]
    copied: int
    total: int
    origins: dict[str, str] = field(default_factory=dict)
    layers: dict[int, int] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        """Share of the child's entries taken from the parent (0 for an empty state)."""
        return self.copied / self.total if self.total else 0.0


# --------------------------------------------------------------------------- layers
def align_layers(parent: Sequence[LayerGene], child: Sequence[LayerGene]) -> dict[int, int]:
    """Which of the parent's layers each of the child's layers corresponds to.

    Layers correspond when they have the same kind; of all order-keeping
    alignments the one with most corresponding layers is taken, then the one
    with most identical genes, and of equals the one that matches earlier
    layers first. Layers that build nothing (``identity``) correspond to
    none.

    Parameters
    ----------
    parent, child : sequence of LayerGene
        The layer genes of the parent and the child.

    Returns
    -------
    dict of int to int
        Child layer index -> parent layer index, for the layers that
        correspond; the other child layers are new.

    Examples
    --------
    >>> from skevonas.spaces.genome import LayerGene
    >>> conv, pool = LayerGene("conv", {"filters": 8}), LayerGene("maxpool", {"pool_size": 2})
    >>> align_layers([conv, pool, conv], [conv, LayerGene("elu"), pool, conv])  # elu is new
    {0: 0, 2: 1, 3: 2}
    >>> align_layers([conv, pool, conv], [pool, conv])  # the first layer was removed
    {0: 1, 1: 2}
    """
    n, m = len(parent), len(child)
    best = [[(0, 0)] * (m + 1) for _ in range(n + 1)]
    for i in reversed(range(n)):
        for j in reversed(range(m)):
            best[i][j] = max(best[i + 1][j], best[i][j + 1], _matched(parent, child, i, j, best))
    pairs: dict[int, int] = {}
    i = j = 0
    while i < n and j < m:
        if best[i][j] == _matched(parent, child, i, j, best) > best[i + 1][j + 1]:
            pairs[j] = i
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _matched(
    parent: Sequence[LayerGene],
    child: Sequence[LayerGene],
    i: int,
    j: int,
    best: list[list[tuple[int, int]]],
) -> tuple[int, int]:
    """Score of aligning ``parent[i:]`` with ``child[j:]`` when ``i`` and ``j`` correspond."""
    a, b = parent[i], child[j]
    if a.kind != b.kind or a.kind in NO_OP_KINDS:
        return (-1, 0)
    matches, same = best[i + 1][j + 1]
    return (matches + 1, same + (a == b))


def crossover_parent(child: Genome, parents: Sequence[Genome]) -> int:
    """Index of the parent a crossover child inherits its weights from.

    The parent that gave it most of its layers: most identical layer genes
    in :func:`align_layers`'s alignment, then most corresponding layers;
    ties go to the first parent.

    Parameters
    ----------
    child : Genome
        The child a crossover bred.
    parents : sequence of Genome
        Its parents, in the order the crossover took them.

    Returns
    -------
    int
        The index in ``parents`` of the parent to inherit from.

    Raises
    ------
    ValueError
        If ``parents`` is empty.

    Examples
    --------
    >>> from skevonas.spaces.genome import Genome, LayerGene
    >>> dense = [LayerGene("dense", {"units": u, "activation": "relu"}) for u in (16, 32, 64)]
    >>> a, b = Genome("mlp", dense[:2]), Genome("mlp", dense[1:])
    >>> crossover_parent(Genome("mlp", [dense[0], dense[2]]), [a, b])  # one layer from each
    0
    >>> crossover_parent(Genome("mlp", [dense[1], dense[2]]), [a, b])
    1
    """
    if not parents:
        raise ValueError("parents must hold at least one genome, got none")
    genes = _layer_genes(child)
    scores = []
    for parent in parents:
        theirs = _layer_genes(parent)
        pairs = align_layers(theirs, genes)
        scores.append((sum(genes[j] == theirs[i] for j, i in pairs.items()), len(pairs)))
    return max(range(len(parents)), key=lambda k: (scores[k], -k))


def _layer_genes(genome: Genome) -> list[LayerGene]:
    """The genes of the layers the builder makes, indexed as the module names are.

    An MLP's dense genes get the global genes they leave out (``units``,
    ``activation``, ``dropout``), and a global ``depth`` gene becomes that
    many dense genes; a dense gene of width 0 builds no layer (identity).
    """
    if genome.family != "mlp":
        return list(genome.layers)
    given = dict(genome.globals)
    shared: dict[str, Any] = {k: given[k] for k in ("units", "activation", "dropout") if k in given}
    depth = genome.get("depth")
    layers = list(genome.layers) if depth is None else [LayerGene("dense")] * int(depth)
    genes = []
    for gene in layers:
        if gene.kind == "dense":
            gene = LayerGene("dense", {**shared, **dict(gene.params)})
            gene = gene if int(gene.get("units", 1)) > 0 else LayerGene("identity")
        genes.append(gene)
    return genes


# --------------------------------------------------------------------------- initialisation
def _skeleton(genome: Genome, input_shape: Sequence[int], n_classes: int) -> nn.Sequential:
    """The genome's module without storage (meta tensors: nothing is drawn)."""
    with torch.device("meta"):
        return build_module(genome, tuple(input_shape), n_classes)


def _initialise(module: nn.Module, genome: Genome, generator: torch.Generator) -> None:
    """Draw ``module``'s weights in place, as its constructors and the builder do."""
    with torch.no_grad():
        for name, leaf in module.named_modules():
            if isinstance(leaf, (nn.Linear, *_CONVS)):
                nn.init.kaiming_uniform_(leaf.weight, a=math.sqrt(5), generator=generator)
                if leaf.bias is not None:
                    fan_in = leaf.weight[0].numel()
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    nn.init.uniform_(leaf.bias, -bound, bound, generator=generator)
            elif isinstance(leaf, _NORMS):
                leaf.reset_parameters()
            elif _holds_tensors(leaf):
                raise TypeError(f"cannot initialise layer {name!r}, a {type(leaf).__name__}")
        initializer = genome.get("initializer") if genome.family == "mlp" else None
        if initializer is not None:  # the MLP builder's Keras initializers, after the defaults
            for leaf in module.modules():
                if isinstance(leaf, nn.Linear):
                    initialize_linear(leaf, str(initializer), generator)


def _fresh_module(
    genome: Genome, input_shape: Sequence[int], n_classes: int, seed: int
) -> nn.Sequential:
    module = _skeleton(genome, input_shape, n_classes).to_empty(device="cpu")
    _initialise(module, genome, torch.Generator().manual_seed(int(seed)))
    return module


def initial_state(
    genome: Genome, input_shape: Sequence[int], n_classes: int, *, seed: int
) -> dict[str, torch.Tensor]:
    """The initial weights of a genome's module, drawn without the global torch RNG.

    The same values as ``torch.manual_seed(seed)`` followed by
    ``build_module(genome, input_shape, n_classes)`` (a
    :class:`~skevonas.spaces.builders.Standardize` front, which draws nothing,
    left out), but drawn from a private generator: the global random state
    is neither used nor changed.

    Examples
    --------
    >>> import torch
    >>> from skevonas.spaces.genome import Genome, LayerGene
    >>> from skevonas.spaces.networks import build_module
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> state = initial_state(g, (4,), 3, seed=7)
    >>> _ = torch.manual_seed(7)
    >>> reference = build_module(g, (4,), 3).state_dict()
    >>> all(torch.equal(state[k], reference[k]) for k in reference)
    True
    """
    module = _fresh_module(genome, input_shape, n_classes, seed)
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


# --------------------------------------------------------------------------- tensors
def _overlap(old: Sequence[int], new: Sequence[int]) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    """Where an old tensor's entries go in a new one: ``(old slices, new slices)``.

    The first two axes (units, inputs) keep their leading entries; further
    axes (kernel taps, positions) are aligned at the tap ``"same"`` padding
    puts at the output position, ``(size - 1) // 2``.
    """
    src, dst = [], []
    for axis, (a, b) in enumerate(zip(old, new, strict=True)):
        if axis < 2:
            src.append(slice(0, min(a, b)))
            dst.append(slice(0, min(a, b)))
            continue
        shift = (b - 1) // 2 - (a - 1) // 2
        src.append(slice(max(0, -shift), max(0, -shift) + min(a, b)))
        dst.append(slice(max(0, shift), max(0, shift) + min(a, b)))
    return tuple(src), tuple(dst)


def _resized(fresh: torch.Tensor, old: torch.Tensor, *, rows_inherited: bool) -> torch.Tensor:
    """``old`` in ``fresh``'s shape; see the module docstring for the rule.

    With ``rows_inherited`` (weights of linear and convolutional layers), the
    units the child keeps get zeros on their new inputs and taps; new units
    keep their fresh values.
    """
    out = fresh.clone()
    if rows_inherited and out.dim() > 1:
        out[: min(old.shape[0], out.shape[0])] = 0
    src, dst = _overlap(old.shape, out.shape)
    out[dst] = old[src].to(out.dtype)
    return out


def _depthwise(conv: nn.Module) -> set[bool]:
    """Whether a convolution is depthwise; both, for one input channel."""
    if not isinstance(conv, _CONVS):
        return {False}
    if conv.in_channels == 1 and conv.groups == 1:
        return {True, False}
    return {conv.groups == conv.in_channels and conv.groups > 1}


def _holds_tensors(module: nn.Module) -> bool:
    return (
        next(module.parameters(recurse=False), None) is not None
        or next(module.buffers(recurse=False), None) is not None
    )


def _leaves(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """The sub-modules of ``module`` (itself included) that hold tensors, in order."""
    return [(name, leaf) for name, leaf in module.named_modules() if _holds_tensors(leaf)]


def _join(*names: str) -> str:
    return ".".join(name for name in names if name)


# --------------------------------------------------------------------------- new layers
def _identity(leaf: nn.Module, gene: LayerGene, after: str | None) -> bool:
    """Make a new layer's ``leaf`` the identity, if the family allows; True if done."""
    if isinstance(leaf, _NORMS):
        leaf.reset_parameters()
        if leaf.running_var is not None:
            leaf.running_var.fill_(1.0 - leaf.eps)
        return True
    if isinstance(leaf, nn.Linear):
        if leaf.in_features != leaf.out_features or after not in RELU_TYPES:
            return False
        if gene.get("activation") not in RELU_TYPES:
            return False
        leaf.weight.copy_(torch.eye(leaf.in_features))
        leaf.bias.zero_()
        return True
    if isinstance(leaf, _CONVS):
        return _dirac(leaf, gene)
    return False


def _dirac(conv: nn.Conv1d | nn.Conv2d, gene: LayerGene) -> bool:
    """A Dirac kernel for a new convolution that keeps the signal's shape; True if done."""
    channels = conv.in_channels
    if conv.out_channels != channels or conv.groups not in (1, channels):
        return False
    if any(s != 1 for s in conv.stride):
        return False
    kernel, dilation = tuple(conv.kernel_size), tuple(conv.dilation)
    if any(k > 1 for k in kernel) and gene.get("padding") != "same":
        return False
    # the tap at the output position under "same" padding (left pad (k - 1) * d // 2)
    lefts = [(k - 1) * d // 2 for k, d in zip(kernel, dilation, strict=True)]
    if any(left % d for left, d in zip(lefts, dilation, strict=True)):
        return False
    taps = tuple(left // d for left, d in zip(lefts, dilation, strict=True))
    conv.weight.zero_()
    for c in range(channels):
        position = (c, 0 if conv.groups == channels else c, *taps)
        conv.weight[position] = 1.0
    if conv.bias is not None:
        conv.bias.zero_()
    return True


def _activation_before(genes: Sequence[LayerGene], index: int) -> str | None:
    """The activation of the nearest dense layer before ``genes[index]``; None if none."""
    for gene in reversed(genes[:index]):
        if gene.kind == "dense":
            return str(gene.get("activation"))
    return None


# --------------------------------------------------------------------------- inherit
def _head_view(genome: Genome, input_shape: Sequence[int], width: int) -> tuple[int, ...]:
    """How the output layer's inputs are laid out: ``(channels, *positions)`` or ``(width,)``."""
    if genome.family == "mlp" or genome.get("head", "flatten") != "flatten":
        return (width,)
    positions = tuple(int(s) for s in signal_shapes(genome, input_shape)[-1])
    size = math.prod(positions)
    if size < 1 or width % size:
        return (width,)
    return (width // size, *positions)


def _output_weight(
    fresh: torch.Tensor, old: torch.Tensor, views: tuple[tuple[int, ...], tuple[int, ...]]
) -> torch.Tensor:
    """The output layer's weight: resized channel by channel and position by position."""
    before, after = views
    old = old.reshape(old.shape[0], *before)
    if len(before) == 1 < len(after):  # "avg" -> "flatten": spread evenly over positions
        positions = after[1:]
        spread = old.reshape(*old.shape, *[1] * len(positions))
        old = spread.expand(*old.shape, *positions) / math.prod(positions)
    elif len(after) == 1 < len(before):  # "flatten" -> "avg": the sum over positions
        old = old.sum(dim=tuple(range(2, old.dim())))
    new = _resized(fresh.reshape(fresh.shape[0], *after), old, rows_inherited=True)
    return new.reshape(fresh.shape)


def _inherit_leaf(
    leaf: nn.Module,
    parent_leaf: nn.Module,
    tensors: Mapping[str, torch.Tensor],
    views: tuple[tuple[int, ...], tuple[int, ...]] | None,
) -> tuple[str, int]:
    """Fill ``leaf`` from the parent's tensors; return its origin and the entries copied."""
    if type(leaf) is not type(parent_leaf) or not (_depthwise(leaf) & _depthwise(parent_leaf)):
        return "fresh", 0
    origin, copied = "copied", 0
    for name, value in leaf.state_dict().items():
        old = tensors[name]
        target = getattr(leaf, name)
        relaid = name == "weight" and views is not None and views[0] != views[1]
        if relaid and views is not None:  # the output layer, reading other feature maps
            target.copy_(_output_weight(value, old, views))
        elif old.shape == value.shape:
            target.copy_(old)
        else:
            target.copy_(_resized(value, old, rows_inherited=name == "weight"))
        if relaid or old.shape != value.shape:
            origin = "resized"
        copied += math.prod(min(a, b) for a, b in zip(old.shape, value.shape, strict=False))
    return origin, copied


@dataclass(frozen=True)
class _Layer:
    """One top-level module of the child, and what it inherits from."""

    name: str
    module: nn.Module
    gene: LayerGene  # its gene ("output" and the like: a stand-in)
    after: str | None  # the activation before it (MLPs)
    source: str | None = None  # the parent's module it corresponds to
    counterpart: nn.Module | None = None
    views: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # the output layer's


def _fill(layer: _Layer, parent_state: Mapping[str, torch.Tensor]) -> tuple[dict[str, str], int]:
    """Fill one of the child's modules; return its tensors' origins and the entries copied."""
    leaves = _leaves(layer.module)
    theirs = _leaves(layer.counterpart) if layer.counterpart is not None else []
    if len(theirs) != len(leaves):  # not the same structure: nothing corresponds
        theirs = []
    origins: dict[str, str] = {}
    copied = 0
    for k, (path, leaf) in enumerate(leaves):
        if theirs:
            their_path, their_leaf = theirs[k]
            tensors = {
                t: parent_state[_join(str(layer.source), their_path, t)].detach().cpu()
                for t in leaf.state_dict()
            }
            origin, n = _inherit_leaf(leaf, their_leaf, tensors, layer.views)
        else:
            origin, n = ("identity" if _identity(leaf, layer.gene, layer.after) else "fresh"), 0
        copied += n
        origins.update(
            dict.fromkeys((_join(layer.name, path, t) for t in leaf.state_dict()), origin)
        )
    return origins, copied


def _layers(
    parent: Genome,
    parent_net: nn.Module,
    child: Genome,
    child_net: nn.Module,
    shape: tuple[int, ...],
) -> tuple[list[_Layer], dict[int, int]]:
    """The child's top-level modules, each with its counterpart in the parent (if any)."""
    genes = _layer_genes(child)
    if parent.family != child.family:
        return [_Layer(n, m, LayerGene(n), None) for n, m in child_net.named_children()], {}
    pairs = align_layers(_layer_genes(parent), genes)
    theirs = dict(parent_net.named_children())
    found = []
    for name, module in child_net.named_children():
        prefix, _, number = name.rpartition("_")
        if prefix and number.isdigit():
            index = int(number)
            source = f"{prefix}_{pairs[index]}" if index in pairs else None
            gene, after = genes[index], _activation_before(genes, index)
        else:
            source, gene, after = name, LayerGene(name), None
        views = None
        output = theirs["output"]
        if name == "output" and isinstance(module, nn.Linear) and isinstance(output, nn.Linear):
            views = (
                _head_view(parent, shape, output.in_features),
                _head_view(child, shape, module.in_features),
            )
        counterpart = theirs.get(source) if source is not None else None
        found.append(_Layer(name, module, gene, after, source, counterpart, views))
    return found, pairs


def _check_state(parent: nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    expected = {k: tuple(v.shape) for k, v in parent.state_dict().items()}
    wrong = sorted(
        k for k, shape in expected.items() if k not in state or tuple(state[k].shape) != shape
    )
    if wrong:
        raise ValueError(
            f"parent_state is not the state of the parent genome's module: keys {wrong[:5]} "
            f"are missing or have other shapes ({len(wrong)} in all)"
        )


def inherit(
    parent: Genome,
    parent_state: Mapping[str, torch.Tensor],
    child: Genome,
    input_shape: Sequence[int],
    n_classes: int,
    *,
    seed: int,
) -> Inheritance:
    """The state a child network starts from: its parent's weights where the layers correspond.

    See the module docstring for the rules.

    Parameters
    ----------
    parent : Genome
        The trained parent (for a crossover child, :func:`crossover_parent`
        says which one).
    parent_state : mapping of str to torch.Tensor
        The parent module's ``state_dict()`` (``net.module_.state_dict()``),
        with its :class:`~skevonas.spaces.builders.Standardize` front if it
        has one; the child's module must then have one too.
    child : Genome
        The child, of the same family.
    input_shape : sequence of int
        Shape of one sample, as the networks see it.
    n_classes : int
        Number of classes.
    seed : int
        Seed of the child's fresh initialisation (the candidate's seed).

    Returns
    -------
    Inheritance
        The child module's ``state_dict`` and a summary.

    Raises
    ------
    ValueError
        If ``parent_state`` is not the state of ``parent``'s module.

    Examples
    --------
    A hidden layer widened from 8 to 16 units: the child computes what the
    parent computed.

    >>> import torch
    >>> from skevonas.spaces.genome import Genome, LayerGene
    >>> from skevonas.spaces.networks import build_module
    >>> def mlp(units):
    ...     dense = [LayerGene("dense", {"units": u, "activation": "relu"}) for u in units]
    ...     return Genome("mlp", dense, {"lr": 1e-3})
    >>> parent, child = mlp([8, 8]), mlp([16, 8])
    >>> parent_net = build_module(parent, (5,), 3).eval()
    >>> got = inherit(parent, parent_net.state_dict(), child, (5,), 3, seed=0)
    >>> got.origins["dense_0.weight"], got.origins["dense_1.weight"], got.layers
    ('resized', 'resized', {0: 0, 1: 1})
    >>> child_net = build_module(child, (5,), 3).eval()
    >>> child_net.load_state_dict(got.state)
    <All keys matched successfully>
    >>> x = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(child_net(x), parent_net(x), atol=1e-6))
    True
    """
    shape = tuple(int(s) for s in input_shape)
    parent_net = _skeleton(parent, shape, n_classes)
    _check_state(parent_net, parent_state)
    child_net = _fresh_module(child, shape, n_classes, seed)
    inner = set(parent_net.state_dict())
    front = {k: v.detach().cpu().clone() for k, v in parent_state.items() if k not in inner}
    origins = dict.fromkeys(front, "copied")
    copied = sum(v.numel() for v in front.values())
    layers, pairs = _layers(parent, parent_net, child, child_net, shape)
    with torch.no_grad():
        for layer in layers:
            found, n = _fill(layer, parent_state)
            origins.update(found)
            copied += n
    state = {**front, **{k: v.detach().clone() for k, v in child_net.state_dict().items()}}
    total = sum(v.numel() for v in state.values())
    return Inheritance(state, copied, total, {k: origins[k] for k in state}, pairs)
