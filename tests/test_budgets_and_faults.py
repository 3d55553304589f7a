"""Time budgets, and candidates or workers that fail: the search goes on."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skevonas import EvolutionaryNASClassifier, SearchFailedError


@pytest.mark.filterwarnings("ignore:max_time was up during the refit")
@pytest.mark.filterwarnings("ignore:max_time leaves:RuntimeWarning")  # no time to refit: said
def test_max_time_returns_the_best_so_far(blobs, fast):
    X, y = blobs
    clf = EvolutionaryNASClassifier(
        **{**fast, "n_generations": 1000, "max_epochs": 10_000, "patience": 10_000},
        max_time=3,
    )
    start = time.perf_counter()
    clf.fit(X, y)
    total = time.perf_counter() - start
    # the search's reason, then (when the time left cannot afford the refit)
    # that the final model is the best candidate as the search trained it
    assert clf.stop_reason_.startswith("max_time of 3 s reached")
    assert clf.history_[-1]["stop_reason"] == "max_time of 3 s reached"
    # Unbudgeted, this search would run for hours. Candidates stop at their
    # first epoch end past the limit (milliseconds here), and so does the
    # refit: max_time bounds the whole fit. The slack is for a loaded CI machine.
    assert clf.search_time_ < 3 + 5
    assert total < 3 + 5
    assert any(r["stopped_by"] == "time limit" for r in clf.evaluations_)
    assert clf.predict(X).shape == y.shape


def test_candidate_time_limit(blobs, fast):
    X, y = blobs
    clf = EvolutionaryNASClassifier(
        **{**fast, "max_epochs": 100_000, "patience": 100_000}, candidate_time_limit=0.5
    ).fit(X, y)
    for record in clf.evaluations_:
        assert record["status"] == "ok"
        assert record["stopped_by"] == "time limit"
        assert record["fit_time"] < 0.5 + 5  # would run for hours without the limit
        assert np.isfinite(record["score"])


def test_history_says_why_the_search_stopped(blobs, fast):
    clf = EvolutionaryNASClassifier(**fast).fit(*blobs)
    assert clf.stop_reason_ == "completed 2 generations"
    assert [row["stop_reason"] for row in clf.history_] == [None, "completed 2 generations"]


# --------------------------------------------------------------------------- dead workers
class KillWorkerIfWide(Callback):
    """Kills the process training any network whose first layer has >= 128 units."""

    def on_train_begin(self, net, **kwargs):
        first = next(m for m in net.module_ if isinstance(m, torch.nn.Linear))
        if first.out_features >= 128:
            os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_worker_does_not_end_the_search(blobs, fast):
    X, y = blobs
    clf = EvolutionaryNASClassifier(
        **{**fast, "population_size": 6, "n_generations": 1},
        n_jobs=2,
        net_params={"callbacks": [KillWorkerIfWide()]},
    )
    with pytest.warns(RuntimeWarning, match="died 2 times"):
        clf.fit(X, y)
    failed = [r for r in clf.evaluations_ if r["status"] == "failed"]
    ok = [r for r in clf.evaluations_ if r["status"] == "ok"]
    assert failed and ok
    for record in failed:
        assert record["genome"]["layers"][0]["params"]["units"] >= 128
        assert "worker process" in record["error"]
    assert all(r["genome"]["layers"][0]["params"]["units"] < 128 for r in ok)
    assert clf.best_genome_.layers[0]["units"] < 128


def test_no_candidate_within_max_time_is_a_clear_error(blobs, fast):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**fast, max_time=1e-9)
    with pytest.raises(SearchFailedError, match="no candidate finished training"):
        clf.fit(X, y)


def test_budget_settings_are_checked(blobs):
    with pytest.raises(ValueError, match="max_time must be None or a number > 0, got -1"):
        EvolutionaryNASClassifier(max_time=-1).fit(*blobs)
    with pytest.raises(ValueError, match="candidate_time_limit must be None or a number > 0"):
        EvolutionaryNASClassifier(candidate_time_limit="1s").fit(*blobs)
