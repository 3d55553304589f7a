"""What a search trusts in a file: checks for values read from disk.

A checkpoint or a journal may come from a crash (cut short) or from someone
else (crafted). Before the search uses anything read from one, these checks
make sure that it is what the search itself would have written: genomes
that parse and lie in the search space, scores that are finite numbers or
NaN, known statuses, and epoch counts within the search's budget. Each
raises a :class:`ValueError` saying what is wrong; the readers
(:mod:`skevonas.store.checkpoint`, :mod:`skevonas.store.journal`) name the record or
line and raise :class:`~skevonas.store.checkpoint.CheckpointError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..spaces.genome import Genome, short_repr

if TYPE_CHECKING:
    from ..spaces.space import SearchSpace

__all__ = [
    "RUNG_STATUSES",
    "STATUSES",
    "genome_in_space",
    "check_int",
    "check_result",
    "check_score",
    "is_json_int",
]

STATUSES = ("ok", "failed", "partial")  # of a record, or a final result
MAX_DEPTH = 16  # of lists and dicts in a result (learning curves are 2 deep)
RUNG_STATUSES = ("ok", "failed")  # of one rung of successive halving

# Result fields the search acts on (ranking, promotion, the refit's epochs),
# with their lowest value; all but the rung index are at most max_epochs.
_COUNTS = {"epochs": 0, "best_epoch": 0, "budget": 1, "rung": 0}


def is_json_int(value: Any) -> bool:
    """Whether ``value`` is an int as :func:`json.loads` gives one (not a bool).

    Stricter than :func:`skevonas.settings.is_int`, which also takes NumPy
    integers: values read from a file are Python ints or are wrong.

    Examples
    --------
    >>> is_json_int(3), is_json_int(True), is_json_int(3.0)
    (True, False, False)
    """
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(value: Any, what: str, low: int, high: float = math.inf) -> int:
    """``value`` if it is an int in ``[low, high]``, else a ValueError naming ``what``.

    Examples
    --------
    >>> check_int(4, "epochs", 0, 30)
    4
    >>> check_int("4", "epochs", 0, 30)
    Traceback (most recent call last):
        ...
    ValueError: epochs must be an int in [0, 30], got '4'
    """
    if not is_json_int(value) or not low <= value <= high:
        bounds = f">= {low}" if high == math.inf else f"in [{low}, {int(high)}]"
        raise ValueError(f"{what} must be an int {bounds}, got {value!r}")
    return int(value)


def check_score(value: Any, what: str = "score") -> float:
    """``value`` as a float if it is a finite number or NaN, else a ValueError.

    Examples
    --------
    >>> check_score(1), check_score(float("nan"))
    (1.0, nan)
    >>> check_score(float("inf"))
    Traceback (most recent call last):
        ...
    ValueError: score must be a finite number or NaN, got inf
    >>> check_score(10**400)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: score must be a finite number or NaN, got 1000000...
    """
    try:
        number = float(value) if isinstance(value, (int, float)) else None
    except OverflowError:  # an int beyond float's range
        number = math.inf
    if number is None or isinstance(value, bool) or math.isinf(number):
        raise ValueError(f"{what} must be a finite number or NaN, got {short_repr(value, 80)}")
    return number


def _depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests lists and dicts (counting stops past ``limit``)."""
    if limit < 0 or not isinstance(value, (list, dict)):
        return 0
    items = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(v, limit - 1) for v in items), default=0)


def genome_in_space(data: Any, space: SearchSpace | None) -> Genome:
    """A genome read from a file: it must parse, and lie in ``space``.

    Parameters
    ----------
    data : object
        What the file holds (:meth:`~skevonas.Genome.to_dict` form).
    space : SearchSpace or None
        The bound search space it must lie in (None checks only the form).

    Returns
    -------
    genome : Genome
        The genome.

    Raises
    ------
    ValueError
        Saying what is wrong (the caller names the record or line).

    Examples
    --------
    >>> from skevonas import Genome, LayerGene, mlp_space
    >>> huge = Genome("mlp", [LayerGene("dense", {"units": 200_000})]).to_dict()
    >>> genome_in_space(huge, None).layers[0]["units"]
    200000
    >>> genome_in_space(huge, mlp_space().bind((4,)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: its genome ... lies outside the search space 'mlp': ...
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"its genome must be a JSON object, got {type(data).__name__}")
    try:
        genome = Genome.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"its genome cannot be read ({type(exc).__name__}: {exc})") from None
    if space is not None and not space.contains(genome):
        raise ValueError(
            f"its genome {genome.short_key()} lies outside the search space {space.name!r}: "
            f"{str(genome)[:200]}"
        )
    return genome


def check_result(
    result: Any, statuses: Sequence[str] = STATUSES, max_epochs: int | None = None
) -> dict[str, Any]:
    """A result (or a record's info) read from a file, with fields the search can act on.

    It must be a JSON object nesting at most ``MAX_DEPTH`` levels, its
    ``score`` a finite number or NaN, its ``status`` one of ``statuses``,
    and the counts the search acts on ints: ``epochs``,
    ``best_epoch`` (the refit trains that many) and ``budget`` at most
    ``max_epochs``, and ``rung``.

    Parameters
    ----------
    result : object
        What the file holds.
    statuses : sequence of str, default=STATUSES
        The statuses it may have.
    max_epochs : int or None, default=None
        The most epochs a candidate of the search trains.

    Returns
    -------
    result : dict
        ``result`` itself.

    Raises
    ------
    ValueError
        Saying what is wrong.

    Examples
    --------
    >>> check_result({"score": 0.5, "status": "ok", "best_epoch": 4}, max_epochs=5)
    {'score': 0.5, 'status': 'ok', 'best_epoch': 4}
    >>> check_result({"score": 1.0, "best_epoch": 10**9}, max_epochs=30)
    Traceback (most recent call last):
        ...
    ValueError: best_epoch must be an int in [0, 30], got 1000000000
    """
    if not isinstance(result, dict):
        raise ValueError(f"its result must be a JSON object, got {type(result).__name__}")
    if _depth(result, MAX_DEPTH) > MAX_DEPTH:
        raise ValueError(f"its result nests deeper than {MAX_DEPTH} levels")
    if "score" in result:
        check_score(result["score"])
    if "status" in result and result["status"] not in statuses:
        raise ValueError(f"its status must be one of {list(statuses)}, got {result['status']!r}")
    for name, low in _COUNTS.items():
        if name in result:
            high = max_epochs if max_epochs is not None and name != "rung" else math.inf
            check_int(result[name], name, low, high)
    return result
