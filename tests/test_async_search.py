"""strategy="asynchronous" in the estimator: workers, resume, settings; WorkerPool backends."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pytest

from skevonas import EvolutionaryNASClassifier, SearchCallback
from skevonas.store.checkpoint import JOURNAL_FILE, CheckpointError, iter_journal

ASYNC = {
    "population_size": 4,
    "n_generations": 3,
    "max_epochs": 3,
    "strategy": "asynchronous",
    "cv": None,
    "random_state": 0,
}


def summary(clf):
    return (
        [(r["key"], r["score"], r["status"], r["generation"]) for r in clf.evaluations_],
        [(h["best"], h["n_evaluated"]) for h in clf.history_],
        clf.best_genome_.key(),
        clf.best_score_,
    )


@pytest.fixture(scope="module")
def one_worker(blobs):
    return EvolutionaryNASClassifier(**ASYNC, n_jobs=1).fit(*blobs)


def test_an_asynchronous_search_fits_and_is_reproducible(blobs, one_worker):
    X, y = blobs
    clf = one_worker
    # as many as a generational search trains: 4, then 2 per generation (2 elites)
    assert len(clf.evaluations_) == 8 and [h["n_evaluated"] for h in clf.history_] == [4, 2, 2]
    assert clf.stop_reason_ == "completed 3 generations"
    assert clf.score(X, y) > 0.8
    again = EvolutionaryNASClassifier(**ASYNC, n_jobs=1).fit(X, y)
    assert summary(again) == summary(one_worker)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(copy.predict_proba(X), clf.predict_proba(X))


def test_an_asynchronous_search_on_two_worker_processes(blobs):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**{**ASYNC, "max_epochs": 4}, min_epochs=1, n_jobs=2)
    clf.fit(X, y)
    statuses = [r["status"] for r in clf.evaluations_]
    assert len(statuses) == 8 and "ok" in statuses and "partial" in statuses
    assert all(r["budget"] == 4 for r in clf.evaluations_ if r["status"] == "ok")
    assert clf.score(X, y) > 0.8


def test_an_asynchronous_search_on_threads(blobs, one_worker):
    from skevonas import Genome
    from skevonas.spaces.networks import build_module, count_parameters

    X, y = blobs
    with joblib.parallel_backend("threading", n_jobs=2):
        clf = EvolutionaryNASClassifier(**ASYNC, n_jobs=2).fit(X, y)
    records = clf.evaluations_
    keys = [r["key"] for r in records]
    # whatever order the threads finish in: 4, then 2 per generation, none trained twice
    assert len(set(keys)) == len(keys) == 8
    assert [h["n_evaluated"] for h in clf.history_] == [4, 2, 2]
    # the first population is drawn before any result arrives: the one-worker search's
    first = {r["key"] for r in one_worker.evaluations_ if not r["parents"]}
    assert len(first) == 4 and {r["key"] for r in records if not r["parents"]} == first
    # every result is its own genome's: the network that trained is the one it describes
    for r in records:
        genome = Genome.from_dict(r["genome"])
        assert genome.short_key() == r["key"]
        assert r["n_params"] == count_parameters(build_module(genome, X.shape[1:], 3))
    best = max(r["score"] for r in records if r["status"] == "ok")
    assert clf.best_score_ == best
    assert clf.best_genome_.short_key() in {r["key"] for r in records if r["score"] == best}


def test_a_bad_strategy_is_named(blobs):
    with pytest.raises(ValueError, match="strategy"):
        EvolutionaryNASClassifier(strategy="steady").fit(*blobs)


class Crash(Exception):
    pass


class CrashAt(SearchCallback):
    def __init__(self, at):
        self.at, self.seen = at, 0

    def on_evaluation_end(self, state, genome, result):
        self.seen += 1
        if self.seen == self.at:
            raise Crash


@pytest.mark.parametrize("at", [1, 6])
def test_a_crashed_asynchronous_search_resumes_from_its_journal(blobs, one_worker, tmp_path, at):
    X, y = blobs
    folder = tmp_path / "checkpoint"
    with pytest.raises(Crash):
        EvolutionaryNASClassifier(
            **ASYNC, n_jobs=1, checkpoint_dir=folder, callbacks=[CrashAt(at)]
        ).fit(X, y)
    before = [line for _, line in iter_journal(folder)]
    assert len(before) == at  # journaled before the loop saw it
    resumed = EvolutionaryNASClassifier(**ASYNC, n_jobs=1, checkpoint_dir=folder, warm_start=True)
    resumed.fit(X, y)
    assert summary(resumed) == summary(one_worker)
    lines = [line for _, line in iter_journal(folder)]
    assert lines[:at] == before  # kept, not trained again (fit times would differ)
    tickets = [line["ticket"] for line in lines]
    assert len(tickets) == len(set(tickets)) == 8  # none twice


def test_a_warm_start_goes_on_in_memory(blobs, one_worker):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**{**ASYNC, "n_generations": 2}, n_jobs=1).fit(X, y)
    clf.set_params(n_generations=3, warm_start=True).fit(X, y)
    assert summary(clf) == summary(one_worker)


def test_an_asynchronous_checkpoint_does_not_go_on_as_a_generational_search(blobs, tmp_path):
    X, y = blobs
    folder = tmp_path / "checkpoint"
    EvolutionaryNASClassifier(**ASYNC, n_jobs=1, checkpoint_dir=folder).fit(X, y)
    assert (folder / JOURNAL_FILE).exists()
    generational = {**ASYNC, "strategy": "generational"}
    with pytest.raises(CheckpointError, match="strategy"):
        EvolutionaryNASClassifier(
            **generational, n_jobs=1, checkpoint_dir=folder, warm_start=True
        ).fit(X, y)


KILLED = """
    import os, signal, sys
    import numpy as np
    from skevonas import EvolutionaryNASClassifier, SearchCallback

    class Kill(SearchCallback):
        # SIGKILL this process when the 5th result arrives (journaled already)
        seen = 0

        def on_evaluation_end(self, state, genome, result):
            Kill.seen += 1
            if Kill.seen == 5:
                os.kill(os.getpid(), signal.SIGKILL)

    data = np.load(sys.argv[1])
    EvolutionaryNASClassifier(
        **{settings}, n_jobs=1, checkpoint_dir=sys.argv[2], callbacks=[Kill()]
    ).fit(data["X"], data["y"])
"""


@pytest.mark.slow
def test_a_sigkilled_asynchronous_search_resumes_exactly(blobs, one_worker, killed_search):
    X, y = blobs
    folder = killed_search(KILLED, ASYNC, X, y)
    assert len(list(iter_journal(folder))) == 5
    resumed = EvolutionaryNASClassifier(**ASYNC, n_jobs=1, checkpoint_dir=folder, warm_start=True)
    resumed.fit(X, y)
    assert summary(resumed) == summary(one_worker)
    np.testing.assert_allclose(resumed.predict_proba(X), one_worker.predict_proba(X))
    tickets = [line["ticket"] for _, line in iter_journal(folder)]
    assert len(tickets) == len(set(tickets)) == 8  # nothing journaled was trained again
