"""What a search's children inherit from their parents: trained weights, and a holdout.

With weight inheritance (the estimator's ``inherit_weights``) the search's
pipeline holds a :class:`Lineage`, which does three things (with ``max_time``
and no inheritance, only the first: the final stage falls back on a kept
network when there is no time left to refit one):

- every candidate's worker sends back its trained weights, which the
  lineage packs (:func:`~skevonas.store.weights.pack_weights`) and keeps by
  the genome's short key in a :class:`~skevonas.store.weights.WeightStore`
  (in the checkpoint folder too, before the journal line of their result);
- a candidate whose ticket names parents with kept weights starts from one
  of them: the only one, or the crossover parent whose layers it took
  (:func:`~skevonas.training.inherit.crossover_parent`), through
  :func:`~skevonas.training.inherit.inherit` in the worker. A candidate going
  on from a snapshot (a later rung of successive halving) inherits nothing
  more: its snapshot started from the inheritance;
- an inheriting candidate trains and is scored on its parent's holdout
  split, not on its own: its score is never measured on samples that the
  inherited weights were trained on. The split passes down the line with
  the weights;
- an inheriting candidate trains a short schedule: ``inherit`` (a share) of
  the recipe's ``max_epochs``, with the learning-rate schedule laid over
  those epochs (:meth:`~skevonas.training.recipe.Recipe.shortened`); its
  later rungs of successive halving go on along the same short schedule, and
  it finishes at the first rung that reaches it.

After each generation only the population's weights are kept
(:meth:`Lineage.hook`): the next children can only be bred from it. What a
child finds thus depends on the population, never on the order in which
results arrive or on ``n_jobs``; and a resumed search finds on disk every
parent the uninterrupted one would have found.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from ..evolution.callbacks import SearchCallback
from ..evolution.records import SearchState
from ..evolution.runner import Ticket
from ..spaces.genome import Genome
from ..store.weights import WeightsError, WeightStore, pack_weights, unpack_weights
from ..training.candidate import Split
from ..training.inherit import crossover_parent
from ..training.tasks import CandidateTask

__all__ = ["Lineage"]

logger = logging.getLogger(__name__)


class Lineage:
    """The weights a search keeps for children, and the holdout each child trains on.

    Parameters
    ----------
    store : WeightStore
        Where the packed weights are kept.
    own_split : callable
        ``own_split(genome)``: the holdout split a candidate trains on when
        it inherits nothing (None: the search's shared one).
    inherit : float, default=1.0
        The share of the recipe's ``max_epochs`` a child that starts from
        its parent's weights trains (True, 1.0: all of them); 0 (False): no
        child inherits, the weights are only kept (for a final stage that
        ``max_time`` leaves no time to refit:
        :func:`~skevonas.search.final.final_model`).

    Examples
    --------
    >>> import torch
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.evolution.runner import Ticket
    >>> from skevonas.store.weights import WeightStore
    >>> from skevonas.training.candidate import Split
    >>> lineage = Lineage(WeightStore(), own_split=lambda genome: Split(7))
    >>> parent = Genome("mlp", [LayerGene("dense", {"units": 4, "activation": "relu"})])
    >>> result = lineage.arrived(Ticket(0, parent), {"score": 0.9, "weights": {"w": torch.ones(1)}})
    >>> result, len(lineage.store)  # the weights are kept, not journaled
    ({'score': 0.9}, 1)
    >>> child = Ticket(1, parent.replace(lr=0.01), parents=(parent.short_key(),))
    >>> found = lineage.parent_of(child)
    >>> found[0] == parent, found[2]  # the parent, and the holdout it trained beside
    (True, Split(seed=7, n_folds=None, fold=0))
    """

    def __init__(
        self,
        store: WeightStore,
        own_split: Callable[[Genome], Split | None],
        *,
        inherit: float = 1.0,
    ) -> None:
        self.store = store
        self.own_split = own_split
        self.inherit = inherit
        self._splits: dict[str, Split | None] = {}  # genome key: an inheriting one's split

    def prepare(self, task: CandidateTask, ticket: Ticket, snapshot: bytes | None) -> CandidateTask:
        """``task`` for ``ticket`` with its parent's weights, holdout and short schedule.

        The task also asks for the trained weights, for the children after.

        Examples
        --------
        >>> from skevonas import Genome
        >>> from skevonas.evolution.runner import Ticket
        >>> from skevonas.store.weights import WeightStore
        >>> from skevonas.training.devices import DevicePlan
        >>> from skevonas.training.recipe import Recipe
        >>> task = CandidateTask(Genome("mlp", []), Recipe(), 0, DevicePlan(("cpu",)), 0, 1,
        ...                      None, 3)
        >>> lineage = Lineage(WeightStore(), own_split=lambda genome: None)
        >>> ready = lineage.prepare(task, Ticket(0, task.genome), None)
        >>> ready.keep_weights, ready.parent is None, ready.recipe.max_epochs
        (True, True, 100)

        A child of a kept parent starts from its weights, for a third of the epochs:

        >>> import torch
        >>> from skevonas import LayerGene
        >>> parent = Genome("mlp", [LayerGene("dense", {"units": 4, "activation": "relu"})])
        >>> lineage = Lineage(WeightStore(), own_split=lambda genome: None, inherit=1 / 3)
        >>> lineage.arrived(Ticket(0, parent), {"weights": {"w": torch.ones(1)}})
        {}
        >>> child = Ticket(1, parent.replace(lr=0.01), parents=(parent.short_key(),))
        >>> ready = lineage.prepare(replace(task, genome=child.genome), child, None)
        >>> ready.parent[0] == parent, ready.recipe.max_epochs
        (True, 33)
        """
        key = ticket.genome.key()
        parent = self.parent_of(ticket) if snapshot is None and self.inherit else None
        if parent is not None:
            self._splits[key] = parent[2]
        split = self._splits.get(key, task.split)
        inherited = None if parent is None else (parent[0], parent[1])
        recipe = task.recipe
        if key in self._splits and self.inherit < 1:  # an inheriting child: a short schedule
            recipe = recipe.shortened(self.inherit)
        return replace(task, recipe=recipe, parent=inherited, split=split, keep_weights=True)

    def parent_of(self, ticket: Ticket) -> tuple[Genome, dict[str, Any], Split | None] | None:
        """The kept parent ``ticket``'s candidate inherits from: genome, weights, holdout split.

        None when none of its parents' weights are kept (a first
        generation, or damaged files, which are logged and passed over).
        See the class's Examples.
        """
        found = []
        for key in ticket.parents:
            blob = self.store.get(key)
            if blob is None:
                continue
            try:
                found.append(unpack_weights(blob))
            except WeightsError as exc:  # a damaged file: train this one from scratch
                logger.warning("cannot inherit from %s: %s", key, exc)
        if not found:
            return None
        genome, state, split = found[crossover_parent(ticket.genome, [f[0] for f in found])]
        return genome, state, None if split is None else Split(*split)

    def arrived(self, ticket: Ticket, result: Mapping[str, Any]) -> Mapping[str, Any]:
        """Keep the weights ``result`` brings (on disk first); return the result without them.

        See the class's Examples.
        """
        if "weights" not in result:
            return result
        result = dict(result)
        state = result.pop("weights")
        genome = ticket.genome
        split = self._splits.get(genome.key(), self.own_split(genome))
        kept = None if split is None else (split.seed, split.n_folds, split.fold)
        self.store.put(genome.short_key(), pack_weights(genome, state, kept))
        return result

    def hook(self) -> SearchCallback:
        """The search callback that keeps only the population's weights after each generation.

        Examples
        --------
        >>> from skevonas.store.weights import WeightStore
        >>> type(Lineage(WeightStore(), own_split=lambda genome: None).hook()).__name__
        '_KeepPopulation'
        """
        return _KeepPopulation(self.store)


class _KeepPopulation(SearchCallback):
    """Keeps in a :class:`~skevonas.store.weights.WeightStore` only the population's weights."""

    def __init__(self, store: WeightStore) -> None:
        self.store = store

    def on_generation_end(self, state: SearchState) -> None:
        self.store.keep(record.genome.short_key() for record in state.population)
