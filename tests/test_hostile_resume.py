"""Checkpoints and resume under hostile conditions (issue 16, items 2, 3, 4, 9, 10, 14, 15).

Each test crafts what a hostile user, a crash or a second search would
leave in a checkpoint folder (files go in ``tmp_path``) and checks that the
next fit either continues exactly the interrupted search or refuses with a
clear :class:`~skevonas.store.checkpoint.CheckpointError`, and never trusts,
trains or refits what it read without checking it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from skorch.callbacks import LRScheduler

from skevonas import EvolutionaryNASClassifier, SearchCallback
from skevonas.evolution import Fidelity, GASettings, SerialRunner, evolve
from skevonas.search import CandidatePipeline, Workers, run_search
from skevonas.spaces.catalogue import mlp_space
from skevonas.store.checkpoint import (
    CheckpointError,
    append_result,
    load_checkpoint,
    load_journal,
    save_checkpoint,
)
from skevonas.store.resume import describe_value, resume_point
from skevonas.training.candidate import CandidateData
from skevonas.training.recipe import Recipe
from skevonas.training.tasks import CandidateTask

FULL = {"population_size": 4, "n_generations": 2, "max_epochs": 2, "patience": 2, "random_state": 0}
HALVING = {
    "population_size": 6,
    "n_generations": 3,
    "max_epochs": 4,
    "min_epochs": 1,
    "halving_factor": 2,
    "patience": 2,
    "random_state": 0,
}
CLOCK = {"fit_time", "seconds", "elapsed"}
LOCK_FILE = "search.lock"


class Crash(SearchCallback):
    """Raises after the ``after``-th result of generation 1 (a simulated crash)."""

    def __init__(self, after: int) -> None:
        self.after = after

    def on_search_begin(self, state):
        self.seen_ = 0

    def on_evaluation_end(self, state, genome, result):
        if state.generation == 1:
            self.seen_ += 1
            if self.seen_ >= self.after:
                raise RuntimeError("simulated crash")


def crash_then_resume(X, y, folder, settings, after, **resume_kwargs):
    """A search crashed in generation 1, then resumed from its checkpoint."""
    clf = EvolutionaryNASClassifier(**settings, checkpoint_dir=folder, callbacks=[Crash(after)])
    with pytest.raises(RuntimeError, match="simulated crash"):
        clf.fit(X, y)
    resumed = EvolutionaryNASClassifier(
        **settings, checkpoint_dir=folder, warm_start=True, **resume_kwargs
    )
    return resumed.fit(X, y)


def summary(clf, X):
    """What a search decided, without wall-clock fields."""
    return (
        [{k: v for k, v in e.items() if k not in CLOCK} for e in clf.evaluations_],
        [{k: v for k, v in h.items() if k not in CLOCK} for h in clf.history_],
        clf.best_genome_.key(),
        clf.best_score_,
        hashlib.sha256(np.ascontiguousarray(clf.predict_proba(X)).tobytes()).hexdigest(),
    )


def rewrite(path: Path, change) -> None:
    """Apply ``change`` to the JSON of ``search.json``."""
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.fixture(scope="module")
def full_search(blobs):
    return summary(EvolutionaryNASClassifier(**FULL).fit(*blobs), blobs[0])


@pytest.fixture(scope="module")
def halving_search(blobs):
    return summary(EvolutionaryNASClassifier(**HALVING).fit(*blobs), blobs[0])


@pytest.fixture
def checkpointed(blobs, tmp_path):
    """A finished 1-generation search with its checkpoint: (folder, settings)."""
    settings = {**FULL, "n_generations": 1}
    EvolutionaryNASClassifier(**settings, checkpoint_dir=tmp_path).fit(*blobs)
    return tmp_path, {**FULL, "checkpoint_dir": tmp_path, "warm_start": True}


# ----------------------------------------------------------------- 2: one search per folder
def test_a_second_search_on_a_folder_in_use_is_refused_at_once(blobs, checkpointed):
    folder, settings = checkpointed
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    holder = subprocess.Popen(  # another process holds the folder, as a running search does
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
            str(folder / LOCK_FILE),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        start = time.perf_counter()
        for warm_start in (True, False):
            with pytest.raises(CheckpointError, match="another search is running in the folder"):
                EvolutionaryNASClassifier(**{**settings, "warm_start": warm_start}).fit(*blobs)
        assert time.perf_counter() - start < 5
        # nothing was cleared or written
        assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name != LOCK_FILE} == before
    finally:
        holder.kill()
        holder.wait()
    # the lock died with its process: the folder is free again
    EvolutionaryNASClassifier(**settings).fit(*blobs)
    assert not (folder / LOCK_FILE).exists()


def test_the_lock_is_released_when_a_fit_ends_crashes_or_is_refused(blobs, checkpointed):
    folder, settings = checkpointed
    with pytest.raises(CheckpointError, match="max_epochs=2 there, 3 here"):
        EvolutionaryNASClassifier(**{**settings, "max_epochs": 3}).fit(*blobs)
    assert not (folder / LOCK_FILE).exists()
    crashing = {**settings, "warm_start": False, "callbacks": [Crash(1)]}
    with pytest.raises(RuntimeError, match="simulated crash"):
        EvolutionaryNASClassifier(**crashing).fit(*blobs)
    assert not (folder / LOCK_FILE).exists()
    from skevonas.store.folderlock import FolderLock

    with FolderLock(folder):  # and it can be taken again at once
        pass


def test_journal_lines_of_another_search_are_ignored(blobs, tmp_path, full_search, caplog):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**FULL, checkpoint_dir=tmp_path, callbacks=[Crash(2)])
    with pytest.raises(RuntimeError, match="simulated crash"):
        clf.fit(X, y)
    # Another search (same seed, other labels) appended its results for the same genomes.
    journal = tmp_path / "evaluations.jsonl"
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    foreign = [
        {**line, "search": "another-search", "result": {**line["result"], "score": 0.123}}
        for line in lines
        if line["generation"] == 1
    ]
    assert foreign
    with journal.open("a") as f:
        f.writelines(json.dumps(line) + "\n" for line in foreign)
    with caplog.at_level(logging.WARNING, logger="skevonas.store.journal"):
        resumed = EvolutionaryNASClassifier(**FULL, checkpoint_dir=tmp_path, warm_start=True)
        resumed.fit(X, y)
    assert 0.123 not in [e["score"] for e in resumed.evaluations_]
    assert summary(resumed, X) == full_search
    assert f"ignored {len(foreign)} lines" in caplog.text and "another search" in caplog.text


# ----------------------------------------------------------------- 3: halving resumes exactly
@pytest.mark.parametrize("after", [1, 2, 3, 4])
def test_a_halving_search_crashed_mid_generation_resumes_exactly(
    blobs, tmp_path, halving_search, after, caplog
):
    X, y = blobs
    with caplog.at_level(logging.DEBUG, logger="skevonas.evolution.runner"):
        resumed = crash_then_resume(X, y, tmp_path, HALVING, after)
    assert summary(resumed, X) == halving_search
    # every rung result journaled before the crash came back without training
    reused = [m for m in caplog.messages if "was journaled before, not trained again" in m]
    assert reused


def fake_rungs(task: CandidateTask, data: CandidateData) -> dict:
    """A deterministic fake trainer: going on from a snapshot equals training from scratch."""
    base = int(hashlib.sha1(task.genome.key().encode()).hexdigest()[:6], 16) / 16**6
    epochs, stopped_by = task.epochs, "budget" if task.epochs < 9 else "max_epochs"
    if base < 0.2 and epochs > 3:  # some stop early by patience at epoch 4
        epochs, stopped_by = 4, "patience"
    result = {"score": round(base + epochs / 100, 6), "status": "ok", "epochs": epochs}
    result["stopped_by"] = stopped_by
    if task.keep_snapshot and stopped_by == "budget":
        result["snapshot"] = f"{task.genome.key()}@{epochs}".encode()
    return result


class Counting:
    """Counts (and keeps) the tasks; raises after ``crash_after`` of them."""

    def __init__(self, crash_after: float = math.inf) -> None:
        self.crash_after = crash_after
        self.tasks: list[CandidateTask] = []

    def __call__(self, task: CandidateTask, data: CandidateData) -> dict:
        if len(self.tasks) >= self.crash_after:
            raise RuntimeError("simulated crash")
        self.tasks.append(task)
        return fake_rungs(task, data)


DATA = CandidateData(
    np.zeros((8, 3), dtype=np.float32),
    np.arange(8) % 2,
    np.zeros((4, 3), dtype=np.float32),
    np.arange(4) % 2,
    n_classes=2,
)


def toy_search(folder, worker, warm_start=False):
    """A search with the real engine, journal and checkpoints, and a fake trainer."""
    space = mlp_space().bind((3,))
    meta = {"settings": {"max_epochs": 9}, "data": {"shape": [8, 3], "classes": ["a", "b"]}}
    state, journal = resume_point(meta, folder, warm_start, None, space=space)
    meta["entropy"] = 0
    pipeline = CandidatePipeline(
        DATA,
        Recipe(max_epochs=9),
        entropy=0,
        workers=Workers(n_jobs=1),
        journal=journal,
        worker=worker,
    )
    with pipeline:
        return run_search(
            space,
            pipeline,
            GASettings(7, 3, elite_size=1),
            rng=np.random.default_rng(1),
            fidelity=Fidelity((1, 3, 9), 3),
            resume=state,
        )


def test_a_toy_halving_search_crashed_after_any_task_resumes_exactly(tmp_path):
    reference = Counting()
    full = toy_search(tmp_path / "full", reference)
    expected = [(r.key, r.score, r.status, r.parents, dict(r.info)) for r in full.records]
    from_scratch = 0
    for n in range(1, len(reference.tasks)):
        folder = tmp_path / f"crash{n}"
        crashed = Counting(crash_after=n)
        with pytest.raises(RuntimeError, match="simulated crash"):
            toy_search(folder, crashed)
        journaled = journaled_rungs(folder)
        resumed_worker = Counting()
        resumed = toy_search(folder, resumed_worker, warm_start=True)
        got = [(r.key, r.score, r.status, r.parents, dict(r.info)) for r in resumed.records]
        assert got == expected, f"crash after task {n}"
        trained = [(t.genome.key(), t.epochs) for t in resumed_worker.tasks]
        assert not set(trained) & journaled, f"crash after task {n}: journaled rung retrained"
        from_scratch += sum(1 for t in resumed_worker.tasks if t.epochs > 1 and not t.snapshot)
    assert from_scratch > 0  # promoted candidates whose snapshot was lost trained again


def journaled_rungs(folder):
    """(genome key, budget) of each rung result in the journal."""
    path = folder / "evaluations.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return {(line["key"], line["budget"]) for line in lines if "budget" in line}


def test_a_journal_written_before_ticket_lines_still_replays(tmp_path):
    # Journals of earlier versions: a generational search wrote a "rung" line per rung
    # result (no ticket number) and a line per candidate's final result.
    reference = Counting()
    full = toy_search(tmp_path / "full", reference)
    expected = [(r.key, r.score, r.status, r.parents, dict(r.info)) for r in full.records]
    folder = tmp_path / "old"
    with pytest.raises(RuntimeError, match="simulated crash"):
        toy_search(folder, Counting(crash_after=24))  # in the last generation's rungs
    path = folder / "evaluations.jsonl"
    old = []
    for line in map(json.loads, path.read_text().splitlines()):
        line.pop("ticket")
        line["kind"] = "rung"
        old.append(line)
        if line["result"]["stopped_by"] != "budget":  # a final result: an extra line, as then
            old.append({k: v for k, v in line.items() if k not in ("kind", "budget")})
    path.write_text("".join(json.dumps(line) + "\n" for line in old))
    saved = load_checkpoint(folder).generation
    resumed_worker = Counting()
    resumed = toy_search(folder, resumed_worker, warm_start=True)
    assert [
        (r.key, r.score, r.status, r.parents, dict(r.info)) for r in resumed.records
    ] == expected
    # the old rung lines of the interrupted generation were taken, not trained again
    interrupted = {
        (line["key"], line["budget"])
        for line in old
        if line.get("kind") == "rung" and line["generation"] == saved + 1
    }
    trained = {(t.genome.key(), t.epochs) for t in resumed_worker.tasks}
    assert interrupted and not trained & interrupted


# ----------------------------------------------------------------- 4: objects in settings
def test_resume_refuses_another_lr_scheduler_in_net_params(blobs, tmp_path):
    def settings(gamma):
        callbacks = [LRScheduler(policy="StepLR", step_size=1, gamma=gamma)]
        return {**FULL, "net_params": {"callbacks": callbacks}, "checkpoint_dir": tmp_path}

    first = settings(0.5)
    EvolutionaryNASClassifier(**{**first, "n_generations": 1}).fit(*blobs)
    with pytest.raises(CheckpointError, match=r"\['gamma'\]=0.5 there, 0.9 here"):
        EvolutionaryNASClassifier(**settings(0.9), warm_start=True).fit(*blobs)
    # the same objects (used by the first fit) and equal new ones are accepted
    EvolutionaryNASClassifier(**first, warm_start=True).fit(*blobs)
    EvolutionaryNASClassifier(**{**settings(0.5), "n_generations": 3}, warm_start=True).fit(*blobs)


def macro_f1(estimator, X, y):
    from sklearn.metrics import f1_score

    return f1_score(y, estimator.predict(X), average="macro")


def micro_f1(estimator, X, y):
    from sklearn.metrics import f1_score

    return f1_score(y, estimator.predict(X), average="micro")


def test_resume_refuses_another_scoring_callable(blobs, tmp_path):
    from sklearn.metrics import f1_score, make_scorer

    settings = {**FULL, "checkpoint_dir": tmp_path}
    EvolutionaryNASClassifier(**{**settings, "n_generations": 1}, scoring=macro_f1).fit(*blobs)
    for other in (micro_f1, lambda est, X, y: 0.5, make_scorer(f1_score, average="macro")):
        with pytest.raises(CheckpointError, match="scoring"):
            EvolutionaryNASClassifier(**settings, scoring=other, warm_start=True).fit(*blobs)
    EvolutionaryNASClassifier(**settings, scoring=macro_f1, warm_start=True).fit(*blobs)


def test_describe_value_tells_objects_apart_and_keeps_plain_values():
    from sklearn.metrics import f1_score, make_scorer

    # plain values as before: existing checkpoints of plain settings still resume
    plain = {"a": [1, 2.5, "x", None, True], "b": (3,)}
    assert describe_value(plain) == {"a": [1, 2.5, "x", None, True], "b": [3]}
    assert describe_value(np.float32(30)) == 30.0 and describe_value(np.int64(5)) == 5
    assert json.dumps(describe_value(np.bool_(True))) == "true"

    def differ(a, b):
        return json.dumps(describe_value(a)) != json.dumps(describe_value(b))

    assert differ(lambda y: y + 1, lambda y: y + 2)
    assert differ(lambda y: min(y), lambda y: max(y))
    assert differ(make_scorer(f1_score, average="macro"), make_scorer(f1_score, average="micro"))
    assert differ(LRScheduler(gamma=0.5), LRScheduler(gamma=0.9))
    assert differ(np.ones(3), np.zeros(3))
    assert not differ(LRScheduler(gamma=0.5), LRScheduler(gamma=0.5))
    assert not differ(
        make_scorer(f1_score, average="macro"), make_scorer(f1_score, average="macro")
    )


DESCRIBE = """
import json
from skevonas.store.resume import describe_value
def score(estimator, X, y):
    return float(str(y) in {"a", "b", "c", "d"})
print(json.dumps(describe_value({"s": score, "t": {"x", "y", "z"}})))
"""


def test_describe_value_is_the_same_in_every_process():
    outputs = {
        subprocess.run(
            [sys.executable, "-c", DESCRIBE],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


# ----------------------------------------------------------------- 9: the random generator
@pytest.mark.parametrize("name", ["seed", "default_rng", "get_state", "RandomState", 3])
def test_a_crafted_bit_generator_name_calls_nothing(blobs, checkpointed, name):
    folder, settings = checkpointed
    rewrite(folder / "search.json", lambda d: d["rng"].update(bit_generator=name))
    # the global generator, which np.random.seed() would reseed: read, never set
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    with pytest.raises(CheckpointError) as info:
        EvolutionaryNASClassifier(**settings).fit(*blobs)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    assert "random generator must be one of ['MT19937', 'PCG64'" in str(info.value)


# ----------------------------------------------------------------- 10: validate all
def _huge(data):
    record = data["records"][data["population"][0]]
    record["genome"]["layers"][0]["params"]["units"] = 200_000
    record["score"] = 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_huge, r"record \d+: its genome \w+ lies outside the search space 'mlp'"),
        (lambda d: d["records"][0].update(score=float("inf")), r"record 0 \(\w+\): score must"),
        (lambda d: d["records"][0].update(score="1.0"), r"record 0 \(\w+\): score must be"),
        (lambda d: d["records"][1].update(status="great"), r"record 1 \(\w+\): its status"),
        (lambda d: d["records"][1].update(generation=5), r"record 1 \(\w+\): its generation 5"),
        (lambda d: d["records"][2].update(index=7), r"record 2 \(\w+\): its index is 7"),
        (lambda d: d["records"][0]["info"].update(best_epoch=10**9), "best_epoch must be an int"),
        (lambda d: d["records"][0].update(info=[1]), "its result must be a JSON object"),
        (lambda d: d["records"][0].update(parents=[{"x": 1}]), "parents must be a list of keys"),
        (lambda d: d["records"].append(d["records"][0]), r"record 4 \(\w+\): its index is 0"),
        (lambda d: d.update(population=[99]), "population index must be an int"),
        (lambda d: d.update(generation=3), "generation must be an int in"),
        (lambda d: d["history"][0].update(generation=2), "history row 0 is for generation 2"),
        (lambda d: d["history"][0].update(best="x"), "history row 0's best must be"),
        (lambda d: d["history"][0].pop("elapsed"), "history row 0 has no elapsed"),
        (lambda d: d.update(elapsed=-1), "elapsed must be >= 0"),
        (lambda d: d.update(space_name="cnn1d"), "search space 'cnn1d', not 'mlp'"),
        (lambda d: d["meta"].pop("entropy"), "no root seed"),
        (lambda d: d["meta"].update(entropy="x"), "no root seed"),
        (lambda d: d["meta"].pop("settings"), "no settings"),
        (lambda d: d.update(meta=[]), "meta must be a JSON object"),
        (lambda d: d.pop("history"), "damaged: no 'history'"),
        (lambda d: d.update(rng=None), "no random generator state"),
        (lambda d: d["rng"].update(state="x"), "PCG64 state cannot be restored"),
    ],
)
def test_a_crafted_checkpoint_is_refused_naming_what_is_wrong(blobs, checkpointed, change, message):
    folder, settings = checkpointed
    rewrite(folder / "search.json", change)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=message):
        EvolutionaryNASClassifier(**settings).fit(*blobs)
    assert time.perf_counter() - start < 5  # refused before anything is trained or refitted


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda line: line["genome"]["layers"][0]["params"].update(units=200_000),
            "its genome .* lies outside the search space 'mlp'",
        ),
        (lambda line: line["result"].update(score=math.inf), "score must be"),
        (lambda line: line["result"].update(status="won"), "status must be one of"),
        (lambda line: line["result"].update(epochs=10**9), "epochs must be an int in"),
        (lambda line: line.update(generation=-1), "generation must be an int"),
        (lambda line: line.update(result="ok"), "result must be a JSON object"),
        (lambda line: line["result"].pop("score"), "has no score"),
        (lambda line: line.update(kind="rung"), "kind 'rung' and budget None disagree"),
        (lambda line: line.update(genome={"family": 3}), "genome cannot be read"),
    ],
)
def test_a_crafted_journal_line_is_refused_naming_its_line(blobs, tmp_path, change, message):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**FULL, checkpoint_dir=tmp_path, callbacks=[Crash(1)])
    with pytest.raises(RuntimeError, match="simulated crash"):
        clf.fit(X, y)
    journal = tmp_path / "evaluations.jsonl"
    lines = journal.read_text().splitlines()
    line = json.loads(lines[-1])
    line["result"]["score"] = 1.0
    change(line)
    journal.write_text("\n".join([*lines[:-1], json.dumps(line)]) + "\n")
    resumed = EvolutionaryNASClassifier(**FULL, checkpoint_dir=tmp_path, warm_start=True)
    with pytest.raises(CheckpointError, match=rf"line {len(lines)} of the journal .*{message}"):
        resumed.fit(X, y)


# ----------------------------------------------------------------- 14: damaged journal
def test_a_cut_last_line_does_not_swallow_the_next_result(tmp_path):
    space = mlp_space().bind((4,))
    a, b = (space.sample(np.random.default_rng(seed)) for seed in (0, 1))
    append_result(tmp_path, 0, a, {"score": 0.5, "status": "ok"})
    with open(tmp_path / "evaluations.jsonl", "a") as f:
        f.write('{"generation": 0, "key": "cut sho')  # a crash in the middle of a write
    append_result(tmp_path, 0, b, {"score": 0.75, "status": "ok"})
    assert load_journal(tmp_path) == {
        a.key(): {"score": 0.5, "status": "ok"},
        b.key(): {"score": 0.75, "status": "ok"},
    }


def test_binary_garbage_in_the_journal_is_skipped(tmp_path, caplog):
    space = mlp_space().bind((4,))
    a, b = (space.sample(np.random.default_rng(seed)) for seed in (0, 1))
    append_result(tmp_path, 0, a, {"score": 0.5})
    with open(tmp_path / "evaluations.jsonl", "ab") as f:
        f.write(os.urandom(64).replace(b"\n", b"") + b"\xff\xfe\x00garbage")
    assert load_journal(tmp_path) == {a.key(): {"score": 0.5}}
    from skevonas.store.journal import read_journal

    assert read_journal(tmp_path, None, space=space)[0].genome == a
    append_result(tmp_path, 0, b, {"score": 0.75})
    assert set(load_journal(tmp_path)) == {a.key(), b.key()}
    assert "skipping line 2" in caplog.text


def test_a_search_resumes_after_garbage_and_a_cut_line_in_its_journal(blobs, tmp_path, full_search):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**FULL, checkpoint_dir=tmp_path, callbacks=[Crash(2)])
    with pytest.raises(RuntimeError, match="simulated crash"):
        clf.fit(X, y)
    with open(tmp_path / "evaluations.jsonl", "ab") as f:
        f.write(b"\x80\x81 not a line\n" + b'{"generation": 1, "ke')
    resumed = EvolutionaryNASClassifier(**FULL, checkpoint_dir=tmp_path, warm_start=True)
    assert summary(resumed.fit(X, y), X) == full_search


# ----------------------------------------------------------------- 15: leftovers, NumPy
def test_stale_temporary_files_are_removed(blobs, tmp_path):
    for name in (".search.json.abc123.tmp", ".search.json.def456.tmp"):
        (tmp_path / name).write_text("{half a check")
    (tmp_path / "notes.search.json.tmp").write_text("not ours")
    EvolutionaryNASClassifier(**FULL, checkpoint_dir=tmp_path).fit(*blobs)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "evaluations.jsonl",
        "notes.search.json.tmp",
        "search.json",
    ]


def test_numpy_scalar_settings_work_with_a_checkpoint(blobs, tmp_path):
    settings = {
        **FULL,
        "candidate_time_limit": np.float32(30),
        "max_epochs": np.int64(2),
        "validation_fraction": np.float64(0.2),
        "checkpoint_dir": tmp_path,
    }
    EvolutionaryNASClassifier(**{**settings, "n_generations": 1}).fit(*blobs)
    saved = json.loads((tmp_path / "search.json").read_text())["meta"]
    assert saved["settings"]["candidate_time_limit"] == 30.0
    assert saved["params"]["max_epochs"] == 2
    clf = EvolutionaryNASClassifier(**settings, warm_start=True).fit(*blobs)
    assert len(clf.history_) == 2
    # plain numbers are the same setting
    plain = {**settings, "candidate_time_limit": 30, "max_epochs": 2, "n_generations": 3}
    assert len(EvolutionaryNASClassifier(**plain, warm_start=True).fit(*blobs).history_) == 3


def test_a_state_saved_by_a_toy_search_round_trips_checked(tmp_path):
    # load_checkpoint with the space accepts what save_checkpoint wrote
    space = mlp_space().bind((4,))

    def train(ticket, snapshot):
        return {"score": np.float64(ticket.genome.n_layers / 4), "epochs": np.int64(1)}

    state = evolve(space, SerialRunner(train), GASettings(4, 2), rng=np.random.default_rng(0))
    save_checkpoint(tmp_path, state)
    loaded = load_checkpoint(tmp_path, space, max_epochs=1)
    assert [r.key for r in loaded.records] == [r.key for r in state.records]
