"""strategy="asynchronous" in the estimator: workers, resume, settings; TaskStream backends."""

from __future__ import annotations

import math
import os
import pickle
import signal

import joblib
import numpy as np
import pytest

from skevonas import EvolutionaryNASClassifier, SearchCallback
from skevonas.search.pool import TaskStream
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


def test_an_asynchronous_search_on_threads(blobs):
    with joblib.parallel_backend("threading", n_jobs=2):
        clf = EvolutionaryNASClassifier(**ASYNC, n_jobs=2).fit(*blobs)
    assert len(clf.evaluations_) == 8


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


# --------------------------------------------------------------------------- TaskStream
def _square(i: int) -> dict:
    return {"score": float(i * i)}


def _die_on(i: int) -> dict:
    if i in (2, 5):  # these always take their worker down with them
        os.kill(os.getpid(), signal.SIGKILL)
    return {"score": float(i)}


@pytest.mark.parametrize("backend", ["sequential", "threading", "loky"])
def test_a_stream_returns_every_result_once(backend):
    with joblib.parallel_backend(backend), TaskStream(2) as stream:
        for i in range(6):
            stream.submit(i, _square, i)
        results = dict(stream.next() for _ in range(6))
        with pytest.raises(RuntimeError, match="no task"):
            stream.next()
    assert results == {i: {"score": float(i * i)} for i in range(6)}


def test_a_stream_survives_dead_workers():
    with TaskStream(2) as stream:
        for i in range(7):
            stream.submit(i, _die_on, i)
        results = dict(stream.next() for _ in range(7))
    assert {i: r["score"] for i, r in results.items() if i not in (2, 5)} == {
        i: float(i) for i in (0, 1, 3, 4, 6)
    }
    for i in (2, 5):
        assert results[i]["status"] == "failed" and math.isnan(results[i]["score"])
        assert "died 2 times" in results[i]["error"]


def test_a_stream_refuses_an_unknown_backend():
    class Custom(joblib.parallel.ParallelBackendBase):
        def effective_n_jobs(self, n_jobs):
            return 2

        def apply_async(self, func, callback=None):  # pragma: no cover - never called
            raise NotImplementedError

    joblib.register_parallel_backend("custom-test", Custom)
    with joblib.parallel_backend("custom-test"), pytest.raises(ValueError, match="Custom"):
        TaskStream(2)


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
