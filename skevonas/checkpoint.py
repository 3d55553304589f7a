"""Checkpoints: a search's state on disk, written so that a crash loses nothing.

A checkpoint directory holds two files, both plain JSON (no pickle, so
loading a checkpoint from an untrusted place cannot run code):

``search.json``
    The full :class:`~skevonas.evolution.SearchState` after the last
    finished generation: every evaluation record, the ranked population,
    the history, the generation counter, the genetic algorithm's random
    generator state, and the caller's ``meta`` (settings and data
    fingerprints, seeds). It is replaced atomically after each generation
    (written to a temporary file, flushed to disk, then renamed), so it is
    always one whole generation or the one before.
``evaluations.jsonl``
    A journal with one line per candidate result, appended (and flushed to
    disk) the moment the result arrives. After a crash in the middle of a
    generation, the results finished before it are taken from here instead
    of being trained again. A line cut short by the crash is ignored.

Candidate weights are not kept: the search needs only scores, and the
refit trains the best genome again.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .evolution import EvaluationRecord, SearchState
from .genome import Genome

__all__ = [
    "CheckpointError",
    "append_result",
    "clear_checkpoint",
    "has_checkpoint",
    "load_checkpoint",
    "load_journal",
    "save_checkpoint",
]

logger = logging.getLogger(__name__)

STATE_FILE = "search.json"
JOURNAL_FILE = "evaluations.jsonl"
FORMAT = "skevonas-search-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint cannot be read, or does not belong to this search.

    A :class:`ValueError`. The estimators raise it when ``warm_start=True``
    meets a checkpoint made with other data or other settings that decide the
    scores, listing what changed.

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


def _record_from_dict(data: Mapping[str, Any]) -> EvaluationRecord:
    return EvaluationRecord(
        Genome.from_dict(data["genome"]),
        float(data["score"]),
        int(data["generation"]),
        int(data["index"]),
        tuple(data["parents"]),
        str(data["status"]),
        dict(data["info"]),
    )


def save_checkpoint(directory: str | os.PathLike, state: SearchState) -> Path:
    """Write ``state`` to ``directory/search.json``, atomically.

    The state goes to a temporary file in ``directory``, which is flushed to
    disk and then renamed over the old checkpoint, so a crash leaves either
    the old or the new state, never part of one.

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
    >>> from skevonas.evolution import evolve
    >>> space = mlp_space().bind((4,))
    >>> def evaluate(genomes, generation):  # a toy fitness: deeper networks are fitter
    ...     return [{"score": len(g.layers) / 4} for g in genomes]
    >>> tmp = tempfile.TemporaryDirectory()
    >>> state = evolve(space, evaluate, population_size=4, n_generations=2,
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
    _atomic_write(path, json.dumps(payload))
    logger.debug("checkpoint of generation %d written to %s", state.generation, path)
    return path


def append_result(
    directory: str | os.PathLike, generation: int, genome: Genome, result: Mapping[str, Any]
) -> None:
    """Append one candidate's result to the journal and flush it to disk.

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
    line = json.dumps(
        {
            "generation": generation,
            "key": genome.key(),
            "genome": genome.to_dict(),
            "result": dict(result),
        }
    )
    with open(Path(directory) / JOURNAL_FILE, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def clear_checkpoint(directory: str | os.PathLike) -> None:
    """Remove the checkpoint files (and only those) from ``directory``.

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


def load_checkpoint(directory: str | os.PathLike) -> SearchState:
    """Read the search state saved in ``directory``.

    Parameters
    ----------
    directory : path
        The checkpoint folder.

    Returns
    -------
    state : SearchState
        The state as saved, its random generator included, ready to resume
        (:func:`~skevonas.evolution.evolve` with ``resume=state``).

    Raises
    ------
    CheckpointError
        When the file is missing, is not a skevonas checkpoint, was written
        by a newer format, or is damaged.

    Examples
    --------
    A search of 2 generations is saved, read back and continued to 4:

    >>> import tempfile
    >>> import numpy as np
    >>> from skevonas import mlp_space
    >>> from skevonas.evolution import evolve
    >>> space = mlp_space().bind((4,))
    >>> def evaluate(genomes, generation):  # a toy fitness: deeper networks are fitter
    ...     return [{"score": len(g.layers) / 4} for g in genomes]
    >>> tmp = tempfile.TemporaryDirectory()
    >>> state = evolve(space, evaluate, population_size=4, n_generations=2,
    ...                rng=np.random.default_rng(0))
    >>> _ = save_checkpoint(tmp.name, state)
    >>> loaded = load_checkpoint(tmp.name)
    >>> loaded.generation, [r.key for r in loaded.records] == [r.key for r in state.records]
    (1, True)
    >>> longer = evolve(space, evaluate, population_size=4, n_generations=4, resume=loaded)
    >>> len(longer.history)
    4
    >>> tmp.cleanup()
    """
    path = Path(directory) / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(
            f"no search checkpoint in {str(directory)!r} ({path} is missing)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"the checkpoint {str(path)!r} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{str(path)!r} is not a skevonas search checkpoint")
    if data.get("version") != VERSION:
        raise CheckpointError(
            f"the checkpoint {str(path)!r} has format version {data.get('version')!r}; "
            f"this skevonas reads version {VERSION}"
        )
    try:
        records = [_record_from_dict(r) for r in data["records"]]
        state = SearchState(
            str(data["space_name"]), int(data["population_size"]), int(data["n_generations"])
        )
        for record in records:
            state.add(record)
        state.population = [records[int(i)] for i in data["population"]]
        state.generation = int(data["generation"])
        state.history = [dict(row) for row in data["history"]]
        state.stop_reason = data["stop_reason"]
        state.start_time = time.perf_counter() - float(data["elapsed"])
        state.meta = dict(data["meta"])
        if data["rng"] is not None:
            rng_state = data["rng"]
            bit_generator = getattr(np.random, rng_state["bit_generator"])()
            bit_generator.state = rng_state
            state.rng = np.random.Generator(bit_generator)
        if [r.index for r in records] != list(range(len(records))):
            raise ValueError("record indices are not 0, 1, 2, ...")
        if len(state.history) != state.generation + 1:
            raise ValueError(f"{len(state.history)} history rows for generation {state.generation}")
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise CheckpointError(
            f"the checkpoint {str(path)!r} is damaged ({type(exc).__name__}: {exc})"
        ) from exc
    return state


def load_journal(directory: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Results journaled in ``directory``, by genome key (the last one wins).

    A line that cannot be parsed (the one a crash cut short) is skipped with
    a log message.

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
    if not path.is_file():
        return results
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            try:
                entry = json.loads(line)
                genome = Genome.from_dict(entry["genome"])
                result = dict(entry["result"])
                float(result["score"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                logger.warning("skipping line %d of %s: %s", number, path, exc)
                continue
            results[genome.key()] = result
    return results
