"""Fidelity in data: a candidate's lowest rung of epochs trains on a share of its training part."""

from __future__ import annotations

import numpy as np
import pytest

from skevonas import EvolutionaryNASClassifier, Genome, LayerGene
from skevonas.cli.parser import build_parser
from skevonas.evolution import Fidelity, train_generation
from skevonas.search import CandidatePipeline
from skevonas.settings import low_data
from skevonas.store.checkpoint import CheckpointError
from skevonas.training.candidate import CandidateData, evaluate_candidate
from skevonas.training.recipe import Recipe

RNG = np.random.default_rng(0)
X = RNG.normal(size=(200, 6)).astype(np.float32)
Y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
DATA = CandidateData(X[:160], Y[:160], X[160:], Y[160:], n_classes=2)
GENOME = Genome(
    "mlp",
    [LayerGene("dense", {"units": 16, "activation": "relu"})],
    {"optimizer": "adam", "lr": 0.01, "batch_size": 16},
)


def train(**kwargs) -> dict:
    return evaluate_candidate(GENOME, DATA, Recipe(max_epochs=6), seed=3, **kwargs)


# --------------------------------------------------------------------------- the rows
def test_the_rows_are_a_stratified_share_drawn_from_the_seed_alone():
    rows = DATA.train_rows(0.25, seed=5)
    assert len(rows) == pytest.approx(40, abs=2) and np.all(np.diff(rows) > 0)
    counts, whole = np.bincount(DATA.y_train[rows]), np.bincount(DATA.y_train)
    np.testing.assert_allclose(counts / len(rows), whole / len(DATA.y_train), atol=0.03)
    np.testing.assert_array_equal(rows, DATA.train_rows(0.25, seed=5))
    assert not np.array_equal(rows, DATA.train_rows(0.25, seed=6))
    tiny = CandidateData(X[:10], np.array([0] * 9 + [1]), X[10:12], Y[10:12], n_classes=2)
    assert set(tiny.y_train[tiny.train_rows(0.1, seed=0)]) == {0, 1}  # every class kept


# --------------------------------------------------------------------------- one candidate
def test_the_first_epochs_train_on_the_share_and_the_rest_on_everything(monkeypatch):
    from skevonas.training import net as net_module

    seen: list[int] = []
    original = net_module.SearchNet._low_fidelity

    def spy(self, iterator):
        chosen = original(self, iterator)
        seen.append(len(chosen.dataset))  # the samples this training epoch iterates over
        return chosen

    monkeypatch.setattr(net_module.SearchNet, "_low_fidelity", spy)
    low = train(low_data=(3, 0.25))
    assert low["status"] == "ok" and low["epochs"] == 6
    n_low = len(DATA.train_rows(0.25, seed=3))
    assert seen == [n_low] * 3 + [160] * 3
    seen.clear()
    whole = train(low_data=(3, 1.0))  # a share of 1 is all the data
    assert seen == [160] * 6
    assert whole["curves"] == train()["curves"]


def test_going_on_from_a_snapshot_follows_the_same_schedule():
    once = train(low_data=(3, 0.25))
    for first in (2, 3, 4):  # the rung ends inside, at or after the low epochs
        step = train(low_data=(3, 0.25), epochs=first, keep_snapshot=True)
        rest = train(low_data=(3, 0.25), epochs=6, snapshot=step["snapshot"])
        assert rest["curves"] == once["curves"], first
    assert once["curves"] != train()["curves"]


# --------------------------------------------------------------------------- the pipeline
def test_loop_tickets_carry_the_low_data_and_the_finalists_folds_do_not():
    tasks = []

    def record(task, data):
        tasks.append(task)
        n_valid = len(data.resplit(task.split).y_valid) if task.split is not None else 0
        proba = np.full((n_valid, 2), 0.5)
        result = {"score": 0.5, "status": "ok", "epochs": task.epochs, "stopped_by": "max_epochs"}
        return {**result, "valid_proba": proba} if task.return_proba else result

    with CandidatePipeline(
        DATA, Recipe(max_epochs=9), entropy=0, worker=record, low_data=(1, 0.5)
    ) as run:
        dict(train_generation(run, Fidelity((1, 3, 9), 3), [(GENOME, ())], 0))
        assert [t.low_data for t in tasks] == [(1, 0.5)]
        tasks.clear()
        run.cross_validate([GENOME], 2, seed=0)
    assert tasks and all(t.low_data is None for t in tasks)


# --------------------------------------------------------------------------- the estimator
def test_the_setting_means_the_lowest_rung_and_nothing_without_halving():
    assert low_data(EvolutionaryNASClassifier(min_data_fraction=0.3)) == (11, 0.3)
    assert low_data(
        EvolutionaryNASClassifier(max_epochs=9, min_epochs=1, min_data_fraction=0.3)
    ) == (1, 0.3)
    assert low_data(EvolutionaryNASClassifier(min_data_fraction=1.0)) is None
    assert low_data(EvolutionaryNASClassifier(min_epochs=None, min_data_fraction=0.3)) is None
    assert low_data(EvolutionaryNASClassifier(min_epochs=100, min_data_fraction=0.3)) is None


@pytest.mark.parametrize("value", [0, 0.0, 1.5, -0.1, "half", None, True, float("nan")])
def test_min_data_fraction_must_be_a_share(blobs, value):
    with pytest.raises(ValueError, match=r"min_data_fraction must be a float in \(0, 1\], got"):
        EvolutionaryNASClassifier(min_data_fraction=value).fit(*blobs)


SMALL = {
    "population_size": 4,
    "n_generations": 2,
    "max_epochs": 6,
    "min_epochs": 2,  # rungs of 2 and 6 epochs
    "cv": None,
    "random_state": 0,
}


def test_a_search_with_low_data_differs_and_does_not_depend_on_n_jobs(blobs):
    def summary(clf):
        return [(r["key"], r["score"], r["status"]) for r in clf.evaluations_]

    low = {**SMALL, "min_data_fraction": 0.3}
    one = EvolutionaryNASClassifier(**low, n_jobs=1).fit(*blobs)
    two = EvolutionaryNASClassifier(**low, n_jobs=2).fit(*blobs)
    assert summary(one) == summary(two)
    np.testing.assert_array_equal(one.predict_proba(blobs[0]), two.predict_proba(blobs[0]))
    whole = EvolutionaryNASClassifier(**SMALL, n_jobs=1).fit(*blobs)
    assert summary(whole) != summary(one)


def test_a_checkpoint_goes_on_only_with_the_same_fraction(blobs, tmp_path):
    X_, y_ = blobs
    EvolutionaryNASClassifier(**SMALL, min_data_fraction=0.5, checkpoint_dir=tmp_path).fit(X_, y_)
    with pytest.raises(CheckpointError, match="min_data_fraction=0.5 there, 1.0 here"):
        EvolutionaryNASClassifier(**SMALL, checkpoint_dir=tmp_path, warm_start=True).fit(X_, y_)


def test_the_command_line_flag():
    args = build_parser().parse_args(["search", "data.csv", "--min-data-fraction", "0.25"])
    assert args.min_data_fraction == 0.25
    assert build_parser().parse_args(["search", "data.csv"]).min_data_fraction == 1.0
