"""Checkpoints: a search killed mid-generation resumes where it was, losing nothing."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import skevonas
from skevonas import EvolutionaryNASClassifier, Genome
from skevonas.evolution import GASettings, SerialRunner, evolve
from skevonas.spaces.catalogue import mlp_space
from skevonas.store.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_journal,
    save_checkpoint,
)

SETTINGS = {
    "population_size": 4,
    "n_generations": 4,
    "max_epochs": 3,
    "patience": 2,
    "random_state": 0,
}

KILLED_SEARCH = """
    import os, signal, sys
    import numpy as np
    from skevonas import EvolutionaryNASClassifier, SearchCallback

    class KillMidGeneration(SearchCallback):
        # SIGKILL this process after the 1st result of generation 2 arrived
        def on_evaluation_end(self, state, genome, result):
            if state.generation == 2:
                os.kill(os.getpid(), signal.SIGKILL)

    data = np.load(sys.argv[1])
    EvolutionaryNASClassifier(
        **{settings}, checkpoint_dir=sys.argv[2], callbacks=[KillMidGeneration()]
    ).fit(data["X"], data["y"])
"""


@pytest.fixture(scope="module")
def uninterrupted(blobs):
    X, y = blobs
    return EvolutionaryNASClassifier(**SETTINGS).fit(X, y)


def _summary(clf):
    return (
        [(r["key"], r["score"], r["generation"], r["parents"]) for r in clf.evaluations_],
        [(h["best"], h["mean"], h["std"], h["n_evaluated"], h["cache_hits"]) for h in clf.history_],
        clf.best_genome_.key(),
        clf.best_score_,
    )


@pytest.mark.slow
def test_a_search_killed_with_sigkill_resumes_without_retraining(
    blobs, uninterrupted, killed_search, caplog
):
    X, y = blobs
    folder = killed_search(KILLED_SEARCH, SETTINGS, X, y)

    # generations 0 and 1 are in the checkpoint; one result of generation 2 is journaled
    state = load_checkpoint(folder)
    assert state.generation == 1 and len(state.history) == 2
    done = {r.key for r in state.records}
    journal = load_journal(folder)
    extra = set(journal) - done
    assert len(extra) == 1

    resumed = EvolutionaryNASClassifier(**SETTINGS, checkpoint_dir=folder, warm_start=True)
    with caplog.at_level(logging.DEBUG, logger="skevonas"):
        resumed.fit(X, y)
    # the pipeline logs each candidate it sends to a worker, the replay each journaled one
    # it reuses
    short = {r["key"]: r["genome"] for r in resumed.evaluations_}
    sent = [m.split(":")[0] for m in caplog.messages if ": training up to" in m]
    reused = [m.split(":")[0] for m in caplog.messages if "journaled before" in m]
    trained = [Genome.from_dict(short[key]).key() for key in sent]

    # no finished evaluation was trained again...
    assert [Genome.from_dict(short[key]).key() for key in reused] == list(extra)
    assert trained and not (set(trained) & (done | extra))
    assert len(trained) == len(set(trained))
    assert resumed.n_evaluations_ == len(done) + len(extra) + len(trained)
    # ...generation numbering and history went on...
    assert [h["generation"] for h in resumed.history_] == [0, 1, 2, 3]
    # ...and the result equals the uninterrupted search's
    assert _summary(resumed) == _summary(uninterrupted)
    np.testing.assert_allclose(resumed.predict_proba(X), uninterrupted.predict_proba(X))
    assert load_checkpoint(folder).generation == 3


HALVING = {**SETTINGS, "population_size": 6, "n_generations": 3, "max_epochs": 4}
HALVING.update(min_epochs=1, halving_factor=2)

KILLED_HALVING_SEARCH = """
    import hashlib, json, os, signal, sys
    import numpy as np
    from skorch.callbacks import Callback
    from skevonas import EvolutionaryNASClassifier

    STARTED = [0]

    class KillAt(Callback):
        # SIGKILL this process as the at-th training of a candidate (or rung) begins,
        # when KILL is set; otherwise nothing.
        def __init__(self, at=0):
            self.at = at

        def on_train_begin(self, net, **kwargs):
            STARTED[0] += 1
            if os.environ.get("KILL") and STARTED[0] == self.at:
                os.kill(os.getpid(), signal.SIGKILL)

    data = np.load(sys.argv[1])
    clf = EvolutionaryNASClassifier(
        **{settings}, net_params={"callbacks": [KillAt(int(sys.argv[3]))]},
        checkpoint_dir=sys.argv[2], warm_start=not os.environ.get("KILL"),
    ).fit(data["X"], data["y"])
    clock = {"fit_time", "seconds", "elapsed"}
    proba = np.ascontiguousarray(clf.predict_proba(data["X"]))
    print(json.dumps([
        [{k: v for k, v in e.items() if k not in clock} for e in clf.evaluations_],
        [{k: v for k, v in h.items() if k not in clock} for h in clf.history_],
        clf.best_genome_.key(), clf.best_score_, hashlib.sha256(proba.tobytes()).hexdigest(),
    ]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("at", [16, 18])  # generation 1: as rung 1 begins; in its last rung
def test_a_halving_search_killed_with_sigkill_resumes_to_the_same_search(blobs, tmp_path, at):
    X, y = blobs
    np.savez(tmp_path / "data.npz", X=X, y=y)
    folder = tmp_path / "checkpoint"
    script = textwrap.dedent(KILLED_HALVING_SEARCH).replace("{settings}", repr(HALVING))

    def run(**env):
        return subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "data.npz"), str(folder), str(at)],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": str(Path(skevonas.__file__).parents[1]), **env},
        )

    killed = run(KILL="1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert load_checkpoint(folder).generation == 0
    lines = [json.loads(line) for line in (folder / "evaluations.jsonl").read_text().splitlines()]
    assert any(line["generation"] == 1 and line.get("budget") for line in lines)  # a rung
    resumed = run()
    assert resumed.returncode == 0, resumed.stderr
    clf = EvolutionaryNASClassifier(**HALVING).fit(X, y)
    proba = np.ascontiguousarray(clf.predict_proba(X))
    clock = {"fit_time", "seconds", "elapsed"}
    expected = [
        [{k: v for k, v in e.items() if k not in clock} for e in clf.evaluations_],
        [{k: v for k, v in h.items() if k not in clock} for h in clf.history_],
        clf.best_genome_.key(),
        clf.best_score_,
        hashlib.sha256(proba.tobytes()).hexdigest(),
    ]
    assert json.loads(resumed.stdout) == json.loads(json.dumps(expected))


def test_warm_start_continues_an_in_memory_search(blobs, uninterrupted):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**{**SETTINGS, "n_generations": 2}).fit(X, y)
    first = {r["key"] for r in clf.evaluations_}
    clf.set_params(n_generations=4, warm_start=True).fit(X, y)
    assert {r["key"] for r in clf.evaluations_ if r["generation"] < 2} == first
    assert _summary(clf) == _summary(uninterrupted)
    # and warm_start with n_generations already reached only refits
    n = clf.n_evaluations_
    clf.fit(X, y)
    assert clf.n_evaluations_ == n and len(clf.history_) == 4


def test_checkpointed_search_resumed_after_it_finished(blobs, uninterrupted, tmp_path):
    X, y = blobs
    EvolutionaryNASClassifier(**{**SETTINGS, "n_generations": 1}, checkpoint_dir=tmp_path).fit(X, y)
    resumed = EvolutionaryNASClassifier(**SETTINGS, checkpoint_dir=tmp_path, warm_start=True)
    assert _summary(resumed.fit(X, y)) == _summary(uninterrupted)


def test_checkpoint_files_are_json_without_pickle(blobs, tmp_path):
    X, y = blobs
    clf = EvolutionaryNASClassifier(
        **{**SETTINGS, "n_generations": 2}, checkpoint_dir=tmp_path
    ).fit(X, y)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evaluations.jsonl", "search.json"]
    data = json.loads((tmp_path / "search.json").read_text())
    assert data["format"] == "skevonas-search-checkpoint"
    assert data["generation"] == 1
    assert len(data["records"]) == clf.n_evaluations_
    assert data["history"][-1]["best_so_far"] == clf.best_score_
    assert data["rng"]["bit_generator"] == "PCG64"
    assert data["meta"]["params"]["n_generations"] == 2
    assert data["meta"]["settings"]["population_size"] == 4
    assert len(data["meta"]["data"]["sha256"]) == 64
    lines = (tmp_path / "evaluations.jsonl").read_text().splitlines()
    assert len(lines) == clf.n_evaluations_
    assert {json.loads(line)["key"] for line in lines} == {r.key for r in clf.search_state_.records}


def test_a_new_fit_clears_the_old_checkpoint(blobs, tmp_path):
    X, y = blobs
    EvolutionaryNASClassifier(**{**SETTINGS, "n_generations": 2}, checkpoint_dir=tmp_path).fit(X, y)
    clf = EvolutionaryNASClassifier(
        **{**SETTINGS, "n_generations": 1, "random_state": 1}, checkpoint_dir=tmp_path
    ).fit(X, y)
    assert load_checkpoint(tmp_path).generation == 0
    assert set(load_journal(tmp_path)) == {r.key for r in clf.search_state_.records}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"population_size": 5}, "population_size=4 there, 5 here"),
        ({"max_epochs": 4}, "max_epochs=3 there, 4 here"),
        ({"random_state": 1}, "random_state=0 there, 1 here"),
        ({"search_space": "cnn1d"}, None),
    ],
)
def test_resuming_with_incompatible_settings_is_a_clear_error(blobs, tmp_path, change, message):
    X, y = blobs
    EvolutionaryNASClassifier(**{**SETTINGS, "n_generations": 1}, checkpoint_dir=tmp_path).fit(X, y)
    clf = EvolutionaryNASClassifier(
        **{**SETTINGS, **change}, checkpoint_dir=tmp_path, warm_start=True
    )
    if message is None:  # a space that does not fit the data fails before the checkpoint
        with pytest.raises(ValueError):
            clf.fit(X, y)
        return
    with pytest.raises(CheckpointError, match="cannot continue the search") as info:
        clf.fit(X, y)
    assert message in str(info.value)


def test_resuming_on_other_data_is_a_clear_error(blobs, tmp_path):
    X, y = blobs
    EvolutionaryNASClassifier(**{**SETTINGS, "n_generations": 1}, checkpoint_dir=tmp_path).fit(X, y)
    clf = EvolutionaryNASClassifier(**SETTINGS, checkpoint_dir=tmp_path, warm_start=True)
    with pytest.raises(CheckpointError, match="data values differ"):
        clf.fit(X + 1, y)
    with pytest.raises(CheckpointError, match=r"data shape \[90, 4\] there, \[60, 4\] here"):
        clf.fit(X[:60], y[:60])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot be read"),
        ('{"format": "something else"}', "is not a skevonas search checkpoint"),
        ('{"format": "skevonas-search-checkpoint", "version": 99}', "format version 99"),
        ('{"format": "skevonas-search-checkpoint", "version": 1}', "is damaged"),
    ],
)
def test_a_corrupt_checkpoint_is_a_clear_error(blobs, tmp_path, content, message):
    X, y = blobs
    (tmp_path / "search.json").write_text(content)
    clf = EvolutionaryNASClassifier(**SETTINGS, checkpoint_dir=tmp_path, warm_start=True)
    with pytest.raises(CheckpointError, match=message):
        clf.fit(X, y)


def test_a_truncated_journal_line_is_skipped(tmp_path, caplog):
    space = mlp_space().bind((4,))
    genome = space.sample(np.random.default_rng(0))
    from skevonas.store.checkpoint import append_result

    append_result(tmp_path, 0, genome, {"score": 0.5, "status": "ok"})
    with open(tmp_path / "evaluations.jsonl", "a") as f:
        f.write('{"generation": 0, "key": "cut sho')
    assert load_journal(tmp_path) == {genome.key(): {"score": 0.5, "status": "ok"}}
    assert "skipping line 2" in caplog.text


def test_state_round_trips_through_a_checkpoint(tmp_path):
    space = mlp_space().bind((4,))

    def train(ticket, snapshot):
        return {"score": ticket.genome.n_layers / 4, "status": "ok", "epochs": 1}

    def runner():
        return SerialRunner(train)

    saved = []
    full = evolve(space, runner(), GASettings(5, 4), rng=np.random.default_rng(3))
    evolve(
        space,
        runner(),
        GASettings(5, 2),
        rng=np.random.default_rng(3),
        checkpoint=lambda s: saved.append(save_checkpoint(tmp_path, s)),
    )
    assert len(saved) == 3  # at the start, and after each of the 2 generations
    resumed = evolve(space, runner(), GASettings(5, 4), resume=load_checkpoint(tmp_path))
    assert [(r.key, r.score, r.parents) for r in resumed.records] == [
        (r.key, r.score, r.parents) for r in full.records
    ]
    assert resumed.best.key == full.best.key


def test_a_checkpoint_saved_before_the_first_generation_resumes(tmp_path):
    space = mlp_space().bind((4,))

    def train(ticket, snapshot):
        return {"score": ticket.genome.n_layers / 4}

    full = evolve(space, SerialRunner(train), GASettings(4, 2), rng=np.random.default_rng(5))

    class Crash(Exception):
        pass

    def crash(ticket, snapshot):
        raise Crash

    with pytest.raises(Crash):
        evolve(
            space,
            SerialRunner(crash),
            GASettings(4, 2),
            rng=np.random.default_rng(5),
            checkpoint=lambda s: save_checkpoint(tmp_path, s),
        )
    state = load_checkpoint(tmp_path)
    assert state.generation == -1
    resumed = evolve(space, SerialRunner(train), GASettings(4, 2), resume=state)
    assert [r.key for r in resumed.records] == [r.key for r in full.records]
