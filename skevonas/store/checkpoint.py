"""Checkpoints: a search's state on disk, written so that a crash loses nothing.

A checkpoint directory holds two files, both plain JSON (no pickle, so
loading a checkpoint from an untrusted place cannot run code):

``search.json``
    The full :class:`~skevonas.evolution.records.SearchState` after the last
    finished generation: every evaluation record, the ranked population,
    the history, the generation counter, the genetic algorithm's random
    generator state, and the caller's ``meta`` (settings and data
    fingerprints, seeds, the search's id). It is replaced atomically after
    each generation (written to a temporary file, flushed to disk, then
    renamed), so it is always one whole generation or the one before;
    temporary files left by a crash are removed by the next save.
``evaluations.jsonl``
    A journal with one line per candidate result, appended (and flushed to
    disk) the moment the result arrives, and in a multi-fidelity search one
    line per rung result too (:mod:`skevonas.evolution.fidelity`). Each line names the
    search that wrote it (``meta["search_id"]``). After a crash in the middle
    of a generation, the results finished before it are taken from here
    instead of being trained again. A line cut short by the crash, or bytes
    that are not a journal line, are skipped with a warning; the next line
    is written after a newline, so a cut line never swallows it.

While a search runs it holds ``search.lock`` (an exclusive
:func:`fcntl.flock`, released by the operating system if the process dies):
a second search on the same folder is refused at once
(:class:`skevonas.store.folderlock.FolderLock`).

Everything read is checked before it is used (:func:`load_checkpoint`, and
:func:`skevonas.store.journal.read_journal` for the journal; see
:mod:`skevonas.store.checkpoint_checks`): genomes must lie in the search space, scores must be
finite or NaN, statuses known, generation numbers consistent, epoch counts
within the search's ``max_epochs``, and the random generator one of NumPy's
bit generators. A file that fails is a :class:`CheckpointError` naming what
is wrong; nothing in it is trained or refitted.

Candidate weights are not kept: the search needs only scores, and the
refit trains the best genome again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..evolution.records import EvaluationRecord, SearchState
from ..spaces.genome import Genome
from .checkpoint_checks import (
    STATUSES,
    check_int,
    check_result,
    check_score,
    genome_in_space,
    is_json_int,
)
from .weights import WEIGHTS_DIR

if TYPE_CHECKING:
    from ..spaces.space import SearchSpace

__all__ = [
    "CheckpointError",
    "append_result",
    "clear_checkpoint",
    "has_checkpoint",
    "iter_journal",
    "load_checkpoint",
    "load_journal",
    "save_checkpoint",
]

logger = logging.getLogger(__name__)

STATE_FILE = "search.json"
JOURNAL_FILE = "evaluations.jsonl"
FORMAT = "skevonas-search-checkpoint"
VERSION = 1
# The bit generators a checkpoint may name; never looked up by getattr.
BIT_GENERATORS: dict[str, type[np.random.BitGenerator]] = {
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "MT19937": np.random.MT19937,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
}
HISTORY_FIELDS = (
    *("generation", "best", "mean", "std", "min", "best_so_far"),
    *("n_evaluated", "cache_hits", "n_failed", "seconds", "elapsed"),
)


class CheckpointError(ValueError):
    """A checkpoint cannot be read, does not belong to this search, or is in use.

    A :class:`ValueError`. The estimators raise it when ``warm_start=True``
    meets a checkpoint made with other data or other settings that decide the
    scores, listing what changed; when a file is damaged or was crafted
    (naming the record or line); and when another search holds the folder.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = (pathlib.Path(tmp.name) / "search.json").write_text(json.dumps({"format": "other"}))
    >>> try:
    ...     load_checkpoint(tmp.name)
    ... except CheckpointError as exc:
    ...     print(exc)  # doctest: +ELLIPSIS
    '.../search.json' is not a skevonas search checkpoint
    >>> tmp.cleanup()
    """


# --------------------------------------------------------------------------- write
def _plain(value: Any) -> Any:
    """JSON for NumPy scalars and arrays that a custom ``evaluate`` may return."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _dumps(data: Any) -> str:
    return json.dumps(data, default=_plain)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_stale_temporaries(directory: Path) -> None:
    """Remove the temporary files of writes that a crash interrupted."""
    for stale in directory.glob(f".{STATE_FILE}.*.tmp"):
        stale.unlink(missing_ok=True)
        logger.info("removed %s, left by an interrupted checkpoint write", stale)


def _record_to_dict(record: EvaluationRecord) -> dict[str, Any]:
    return {
        "genome": record.genome.to_dict(),
        "score": record.score,
        "generation": record.generation,
        "index": record.index,
        "parents": list(record.parents),
        "status": record.status,
        "info": dict(record.info),
    }


def save_checkpoint(directory: str | os.PathLike, state: SearchState) -> Path:
    """Write ``state`` to ``directory/search.json``, atomically.

    The state goes to a temporary file in ``directory``, which is flushed to
    disk and then renamed over the old checkpoint, so a crash leaves either
    the old or the new state, never part of one. Temporary files that
    earlier, interrupted writes left behind are removed.

    Parameters
    ----------
    directory : path
        Created if missing.
    state : SearchState
        A search state after a finished generation (with its ``rng``).

    Returns
    -------
    path : Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from skevonas import mlp_space
    >>> from skevonas.evolution import GASettings, SerialRunner, evolve
    >>> space = mlp_space().bind((4,))
    >>> def evaluate(ticket, snapshot):  # a toy fitness: deeper networks are fitter
    ...     return {"score": len(ticket.genome.layers) / 4}
    >>> tmp = tempfile.TemporaryDirectory()
    >>> ga = GASettings(population_size=4, n_generations=2)
    >>> state = evolve(space, SerialRunner(evaluate), ga,
    ...                rng=np.random.default_rng(0))
    >>> save_checkpoint(tmp.name, state).name
    'search.json'
    >>> has_checkpoint(tmp.name)
    True
    >>> tmp.cleanup()
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "space_name": state.space_name,
        "population_size": state.population_size,
        "n_generations": state.n_generations,
        "generation": state.generation,
        "elapsed": state.elapsed,
        "stop_reason": state.stop_reason,
        "population": [record.index for record in state.population],
        "records": [_record_to_dict(record) for record in state.records],
        "history": state.history,
        "rng": state.rng.bit_generator.state if state.rng is not None else None,
        "meta": state.meta,
    }
    path = directory / STATE_FILE
    _atomic_write(path, _dumps(payload))
    _remove_stale_temporaries(directory)
    logger.debug("checkpoint of generation %d written to %s", state.generation, path)
    return path


def append_result(
    directory: str | os.PathLike,
    generation: int,
    genome: Genome,
    result: Mapping[str, Any],
    *,
    search_id: str | None = None,
    budget: int | None = None,
    ticket: int | None = None,
) -> None:
    """Append one candidate's result to the journal and flush it to disk.

    If the journal's last line was cut short (a crash in the middle of a
    write), a newline goes first, so that the new line stays whole.

    Parameters
    ----------
    directory : path
        The checkpoint folder (it must exist).
    generation : int
        The generation the candidate belongs to.
    genome : Genome
        The candidate.
    result : mapping
        What its evaluation returned (JSON-serialisable), with a ``score``.
    search_id : str or None, default=None
        The search that writes it (:func:`read_journal` keeps one search's lines).
    budget : int or None, default=None
        The epochs the training went up to, when below the full budget or
        with successive halving (:class:`~skevonas.evolution.runner.Ticket`'s
        ``budget``).
    ticket : int or None, default=None
        With an int, the line is the arrival of the ticket with this number
        (what the search's pipeline writes, :meth:`~skevonas.store.journal.Journal.record_arrival`);
        without one, an older line: a final result, or with ``budget`` one
        rung's.

    Examples
    --------
    >>> import tempfile
    >>> from skevonas import Genome, LayerGene
    >>> tmp = tempfile.TemporaryDirectory()
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> append_result(tmp.name, 0, g, {"score": 0.75, "status": "ok", "epochs": 12})
    >>> load_journal(tmp.name)[g.key()]
    {'score': 0.75, 'status': 'ok', 'epochs': 12}
    >>> tmp.cleanup()
    """
    entry: dict[str, Any] = {"generation": generation, "key": genome.key()}
    if search_id is not None:
        entry["search"] = search_id
    if budget is not None:
        entry["kind"], entry["budget"] = "rung", int(budget)
    if ticket is not None:
        entry["kind"], entry["ticket"] = "ticket", int(ticket)
    entry.update(genome=genome.to_dict(), result=dict(result))
    line = (_dumps(entry) + "\n").encode("utf-8")
    with open(Path(directory) / JOURNAL_FILE, "a+b") as f:
        end = f.seek(0, os.SEEK_END)
        if end > 0:
            f.seek(end - 1)
            if f.read(1) != b"\n":
                line = b"\n" + line  # the last line was cut: do not join it
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def clear_checkpoint(directory: str | os.PathLike) -> None:
    """Remove the checkpoint files (and only those) from ``directory``.

    The state, the journal, the kept weights of a search with weight
    inheritance (:mod:`skevonas.store.weights`) and temporary files of
    interrupted writes go; a lock file stays (its search removes it).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skevonas import Genome, LayerGene
    >>> tmp = tempfile.TemporaryDirectory()
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> append_result(tmp.name, 0, g, {"score": 0.5})
    >>> _ = (pathlib.Path(tmp.name) / "notes.txt").write_text("kept")
    >>> clear_checkpoint(tmp.name)
    >>> sorted(p.name for p in pathlib.Path(tmp.name).iterdir())
    ['notes.txt']
    >>> tmp.cleanup()
    """
    for name in (STATE_FILE, JOURNAL_FILE):
        (Path(directory) / name).unlink(missing_ok=True)
    _remove_stale_temporaries(Path(directory))
    weights = Path(directory) / WEIGHTS_DIR
    if weights.is_dir():
        for path in [*weights.glob("*.safetensors"), *weights.glob(".*.tmp")]:
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty: files the search did not write
            weights.rmdir()


# --------------------------------------------------------------------------- checks
def _record_from_dict(
    data: Any, position: int, space: SearchSpace | None, max_epochs: int | None
) -> EvaluationRecord:
    where = f"record {position}"
    try:
        if not isinstance(data, Mapping):
            raise ValueError(f"it must be a JSON object, got {type(data).__name__}")
        fields = ("genome", "score", "generation", "index", "parents", "status", "info")
        missing = [name for name in fields if name not in data]
        if missing:
            raise ValueError(f"it has no {', '.join(missing)}")
        genome = genome_in_space(data["genome"], space)
        where = f"record {position} ({genome.short_key()})"
        if data["index"] != position or not is_json_int(data["index"]):
            raise ValueError(f"its index is {data['index']!r}, not {position}")
        parents = data["parents"]
        if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
            raise ValueError(f"its parents must be a list of keys, got {parents!r}")
        if data["status"] not in STATUSES:
            raise ValueError(f"its status must be one of {list(STATUSES)}, got {data['status']!r}")
        return EvaluationRecord(
            genome,
            check_score(data["score"]),
            check_int(data["generation"], "its generation", 0),
            position,
            tuple(parents),
            str(data["status"]),
            dict(check_result(data["info"], STATUSES, max_epochs)),
        )
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _check_history(rows: Any, generation: int) -> list[dict[str, Any]]:
    if not isinstance(rows, list) or len(rows) != generation + 1:
        n = len(rows) if isinstance(rows, list) else rows
        raise ValueError(f"{n!r} history rows for generation {generation}")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"history row {i} is not a JSON object")
        missing = [name for name in HISTORY_FIELDS if name not in row]
        if missing:
            raise ValueError(f"history row {i} has no {', '.join(missing)}")
        if row["generation"] != i or not is_json_int(row["generation"]):
            raise ValueError(f"history row {i} is for generation {row['generation']!r}")
        for name in HISTORY_FIELDS[1:]:
            check_score(row[name], f"history row {i}'s {name}")
        stop = row.get("stop_reason")
        if stop is not None and not isinstance(stop, str):
            raise ValueError(f"history row {i}'s stop_reason must be a string or null")
    return [dict(row) for row in rows]


def _check_rng(data: Any) -> np.random.Generator:
    """A generator from a saved bit-generator state: only NumPy's own kinds."""
    if not isinstance(data, dict):
        raise ValueError(f"its random generator state must be a JSON object, got {data!r}")
    name = data.get("bit_generator")
    kind = BIT_GENERATORS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ValueError(
            f"its random generator must be one of {sorted(BIT_GENERATORS)}, got {name!r}"
        )
    bit_generator = kind()
    try:
        bit_generator.state = data
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValueError(f"its {name} state cannot be restored ({exc})") from None
    return np.random.Generator(bit_generator)


# --------------------------------------------------------------------------- read
def has_checkpoint(directory: str | os.PathLike | None) -> bool:
    """Whether ``directory`` holds a search checkpoint.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> has_checkpoint(tmp.name), has_checkpoint(None)
    (False, False)
    >>> tmp.cleanup()
    """
    return directory is not None and (Path(directory) / STATE_FILE).is_file()


def load_checkpoint(
    directory: str | os.PathLike,
    space: SearchSpace | None = None,
    max_epochs: int | None = None,
) -> SearchState:
    """Read the search state saved in ``directory``, checking all of it.

    Parameters
    ----------
    directory : path
        The checkpoint folder.
    space : SearchSpace or None, default=None
        The bound search space: every genome must lie in it, and the state
        must be of a search in it.
    max_epochs : int or None, default=None
        The most epochs a candidate trains: records that claim more are refused.

    Returns
    -------
    state : SearchState
        The state as saved, its random generator included, ready to resume
        (:func:`~skevonas.evolution.generational.evolve` with ``resume=state``).

    Raises
    ------
    CheckpointError
        When the file is missing, is not a skevonas checkpoint, was written
        by a newer format, or is damaged or crafted: a genome outside
        ``space``, a score that is not a finite number or NaN, an unknown
        status, inconsistent generation numbers or history, an unknown
        random generator. The message names the record or field.

    Examples
    --------
    A search of 2 generations is saved, read back and continued to 4:

    >>> import tempfile
    >>> import numpy as np
    >>> from skevonas import mlp_space
    >>> from skevonas.evolution import GASettings, SerialRunner, evolve
    >>> space = mlp_space().bind((4,))
    >>> def evaluate(ticket, snapshot):  # a toy fitness: deeper networks are fitter
    ...     return {"score": len(ticket.genome.layers) / 4}
    >>> tmp = tempfile.TemporaryDirectory()
    >>> ga = GASettings(population_size=4, n_generations=2)
    >>> state = evolve(space, SerialRunner(evaluate), ga,
    ...                rng=np.random.default_rng(0))
    >>> _ = save_checkpoint(tmp.name, state)
    >>> loaded = load_checkpoint(tmp.name, space)
    >>> loaded.generation, [r.key for r in loaded.records] == [r.key for r in state.records]
    (1, True)
    >>> ga = GASettings(population_size=4, n_generations=4)
    >>> longer = evolve(space, SerialRunner(evaluate), ga, resume=loaded)
    >>> len(longer.history)
    4

    A genome outside the space is refused:

    >>> try:
    ...     load_checkpoint(tmp.name, mlp_space(max_layers=1).bind((4,)))
    ... except CheckpointError as exc:
    ...     print(str(exc)[:60])  # doctest: +ELLIPSIS
    the checkpoint '.../search.json' is damaged: ...
    >>> tmp.cleanup()
    """
    path = Path(directory) / STATE_FILE
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise CheckpointError(
            f"no search checkpoint in {str(directory)!r} ({path} is missing)"
        ) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"the checkpoint {str(path)!r} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{str(path)!r} is not a skevonas search checkpoint")
    if data.get("version") != VERSION:
        raise CheckpointError(
            f"the checkpoint {str(path)!r} has format version {data.get('version')!r}; "
            f"this skevonas reads version {VERSION}"
        )
    try:
        return _state_from_dict(data, space, max_epochs)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        what = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
        raise CheckpointError(f"the checkpoint {str(path)!r} is damaged: {what}") from exc


def _state_from_dict(
    data: dict[str, Any], space: SearchSpace | None, max_epochs: int | None
) -> SearchState:
    space_name = data["space_name"]
    if not isinstance(space_name, str):
        raise ValueError(f"space_name must be a string, got {space_name!r}")
    if space is not None and space_name != space.name:
        raise ValueError(f"it is of the search space {space_name!r}, not {space.name!r}")
    state = SearchState(
        space_name,
        check_int(data["population_size"], "population_size", 1),
        check_int(data["n_generations"], "n_generations", 1),
    )
    state.generation = check_int(data["generation"], "generation", -1, state.n_generations - 1)
    if not isinstance(data["records"], list):
        raise ValueError("its records must be a list")
    last = 0
    for position, item in enumerate(data["records"]):
        record = _record_from_dict(item, position, space, max_epochs)
        if not last <= record.generation <= state.generation:
            raise ValueError(
                f"record {position} ({record.genome.short_key()}): its generation "
                f"{record.generation} is not in [{last}, {state.generation}]"
            )
        if record.key in state.cache:
            raise ValueError(
                f"record {position} repeats the genome of record {state.cache[record.key].index}"
            )
        last = record.generation
        state.add(record)
    population = data["population"]
    if not isinstance(population, list) or len(population) > state.population_size:
        raise ValueError(f"its population must be a list of at most {state.population_size}")
    n = len(state.records)
    state.population = [
        state.records[check_int(i, "a population index", 0, n - 1)] for i in population
    ]
    state.history = _check_history(data["history"], state.generation)
    stop_reason = data["stop_reason"]
    if stop_reason is not None and not isinstance(stop_reason, str):
        raise ValueError(f"stop_reason must be a string or null, got {stop_reason!r}")
    state.stop_reason = stop_reason
    elapsed = check_score(data["elapsed"], "elapsed")
    if not elapsed >= 0:
        raise ValueError(f"elapsed must be >= 0, got {elapsed!r}")
    state.start_time = time.perf_counter() - elapsed
    if not isinstance(data["meta"], dict):
        raise ValueError("its meta must be a JSON object")
    state.meta = data["meta"]
    state.rng = None if data["rng"] is None else _check_rng(data["rng"])
    return state


def iter_journal(directory: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, line)`` for each line of the journal that reads as one.

    Lines that do not (cut short by a crash, binary garbage, another
    format) are skipped with a logged warning; nothing else is checked.

    Examples
    --------
    >>> import tempfile
    >>> from skevonas import Genome, LayerGene
    >>> tmp = tempfile.TemporaryDirectory()
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> with open(f"{tmp.name}/evaluations.jsonl", "wb") as f:  # garbage first
    ...     _ = f.write(b"\\xff\\xfe not json\\n")
    >>> append_result(tmp.name, 0, g, {"score": 0.5})
    >>> [(number, line["result"]) for number, line in iter_journal(tmp.name)]
    [(2, {'score': 0.5})]
    >>> tmp.cleanup()
    """
    path = Path(directory) / JOURNAL_FILE
    if not path.is_file():
        return
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except (ValueError, RecursionError) as exc:  # cut short, or not text at all
                logger.warning("skipping line %d of %s: %s", number, path, str(exc)[:200])
                continue
            if not isinstance(line, dict) or not {"generation", "genome", "result"} <= set(line):
                logger.warning("skipping line %d of %s: not a journal line", number, path)
                continue
            yield number, line


def load_journal(directory: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The last result journaled in ``directory`` for each genome, by genome key.

    A quick look at a journal, whichever search wrote its lines: a line that
    cannot be parsed (the one a crash cut short) is skipped with a log
    message. Under successive halving a genome's last result is that of the
    highest rung it trained. A resumed search reads its journal with
    :func:`~skevonas.store.journal.read_journal` instead, which keeps its own
    lines and checks them.

    Examples
    --------
    >>> import tempfile
    >>> from skevonas import Genome, LayerGene
    >>> tmp = tempfile.TemporaryDirectory()
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> append_result(tmp.name, 0, g, {"score": 0.75})
    >>> with open(f"{tmp.name}/evaluations.jsonl", "a") as f:  # a line cut short by a crash
    ...     _ = f.write('{"generation": 0, "key": ')
    >>> list(load_journal(tmp.name).values())
    [{'score': 0.75}]
    >>> tmp.cleanup()
    """
    path = Path(directory) / JOURNAL_FILE
    results: dict[str, dict[str, Any]] = {}
    for number, line in iter_journal(directory):
        try:
            genome = genome_in_space(line["genome"], None)
            result = check_result(line["result"], STATUSES, None)
            check_score(result["score"])
        except (KeyError, ValueError) as exc:
            logger.warning("skipping line %d of %s: %s", number, path, exc)
            continue
        results[genome.key()] = result
    return results
