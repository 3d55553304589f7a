"""Watching and steering a search: progress, logging, tables, callbacks."""

from __future__ import annotations

import io
import logging
import math

import numpy as np
import pytest
from skorch.callbacks import Callback, LRScheduler

from skevonas import EvolutionaryNASClassifier
from skevonas.evolution import GASettings, SerialRunner, evolve
from skevonas.evolution.callbacks import (
    EarlyStopping,
    ProgressBar,
    SearchCallback,
    TargetScore,
    TimeBudget,
)
from skevonas.spaces.catalogue import mlp_space


def test_verbose_0_is_silent(blobs, fast, capfd):
    X, y = blobs
    EvolutionaryNASClassifier(**fast, verbose=0).fit(X, y)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_verbose_1_shows_a_progress_bar(blobs, fast, capfd):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**fast, verbose=1, max_time=600).fit(X, y)
    out, err = capfd.readouterr()
    assert out == ""
    # population 4 x 2 generations = 8 slots, all filled at the end
    assert "8/8" in err and "search done" in err
    assert f"trained={clf.n_evaluations_}" in err
    assert f"best={clf.best_score_:.4f}" in err and "left=" in err


def test_verbose_2_also_prints_a_line_per_generation(blobs, fast, capfd):
    X, y = blobs
    EvolutionaryNASClassifier(**fast, verbose=2).fit(X, y)
    out, err = capfd.readouterr()
    assert "gen   0" in out and "gen   1" in out and "Best validation score" in out
    assert "Search ended: completed 2 generations" in out
    assert "8/8" in err


def test_progress_bar_moves_with_each_candidate():
    stream = io.StringIO()
    bar = ProgressBar(file=stream)
    seen = []

    class Spy(SearchCallback):
        def on_evaluation_end(self, state, genome, result):
            seen.append(bar.bar_.n)

    def train(ticket, snapshot):
        return {"score": float(len(ticket.genome.layers))}

    space = mlp_space().bind((4,))
    evolve(
        space,
        SerialRunner(train),
        GASettings(5, 3, elite_size=1),
        rng=np.random.default_rng(0),
        callbacks=[bar, Spy()],
    )
    # the bar is updated before the spy hears of the same result
    assert seen[:5] == [1, 2, 3, 4, 5]
    assert bar.bar_.n == 15


def test_library_logs_through_logging(blobs, fast, caplog):
    X, y = blobs
    with caplog.at_level(logging.INFO, logger="skevonas"):
        EvolutionaryNASClassifier(**fast).fit(X, y)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("skevonas")]
    assert any(m.startswith("Plan: a generational search") and "n_jobs=" in m for m in messages)
    assert any(m.startswith("generation 1:") for m in messages)
    assert any(m.startswith("refitted") for m in messages)


def test_history_and_evaluations_load_into_pandas(blobs, fast):
    pd = pytest.importorskip("pandas")
    X, y = blobs
    clf = EvolutionaryNASClassifier(**{**fast, "n_generations": 3}).fit(X, y)
    history = pd.DataFrame(clf.history_)
    assert len(history) == 3
    for column in (
        "generation",
        "best",
        "mean",
        "std",
        "min",
        "best_so_far",
        "n_evaluated",
        "cache_hits",
        "n_failed",
        "seconds",
        "elapsed",
    ):
        assert column in history.columns
        if column not in ("generation", "n_evaluated", "cache_hits", "n_failed"):
            assert history[column].dtype == np.float64
    assert history["n_evaluated"].sum() == clf.n_evaluations_
    assert (history["best"] >= history["mean"]).all()
    assert (history["mean"] >= history["min"]).all()
    evaluations = pd.DataFrame(clf.evaluations_)
    assert len(evaluations) == clf.n_evaluations_
    for column in (
        "key",
        "architecture",
        "score",
        "epochs",
        "fit_time",
        "n_params",
        "generation",
        "parents",
        "status",
    ):
        assert column in evaluations.columns
    assert evaluations["key"].is_unique
    assert evaluations["score"].max() == pytest.approx(clf.best_score_)
    assert (evaluations["n_params"] > 0).all()
    later = evaluations[evaluations["generation"] > 0]
    known = set(evaluations["key"])
    assert all(set(parents) <= known for parents in later["parents"])


# --------------------------------------------------------------------------- stopping
def _toy(scores):
    """A runner whose best score per generation follows ``scores``."""

    def train(ticket, snapshot):  # tickets are numbered within their generation
        return {"score": scores[ticket.generation] - 0.01 * ticket.number}

    return SerialRunner(train)


def test_early_stopping_after_patience_generations_without_gain():
    space = mlp_space().bind((4,))
    state = evolve(
        space,
        _toy([0.5, 0.6, 0.6, 0.55, 0.6, 0.9, 0.9]),
        GASettings(4, 7, elite_size=1),
        rng=np.random.default_rng(0),
        callbacks=[EarlyStopping(patience=3)],
    )
    assert len(state.history) == 5  # best 0.6 at generation 1, then 3 without gain
    assert state.stop_reason == "no improvement of the best score for 3 generations"
    assert state.history[-1]["stop_reason"] == state.stop_reason


def test_early_stopping_min_delta():
    space = mlp_space().bind((4,))
    state = evolve(
        space,
        _toy([0.5, 0.51, 0.52, 0.53, 0.9]),
        GASettings(4, 5, elite_size=1),
        rng=np.random.default_rng(0),
        callbacks=[EarlyStopping(patience=2, min_delta=0.05)],
    )
    assert len(state.history) == 3


@pytest.mark.parametrize("bad", [0, 1.5, True])
def test_early_stopping_rejects_bad_patience(bad):
    with pytest.raises(ValueError, match=f"patience must be an int >= 1, got {bad!r}"):
        EarlyStopping(patience=bad)


def test_target_score_stops_the_search(blobs, fast):
    X, y = blobs
    clf = EvolutionaryNASClassifier(
        **{**fast, "n_generations": 10, "max_epochs": 5}, callbacks=[TargetScore(0.5)]
    ).fit(X, y)
    assert clf.stop_reason_ == "target score 0.5 reached"
    assert len(clf.history_) == 1 and clf.best_score_ >= 0.5


def test_a_callback_that_returns_true_stops_the_search():
    class StopAtSecond(SearchCallback):
        def on_generation_end(self, state):
            return state.generation == 1

    space = mlp_space().bind((4,))
    state = evolve(
        space,
        _toy([0.1] * 5),
        GASettings(4, 5, elite_size=1),
        rng=np.random.default_rng(0),
        callbacks=[StopAtSecond()],
    )
    assert len(state.history) == 2 and state.stop_reason == "stopped by StopAtSecond"


def test_time_budget_callback():
    space = mlp_space().bind((4,))
    state = evolve(
        space,
        _toy([0.1] * 5),
        GASettings(4, 5, elite_size=1),
        rng=np.random.default_rng(0),
        callbacks=[TimeBudget(0)],
    )
    assert len(state.history) == 1 and state.stop_reason == "max_time of 0 s reached"


def test_hooks_are_called_in_order_with_each_result():
    calls = []

    class Recorder(SearchCallback):
        def on_search_begin(self, state):
            calls.append("begin")

        def on_evaluation_end(self, state, genome, result):
            calls.append(("eval", state.generation, result["score"]))

        def on_generation_end(self, state):
            calls.append(("gen", state.generation, len(state.records)))

        def on_search_end(self, state):
            calls.append("end")

    class LastFirst(SerialRunner):
        """Finishes the last ticket submitted first, as parallel workers might."""

        def next_result(self):
            ticket, _ = self._queue.pop()
            return ticket.number, {"score": float(ticket.number)}

    space = mlp_space().bind((4,))
    state = evolve(
        space,
        LastFirst(None),
        GASettings(3, 2, elite_size=1),
        rng=np.random.default_rng(0),
        callbacks=[Recorder()],
    )
    assert calls[0] == "begin" and calls[-1] == "end"
    assert calls[1:4] == [("eval", 0, 2.0), ("eval", 0, 1.0), ("eval", 0, 0.0)]
    assert calls[4] == ("gen", 0, 3)
    # records are in batch order whatever the completion order
    assert [r.score for r in state.records[:3]] == [0.0, 1.0, 2.0]


def test_a_runner_answering_a_ticket_twice_is_an_error():
    class Twice(SerialRunner):
        def next_result(self):
            ticket, _ = self._queue[0]  # never taken off the queue
            return ticket.number, {"score": 1.0}

    space = mlp_space().bind((4,))
    with pytest.raises(RuntimeError, match="ticket 0, which is not in flight"):
        evolve(space, Twice(None), GASettings(3, 1), rng=np.random.default_rng(0))


# --------------------------------------------------------------------------- net_params
class LearningRates(Callback):
    """Record the learning rate of every epoch (in the worker's own copy)."""

    seen: list[list[float]] = []

    def on_train_begin(self, net, **kwargs):
        LearningRates.seen.append([])

    def on_epoch_begin(self, net, **kwargs):
        LearningRates.seen[-1].append(net.optimizer_.param_groups[0]["lr"])


def test_skorch_callbacks_reach_every_candidate_and_the_refit(blobs, fast):
    X, y = blobs
    LearningRates.seen = []
    scheduler = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    # a scheduler of the user's own replaces the built-in cosine schedule
    clf = EvolutionaryNASClassifier(
        **{**fast, "max_epochs": 3, "patience": 3},
        lr_schedule="constant",
        n_finalists=2,
        cv=2,
        ensemble_size=1,
        net_params={"callbacks": [scheduler, LearningRates()]},
    ).fit(X, y)
    # every candidate (n_jobs=1: same process), the 2 x 2 folds of the finalists, the refit
    assert len(LearningRates.seen) == clf.n_evaluations_ + 4 + 1
    for rates in LearningRates.seen[:-1]:
        assert len(rates) == 3  # patience = max_epochs: every candidate trains 3 epochs
    for rates in LearningRates.seen:
        for a, b in zip(rates, rates[1:], strict=False):
            assert b == pytest.approx(a * 0.5)
    lr = clf.best_genome_["lr"]
    assert LearningRates.seen[-1][0] == pytest.approx(lr)
    assert not math.isnan(clf.best_score_)
