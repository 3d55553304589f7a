"""Time budgets, and candidates or workers that fail: the search goes on."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skevonas import EvolutionaryNASClassifier, Genome, LayerGene, SearchFailedError
from skevonas.training.candidate import CandidateData, evaluate_candidate
from skevonas.training.recipe import Recipe
from skevonas.training.runtime import CosineSchedule


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


class SlowEpochsLr(Callback):
    """Makes each epoch take ``seconds`` and records the learning rate it trained with."""

    def __init__(self, seconds):
        self.seconds = seconds

    def initialize(self):
        self.lrs = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.lrs.append(net.optimizer_.param_groups[0]["lr"])

    def on_epoch_end(self, net, **kwargs):
        time.sleep(self.seconds)


def _timed_candidate(deadline=None, time_limit=None, deadline_file=None, seconds=0.2):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})], {"lr": 0.01})
    log = SlowEpochsLr(seconds)
    recipe = Recipe(max_epochs=200, time_limit=time_limit, net_params={"callbacks": [log]})
    data = CandidateData(X[:40], y[:40], X[40:], y[40:], n_classes=2)
    result = evaluate_candidate(
        genome, data, recipe, seed=0, deadline=deadline, deadline_file=deadline_file
    )
    return result, log.lrs


@pytest.mark.parametrize("limit", ["time_limit", "deadline", "deadline_file"])
def test_a_candidate_that_a_limit_cuts_anneals_its_learning_rate_in_time(limit, tmp_path):
    # 200 epochs of 0.2 s would take 40 s; the limit ends the training after
    # about 2 s, and the cosine schedule is laid over the epochs that fit
    # instead: the last epoch trains near the end of the anneal, not at
    # 99.9 % of the genome's lr, where 200 epochs' schedule still is.
    end = time.time() + 2.0
    path = tmp_path / "deadline"
    path.write_text(repr(end))
    kwargs = {
        "time_limit": {"time_limit": 2.0},
        "deadline": {"deadline": end},
        "deadline_file": {"deadline_file": str(path)},
    }[limit]
    result, lrs = _timed_candidate(**kwargs)
    assert result["status"] == "ok" and result["stopped_by"] == "time limit"
    assert 3 <= len(lrs) == result["epochs"] < 50
    assert lrs[0] == pytest.approx(0.01)
    assert all(later <= earlier for earlier, later in zip(lrs, lrs[1:], strict=False))
    assert lrs[-1] < 0.5 * 0.01


def test_a_deadline_that_leaves_time_for_the_schedule_changes_nothing():
    result, lrs = _timed_candidate(deadline=time.time() + 3600, seconds=0.0)
    assert result["stopped_by"] == "max_epochs" and len(lrs) == 200
    assert lrs == pytest.approx([0.01 * CosineSchedule(200).factor(e) for e in range(200)])


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
