"""The genetic algorithm's settings: one frozen object that both loops read.

The estimator keeps its nine GA settings as flat parameters (so that
:class:`~sklearn.model_selection.GridSearchCV` can tune them); ``fit``
gathers them in a :class:`GASettings`, which the generational loop
(:func:`~skevonas.evolution.generational.evolve`) and the asynchronous one
(:func:`~skevonas.evolution.asynchronous.evolve_async`) take alike.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

from .operators import CROSSOVERS, SELECTIONS

__all__ = ["GASettings"]


def _is_int(value: Any, low: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= low


def _is_rate(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= float(value) <= 1
    )


@dataclass(frozen=True)
class GASettings:
    """The nine settings of the genetic algorithm, with the estimator's defaults.

    Parameters
    ----------
    population_size : int, default=8
        Genomes per generation (the generational loop), or the aging
        population (the asynchronous one).
    n_generations : int, default=4
        Generations, or generations' worth of new candidates.
    elite_size : int, default=2
        Best genomes kept: copied unchanged into the next generation, or
        kept in the breeding pool. At most ``population_size - 1`` count
        (:attr:`n_elites`), so that every generation breeds.
    selection : {"tournament", "roulette"}, default="tournament"
        How parents are chosen.
    tournament_size : int, default=3
        Entrants per tournament.
    crossover : {"both", "gene", "layer"}, default="both"
        Gene-wise, layer-wise, or either with equal probability.
    crossover_rate : float, default=0.5
        Probability that a child comes from crossover (else it copies a parent).
    mutation_rate : float, default=0.8
        Probability that a child is mutated.
    local_rate : float, default=0.0
        Probability that a child is instead one small step
        (:func:`~skevonas.evolution.operators.nudge`) from an elite genome;
        also the share of the first population, beside the seed genomes,
        that is a small step from a seed rather than a random sample.

    Raises
    ------
    ValueError
        Naming every setting out of its range, in one message.

    Examples
    --------
    >>> ga = GASettings(population_size=4, n_generations=3, elite_size=4)
    >>> ga.n_elites, ga.n_candidates
    (3, 6)
    >>> GASettings(selection="best", mutation_rate=2.0)  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
        ...
    ValueError: Invalid GA settings:
      - selection must be one of ['roulette', 'tournament'], got 'best' instead
      - mutation_rate must be a float in [0, 1], got 2.0 instead
    """

    population_size: int = 8
    n_generations: int = 4
    elite_size: int = 2
    selection: str = "tournament"
    tournament_size: int = 3
    crossover: str = "both"
    crossover_rate: float = 0.5
    mutation_rate: float = 0.8
    local_rate: float = 0.0

    def __post_init__(self) -> None:
        problems = []
        for name, low in (
            ("population_size", 1),
            ("n_generations", 1),
            ("elite_size", 1),
            ("tournament_size", 1),
        ):
            value = getattr(self, name)
            if not _is_int(value, low):
                problems.append(f"{name} must be an int >= {low}, got {value!r} instead")
        if self.selection not in SELECTIONS:
            problems.append(
                f"selection must be one of {sorted(SELECTIONS)}, got {self.selection!r} instead"
            )
        if self.crossover not in ("both", *CROSSOVERS):
            problems.append(
                f"crossover must be one of {['both', *CROSSOVERS]}, got {self.crossover!r} instead"
            )
        for name in ("crossover_rate", "mutation_rate", "local_rate"):
            value = getattr(self, name)
            if not _is_rate(value):
                problems.append(f"{name} must be a float in [0, 1], got {value!r} instead")
        if problems:
            raise ValueError("Invalid GA settings:\n  - " + "\n  - ".join(problems))

    @property
    def n_elites(self) -> int:
        """Elites that count: ``elite_size``, at most ``population_size - 1``, at least 1."""
        return max(1, min(int(self.elite_size), int(self.population_size) - 1))

    @property
    def n_candidates(self) -> int:
        """New candidates a search trains at most: the first population, then the offspring."""
        size = int(self.population_size)
        return size + (int(self.n_generations) - 1) * max(0, size - self.n_elites)

    @property
    def breeding(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~skevonas.evolution.operators.offspring`."""
        return {
            "selection": self.selection,
            "tournament_size": int(self.tournament_size),
            "crossover": self.crossover,
            "crossover_rate": float(self.crossover_rate),
            "mutation_rate": float(self.mutation_rate),
            "local_rate": float(self.local_rate),
            "n_elites": self.n_elites,
        }
