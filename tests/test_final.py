"""The training recipe, reshuffled holdouts, the finalists' cross-validation and the ensemble."""

from __future__ import annotations

import math
import pickle
import time

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone

from skevonas import EvolutionaryNASClassifier, Genome, LayerGene
from skevonas.evolution.records import EvaluationRecord
from skevonas.prepare import apply_input_affine, decimate_data
from skevonas.search import CandidatePipeline, FinalStage, RefitPlan, Workers
from skevonas.search.final import SHORT_REFIT_MARGIN, final_model, shorter_schedule
from skevonas.settings import decimation
from skevonas.spaces.builders.layers import Decimate
from skevonas.training.augment import EEGAugment
from skevonas.training.candidate import (
    CandidateData,
    Split,
    evaluate_candidate,
    make_net,
)
from skevonas.training.ensemble import EnsembleModule, greedy_selection
from skevonas.training.recipe import Recipe
from skevonas.training.runtime import CosineSchedule

MLP = Genome(
    "mlp",
    [LayerGene("dense", {"units": 16, "activation": "relu"})],
    {"optimizer": "adamw", "lr": 0.01, "batch_size": 16},
)


def _blobs(n=90, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(np.int64)
    return X, y


def _data(n=90):
    X, y = _blobs(n)
    cut = int(0.8 * n)
    return CandidateData(X[:cut], y[:cut], X[cut:], y[cut:], n_classes=2)


# --------------------------------------------------------------------------- recipe
class _LrLog(CosineSchedule):
    """Records the learning rate each epoch trains with."""

    def initialize(self):
        self.seen = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        self.seen.append(net.optimizer_.param_groups[0]["lr"])


def test_cosine_schedule_anneals_the_genomes_lr_over_the_budget():
    X, y = _blobs()
    log = _LrLog(4)
    net = make_net(
        MLP,
        (4,),
        2,
        max_epochs=4,
        input_stats=None,
        device="cpu",
        net_params={},
        callbacks=[("log", log)],
    )
    net.fit(X, y)
    assert log.seen == pytest.approx([0.01, 0.01 * 0.8535534, 0.005, 0.01 * 0.1464466])


def test_recipe_reaches_the_net():
    recipe = Recipe(max_epochs=7, lr_schedule="cosine", label_smoothing=0.1, augment=EEGAugment())
    genome = Genome("mlp", MLP.layers, {**dict(MLP.globals), "weight_decay": 0.05})
    net = make_net(
        genome, (4,), 2, max_epochs=3, input_stats=None, device="cpu", net_params={}, recipe=recipe
    ).initialize()
    assert net.optimizer_.param_groups[0]["weight_decay"] == 0.05
    assert net.criterion_.label_smoothing == 0.1
    assert net.iterator_train__augment == EEGAugment()
    schedule = dict(net.callbacks_)["lr_schedule"]
    assert schedule.epochs == 7  # the schedule runs over the full budget, not the rung


def test_without_patience_the_last_weights_and_last_epochs_score():
    data = _data()
    settings = Recipe(max_epochs=6, patience=None, lr_schedule="cosine")
    result = evaluate_candidate(MLP, data, settings, seed=0)
    curve = result["curves"]["valid_score"]
    assert result["epochs"] == 6 and result["stopped_by"] == "max_epochs"
    assert result["score"] == pytest.approx(np.mean(curve[-3:]))


def test_a_rung_goes_on_along_the_same_cosine_schedule():
    data = _data()
    settings = Recipe(max_epochs=6, patience=None, lr_schedule="cosine")
    once = evaluate_candidate(MLP, data, settings, seed=3)
    first = evaluate_candidate(MLP, data, settings, seed=3, epochs=2, keep_snapshot=True)
    assert first["stopped_by"] == "budget"
    rest = evaluate_candidate(MLP, data, settings, seed=3, snapshot=first["snapshot"])
    assert rest["curves"] == once["curves"]
    assert rest["score"] == once["score"]


# --------------------------------------------------------------------------- splits
def test_reshuffled_holdouts_keep_the_sizes_and_classes_and_depend_on_the_seed():
    data = _data()
    a, b = data.resplit(Split(1)), data.resplit(Split(2))
    assert len(a.y_valid) == len(data.y_valid) and len(a.y_train) == len(data.y_train)
    assert set(a.y_valid.tolist()) == {0, 1}
    assert not np.array_equal(a.X_valid, b.X_valid)
    assert np.array_equal(a.X_valid, data.resplit(Split(1)).X_valid)
    # every sample is in exactly one part
    together = np.sort(np.concatenate([a.X_train, a.X_valid])[:, 0])
    assert np.array_equal(together, np.sort(np.concatenate([data.X_train, data.X_valid])[:, 0]))


def test_folds_cover_every_sample_once():
    data = _data()
    valid = np.concatenate([data.split_indices(Split(0, 3, f))[1] for f in range(3)])
    assert sorted(valid.tolist()) == list(range(90))


def test_input_stats_come_from_the_new_training_part():
    X, y = _blobs()
    data = CandidateData(X[:72], y[:72], X[72:], y[72:], 2, input_stats=(X[:1], X[:1]))
    part = data.resplit(Split(0))
    assert np.allclose(part.input_stats[0], part.X_train.mean(axis=0), atol=1e-6)


def test_cross_validation_gives_out_of_fold_probabilities_in_sample_order():
    data = _data()
    settings = Recipe(max_epochs=15, patience=None)
    with CandidatePipeline(data, settings, entropy=0, workers=Workers(n_jobs=1)) as engine:
        [result] = engine.cross_validate([MLP], n_folds=3, seed=0)
    y = data.samples()[1]
    oof = result["oof_proba"]
    assert oof.shape == (90, 2) and np.allclose(oof.sum(axis=1), 1)
    # accuracy of the out-of-fold predictions equals the mean fold accuracy up to fold sizes
    assert abs(np.mean(oof.argmax(1) == y) - np.mean(result["cv_scores"])) < 0.02
    assert result["cv_score"] > 0.7


# --------------------------------------------------------------------------- ensemble
def test_greedy_selection_weights():
    y = np.array([0, 1, 0, 1])
    perfect = np.eye(2)[y] * 0.8 + 0.1
    wrong = 1 - perfect
    assert greedy_selection([wrong, perfect], y, 3).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="size must be at least 1"):
        greedy_selection([perfect], y, 0)


def test_ensemble_module_rejects_bad_weights():
    with pytest.raises(ValueError, match="one positive weight per member"):
        EnsembleModule([torch.nn.Linear(2, 2)], [1.0, 1.0])
    with pytest.raises(ValueError, match="one positive weight per member"):
        EnsembleModule([torch.nn.Linear(2, 2)], [0.0])


def test_decimate_matches_data_decimation_and_passes_slow_signals():
    t = np.arange(400) / 256
    slow = np.sin(2 * np.pi * 2 * t)  # 2 Hz, far below the new Nyquist
    X = np.stack([slow, np.sin(2 * np.pi * 100 * t)])[None].astype(np.float32)
    out = decimate_data(X, 4)
    assert out.shape == (1, 2, 100)
    assert np.allclose(out[0, 0, 10:-10], slow[::4][10:-10], atol=0.02)
    assert np.abs(out[0, 1, 10:-10]).max() < 0.05  # 100 Hz is filtered out
    assert np.array_equal(out, Decimate(4)(torch.from_numpy(X)).numpy())


@pytest.mark.parametrize(
    ("setting", "shape", "factor"),
    [
        ("auto", (6, 896), 4),
        ("auto", (6, 256), 1),
        ("auto", (6, 257), 2),
        (3, (2, 90), 3),
        ("auto", (10,), 1),
        (1, (3, 8, 8), 1),
    ],
)
def test_decimation_factor(setting, shape, factor):
    assert decimation(setting, shape) == factor


def test_decimation_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"decimate=2 needs 3-D input"):
        decimation(2, (10,))
    with pytest.raises(ValueError, match="leaves 5 of 40 time samples"):
        decimation(8, (2, 40))


# --------------------------------------------------------------------------- estimator
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("patience", 0, "patience must be None or an int >= 1"),
        ("lr_schedule", "step", "lr_schedule must be one of"),
        ("label_smoothing", 1.0, r"label_smoothing must be a float in \[0, 1\)"),
        ("augment", "yes", "augment must be True, False, None or an EEGAugment"),
        ("decimate", 0, 'decimate must be "auto" or an int >= 1'),
        ("holdout", "cv", "holdout must be one of"),
        ("cv", 1, "cv must be None or an int >= 2"),
        ("n_finalists", 0, "n_finalists must be an int >= 1"),
        ("ensemble_size", 2.5, "ensemble_size must be an int >= 1"),
    ],
)
def test_bad_settings_are_named(name, value, message):
    with pytest.raises(ValueError, match=message):
        EvolutionaryNASClassifier(**{name: value}).check_settings()


def test_augment_needs_eeg_like_input():
    X, y = _blobs()
    with pytest.raises(ValueError, match="augment=True augments EEG-like input"):
        EvolutionaryNASClassifier(augment=True, population_size=2, n_generations=1).fit(X, y)


def _eeg(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3, 300)).astype(np.float32)
    y = np.arange(n) % 2
    X[y == 1, 0, :] += 0.8 * np.sin(np.linspace(0, 3, 300, dtype=np.float32))
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = _eeg()
    clf = EvolutionaryNASClassifier(
        population_size=4,
        n_generations=1,
        max_epochs=4,
        n_finalists=3,
        cv=2,
        ensemble_size=3,
        decimate=3,
        random_state=0,
    )
    return clf.fit(X, y), X, y


def test_the_final_model_is_the_weighted_ensemble_of_refitted_finalists(fitted):
    clf, X, y = fitted
    assert clf.decimation_ == 3
    assert len(clf.finalists_) == 3
    assert all(math.isfinite(row["cv_score"]) for row in clf.finalists_)
    assert sum(row["weight"] for row in clf.finalists_) == pytest.approx(1)
    assert clf.ensemble_genomes_[0] == clf.best_genome_
    assert sum(clf.ensemble_weights_) == pytest.approx(1)
    module = clf.best_module_
    assert isinstance(module, EnsembleModule) and isinstance(module.decimate, Decimate)
    assert len(module.members) == len(clf.ensemble_genomes_)
    # predict_proba is the weighted mean of the members' probabilities on decimated data
    # (of X after the float64 affine step)
    x = torch.from_numpy(apply_input_affine(X[:7], clf.input_offset_, clf.input_scale_))
    with torch.no_grad():
        small = module.decimate(x)
        mixed = sum(
            w * m(small).softmax(1) for w, m in zip(module.weights, module.members, strict=True)
        )
    assert np.allclose(clf.predict_proba(X[:7]), mixed.numpy(), atol=1e-6)
    # the final model's out-of-fold score: the accuracy of its predictions for all 60 samples
    assert clf.best_score_ * len(y) == pytest.approx(round(clf.best_score_ * len(y)), abs=1e-9)
    text = clf.describe()
    assert "input decimated by 3" in text and "estimated accuracy" in text


def test_the_fitted_ensemble_pickles_and_clones(fitted):
    clf, X, _ = fitted
    again = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert clone(clf).get_params() == clf.get_params()


def test_one_member_without_decimation_is_the_plain_network():
    X, y = _blobs()
    clf = EvolutionaryNASClassifier(
        population_size=3, n_generations=1, max_epochs=3, ensemble_size=1, random_state=0
    ).fit(X, y)
    assert clf.decimation_ == 1 and len(clf.ensemble_genomes_) == 1
    assert not isinstance(clf.best_module_, EnsembleModule)
    assert clf.best_module_.output.out_features == 2


def test_without_cv_the_best_holdout_wins_alone():
    X, y = _blobs()
    clf = EvolutionaryNASClassifier(
        population_size=3, n_generations=1, max_epochs=3, cv=None, random_state=0
    ).fit(X, y)
    best = max(r["score"] for r in clf.evaluations_)
    assert clf.best_score_ == best and clf.ensemble_weights_ == [1.0]
    assert "cv_score" not in clf.finalists_[0]


def test_one_member_scores_its_out_of_fold_accuracy():
    # After one epoch a fold's score is the accuracy of the weights that predict its
    # out-of-fold probabilities, and the two folds of 30 are the same size: a finalist's
    # cv_score is the accuracy of its out-of-fold predictions, which best_score_ must be.
    rng = np.random.default_rng(0)
    y = np.arange(60) % 2
    X = rng.normal(size=(60, 4)).astype(np.float32) + 0.6 * y[:, None]
    clf = EvolutionaryNASClassifier(
        population_size=3,
        n_generations=1,
        max_epochs=1,
        n_finalists=3,
        cv=2,
        ensemble_size=1,
        random_state=0,
    ).fit(X, y)
    [member] = [row for row in clf.finalists_ if row["weight"] == 1.0]
    assert member["genome"] == clf.best_genome_ and clf.ensemble_weights_ == [1.0]
    assert member["cv_score"] == pytest.approx(max(row["cv_score"] for row in clf.finalists_))
    assert clf.best_score_ == pytest.approx(member["cv_score"], abs=1e-12)
    assert clf.best_score_ != member["holdout_score"]  # not the search's own estimate


def test_fixed_and_reshuffled_holdouts_score_differently_but_reproducibly():
    X, y = _blobs(120)
    common = dict(population_size=3, n_generations=1, max_epochs=3, cv=None, random_state=0)
    fixed = EvolutionaryNASClassifier(holdout="fixed", **common).fit(X, y)
    shuffled = EvolutionaryNASClassifier(**common).fit(X, y)
    again = EvolutionaryNASClassifier(**common).fit(X, y)
    scores = [[r["score"] for r in clf.evaluations_] for clf in (fixed, shuffled, again)]
    assert scores[1] == scores[2]
    assert scores[0] != scores[1]


def test_the_final_model_does_not_depend_on_n_jobs():
    X, y = _eeg(48, seed=1)
    common = dict(
        population_size=4,
        n_generations=1,
        max_epochs=3,
        n_finalists=3,
        cv=2,
        ensemble_size=3,
        decimate=2,
        random_state=0,
    )
    one = EvolutionaryNASClassifier(**common, n_jobs=1).fit(X, y)
    two = EvolutionaryNASClassifier(**common, n_jobs=2).fit(X, y)
    assert one.finalists_ == two.finalists_
    assert one.ensemble_weights_ == two.ensemble_weights_
    np.testing.assert_array_equal(one.predict_proba(X), two.predict_proba(X))


# --------------------------------------------------------------------------- speculative refit
WIDE = Genome(
    "mlp",
    [LayerGene("dense", {"units": 32, "activation": "tanh"})],
    {"optimizer": "adamw", "lr": 0.01, "batch_size": 16},
)


def test_the_refit_alongside_the_folds_is_the_refit_after_them():
    data = _data()
    X, y = data.samples()
    settings = Recipe(max_epochs=4, patience=None)
    plan = RefitPlan(X, y, epochs=3, standardize=True, seed=7)
    with CandidatePipeline(data, settings, entropy=0, workers=Workers(n_jobs=2)) as engine:
        assert engine.can_refit_alongside()
        plain = engine.cross_validate([MLP, WIDE], n_folds=3, seed=0)
        both = engine.cross_validate([MLP, WIDE], n_folds=3, seed=0, alongside={1: plan})
        after = engine.refit(WIDE, X, y, epochs=3, standardize=True, seed=7)
    assert [r["cv_scores"] for r in plain] == [r["cv_scores"] for r in both]
    assert "net" not in plain[1] and "net" not in both[0]
    assert len(both[1]["net"].history) == 3
    np.testing.assert_array_equal(both[1]["net"].predict_proba(X), after.predict_proba(X))


@pytest.mark.parametrize(
    "n_jobs, torch_threads, expected",
    [(1, 1, False), (2, 1, True), (2, None, joblib.cpu_count() == 1)],
)
def test_a_refit_goes_alongside_only_where_it_trains_the_same(n_jobs, torch_threads, expected):
    engine = CandidatePipeline(
        _data(), Recipe(), entropy=0, workers=Workers(n_jobs=n_jobs, torch_threads=torch_threads)
    )
    assert engine.can_refit_alongside() is expected


class _Scripted(CandidatePipeline):
    """A pipeline whose folds are scripted: ``good`` predicts every label, the others guess."""

    good = 0

    def can_refit_alongside(self):
        return True

    def cross_validate(self, genomes, n_folds, seed, *, alongside=None, **kwargs):
        self.plans = dict(alongside)
        y = self.data.labels()
        results = []
        for g, _ in enumerate(genomes):
            proba = np.eye(2)[y] if g == self.good else np.full((len(y), 2), 0.5)
            score = float(np.mean(proba.argmax(1) == y))
            results.append({"cv_score": score, "cv_scores": [score], "oof_proba": proba})
        for g, plan in self.plans.items():
            results[g]["net"] = self.refit(
                genomes[g], plan.X, plan.y, epochs=plan.epochs, standardize=True, seed=plan.seed
            )
        return results

    def refit_all(self, genomes, X, y, **kwargs):
        self.refitted = (list(genomes), kwargs["seeds"])
        return super().refit_all(genomes, X, y, **kwargs)


@pytest.mark.parametrize("good", [0, 1])
def test_the_speculative_refit_is_kept_only_when_its_finalist_leads(good):
    data = _data()
    X, y = data.samples()
    # WIDE has the better holdout score: it is refitted beside the folds
    records = [EvaluationRecord(g, 0.9 - 0.1 * i, 0, i) for i, g in enumerate((WIDE, MLP))]
    engine = _Scripted(
        data, Recipe(max_epochs=2, patience=None), entropy=0, workers=Workers(n_jobs=1)
    )
    engine.good = good
    engine.refitted = None
    with engine:
        final = final_model(
            engine,
            records,
            X,
            y,
            stage=FinalStage(folds=3, members=1),
            refit_epochs=2,
            standardize=True,
            seed=5,
        )
    [(index, plan)] = engine.plans.items()
    assert index == 0 and plan.seed == 5 and plan.epochs == 2
    assert final.genomes == [(WIDE, MLP)[good]]
    if good == 0:
        assert engine.refitted is None  # the net trained beside the folds is the final one
    else:
        assert engine.refitted == ([MLP], [5])  # trained after, with the leader's seed


_Y8 = np.array([0, 1] * 4)


def _right(shares):
    """Two-class probabilities that give each sample of ``_Y8`` its share on the right class."""
    shares = np.array(shares)[:, None]
    return np.where(np.eye(2)[_Y8] == 1, shares, 1 - shares)


# Out-of-fold probabilities by the width of a genome's layer: 4 and 8 are each right on 6
# of the 8 samples, on different ones, and right on all 8 when mixed; 16 on half of them.
_OOF = {
    4: _right([0.9] * 6 + [0.4] * 2),
    8: _right([0.4] * 2 + [0.9] * 6),
    16: _right([0.7, 0.2] * 4),
}
_FOLD_SCORE = {4: 0.6, 8: 0.55, 16: 0.5}


def _scripted_fold(task, data):
    """A worker that trains nothing: its fold's share of the scripted probabilities."""
    units = task.genome.layers[0]["units"]
    valid = data.split_indices(task.split)[1]
    return {"status": "ok", "score": _FOLD_SCORE[units], "valid_proba": _OOF[units][valid]}


def test_the_ensembles_score_is_that_of_its_mixed_out_of_fold_probabilities():
    X = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    data = CandidateData(X[:6], _Y8[:6], X[6:], _Y8[6:], n_classes=2)
    narrow, middle, wide = (
        Genome("mlp", [LayerGene("dense", {"units": n, "activation": "relu"})]) for n in (4, 8, 16)
    )
    # holdout order (wide, narrow, middle): neither the cross-validated order nor the ensemble's
    records = [
        EvaluationRecord(g, 0.9 - 0.1 * i, 0, i) for i, g in enumerate((wide, narrow, middle))
    ]
    settings = Recipe(max_epochs=1, patience=None)
    with CandidatePipeline(
        data, settings, entropy=0, workers=Workers(n_jobs=1), worker=_scripted_fold
    ) as engine:
        final = final_model(
            engine,
            records,
            X,
            _Y8,
            stage=FinalStage(folds=2, members=2),
            refit_epochs=1,
            standardize=True,
            seed=0,
        )
    assert [row["cv_score"] for row in final.finalists] == [0.5, 0.6, 0.55]
    assert final.genomes == [narrow, middle] and final.weights == [0.5, 0.5]
    mixed = sum(
        w * _OOF[g.layers[0]["units"]] for g, w in zip(final.genomes, final.weights, strict=True)
    )
    # not the best holdout score (0.9), cv_score (0.6) nor a member's own accuracy (0.75)
    assert final.score == np.mean(mixed.argmax(1) == _Y8) == 1.0


def test_a_refit_that_max_time_cannot_afford_trains_a_whole_shorter_schedule():
    data = _data()
    X, y = data.samples()
    record = EvaluationRecord(MLP, 0.9, 0, 0, info={"epochs": 10, "best_epoch": 10})
    with CandidatePipeline(
        data, Recipe(max_epochs=10, patience=None), entropy=0, workers=Workers(n_jobs=1)
    ) as engine:
        budget = engine.budget
        budget.keep_for_final(MLP, {"score": 0.9, "fit_time": 100.0, "epochs": 10})
        need = budget.refit_seconds([MLP])
        # time for 6.5 of the 10 epochs the refit needs (with the shorter refit's margin)
        stop_at = time.time() + 0.65 * need * SHORT_REFIT_MARGIN
        with pytest.warns(RuntimeWarning, match="for 6 epochs, with its learning-rate schedule"):
            final = final_model(
                engine,
                [record],
                X,
                y,
                stage=FinalStage(folds=None, members=1),
                refit_epochs=None,
                standardize=True,
                seed=0,
                stop_at=stop_at,
            )
    assert final.epochs == [6] and final.trained == [6]
    assert len(final.net.history) == 6
    # the schedule was laid over the 6 epochs: the last one trains near the end of
    # the cosine (a cut 10-epoch schedule would still be at half the rate)
    last = final.net.optimizer_.param_groups[0]["lr"]
    assert last < 0.1 * MLP["lr"]
    assert "refitted on all the data for 6 epochs" in final.note
    # the pipeline's own recipe is unchanged afterwards
    assert engine.recipe.max_epochs == 10
    # under half the epochs: no shorter schedule (the kept network, or a cut refit, instead)
    assert (
        shorter_schedule(engine, record, 10, time.time() + 0.4 * need * SHORT_REFIT_MARGIN) is None
    )
