"""What a person watching a fit sees: the plan, no NaN, the final stage, planned choices, errors."""

from __future__ import annotations

import io
import logging
import time
import warnings

import numpy as np
import pytest

from skevonas import EvolutionaryNASClassifier, Genome, LayerGene, SearchCallback, mlp_space
from skevonas.evolution import GASettings, ProgressBar, ProgressPrinter, SerialRunner, evolve
from skevonas.evolution.fidelity import Fidelity
from skevonas.evolution.records import EvaluationRecord
from skevonas.search import CandidatePipeline, Display, FinalStage
from skevonas.search.final import final_model
from skevonas.training.candidate import CandidateData
from skevonas.training.recipe import Recipe


def _genomes(*units):
    return [
        Genome("mlp", [LayerGene("dense", {"units": u, "activation": "relu"})], {"lr": 0.01})
        for u in units
    ]


def _pipeline(blobs, **kwargs):
    X, y = blobs
    data = CandidateData(X[:60], y[:60], X[60:], y[60:], n_classes=3)
    return CandidatePipeline(data, Recipe(max_epochs=3), entropy=0, **kwargs)


def _measured(pipeline, genomes, fit_time):
    """Feed the pipeline's budget a full-budget result per genome (as the search does)."""
    for genome in genomes:
        result = {"score": 0.9, "status": "ok", "fit_time": fit_time, "epochs": 3}
        pipeline.budget.keep_for_final(genome, result)
    return [EvaluationRecord(g, 0.9 - i / 100, 0, i) for i, g in enumerate(genomes)]


def _final(pipeline, records, blobs, **kwargs):
    """The final stage of ``records`` with two finalists and 3 folds, on all of ``blobs``."""
    X, y = blobs
    settings = {"refit_epochs": 1, "standardize": True, "seed": 0, **kwargs}
    return final_model(pipeline, records, X, y, stage=FinalStage(2, folds=3), **settings)


# --------------------------------------------------------------------------- no NaN
def test_the_bar_shows_the_best_partial_score_under_halving_never_nan():
    bar = ProgressBar(file=io.StringIO())
    shown = []

    class Spy(SearchCallback):
        def on_evaluation_end(self, state, genome, result):
            shown.append(bar.bar_.postfix)

    def train(ticket, snapshot):
        epochs = ticket.budget or 9
        return {
            "score": 0.5 + epochs / 100,
            "epochs": epochs,
            "stopped_by": "budget" if epochs < 9 else "max_epochs",
        }

    evolve(
        mlp_space().bind((4,)),
        SerialRunner(train),
        GASettings(4, 2),
        rng=np.random.default_rng(0),
        fidelity=Fidelity.halving(max_epochs=9, min_epochs=1),
        callbacks=[bar, Spy()],
    )
    assert not any("nan" in text for text in shown)
    assert "best=0.5100 (partial)" in shown[0]  # a first-rung score, marked as such
    assert "best=0.5900" in shown[-1]  # the full budget's, once there is one


def test_the_bar_and_the_lines_show_a_dash_when_there_is_no_score():
    bar, lines = io.StringIO(), io.StringIO()
    evolve(
        mlp_space().bind((4,)),
        SerialRunner(lambda ticket, snapshot: {"score": float("nan"), "status": "failed"}),
        GASettings(3, 1),
        rng=np.random.default_rng(0),
        callbacks=[ProgressBar(file=bar), ProgressPrinter(lines)],
    )
    assert "nan" not in bar.getvalue() + lines.getvalue()
    assert "best=-" in bar.getvalue()
    assert "best      - mean      -" in lines.getvalue()


# --------------------------------------------------------------------------- planned choices
def test_folds_that_max_time_cannot_afford_are_skipped_with_a_note_not_a_warning(blobs, caplog):
    pipeline = _pipeline(blobs, max_time=60, started=time.time(), final=FinalStage(2, folds=3))
    records = _measured(pipeline, _genomes(8, 16), fit_time=40.0)  # folds: 2 x 3 x 27 s
    out = io.StringIO()
    with pipeline, warnings.catch_warnings(), caplog.at_level(logging.INFO, "skevonas"):
        warnings.simplefilter("error")  # a planned choice is no fault
        final = _final(
            pipeline,
            records,
            blobs,
            stop_at=pipeline.budget.end,
            display=Display(1, pipeline, file=out),
        )
    note = "the finalists' cross-validation was skipped: 2 finalists x 3 folds would take about"
    assert out.getvalue().count(note) == 1
    assert "the best holdout score picks the final model" in out.getvalue()
    assert any(m.startswith(note) for m in caplog.messages)
    assert all("cv_score" not in row for row in final.finalists)
    assert final.genomes == [records[0].genome] and final.weights == [1.0]


def test_folds_run_when_the_time_left_affords_them_though_the_search_end_passed(blobs):
    pipeline = _pipeline(blobs, max_time=600, started=time.time(), final=FinalStage(2, folds=3))
    records = _measured(pipeline, _genomes(8, 16), fit_time=0.3)
    pipeline.budget._move(time.time() - 1.0)  # the search stopped at its end, as the budget asked
    with pipeline, warnings.catch_warnings():
        warnings.simplefilter("error")
        final = _final(pipeline, records, blobs, refit_epochs=3, stop_at=pipeline.budget.end)
    assert all(np.isfinite(row["cv_score"]) for row in final.finalists)


def test_a_cross_validation_that_ran_and_failed_is_still_a_warning(blobs):
    pipeline = _pipeline(
        blobs,
        worker=lambda task, data: {"score": float("nan"), "status": "failed", "error": "boom"},
    )
    records = [EvaluationRecord(g, 0.9, 0, i) for i, g in enumerate(_genomes(8, 16))]
    with pipeline, pytest.warns(RuntimeWarning, match="no finalist finished.*boom"):
        _final(pipeline, records, blobs)


# --------------------------------------------------------------------------- the fit, watched
def test_verbose_1_shows_the_plan_an_estimate_and_the_final_stage(blobs, fast, capfd):
    X, y = blobs
    EvolutionaryNASClassifier(**{**fast, "n_finalists": 2, "cv": 2}, verbose=1).fit(X, y)
    _, err = capfd.readouterr()
    assert (
        "Plan: a generational search of up to 6 new candidates (population 4, 2 generations)" in err
    )
    assert "Then the 2 best are cross-validated (2 folds)" in err
    assert "Rough estimate after" in err and "still to go" in err
    assert "final: cross-validating 2 finalists, 2 folds each" in err
    assert "final: refitting" in err
    assert "nan" not in err


def test_verbose_2_marks_each_step_of_the_final_stage(blobs, fast, capfd):
    X, y = blobs
    EvolutionaryNASClassifier(**{**fast, "n_finalists": 2, "cv": 2}, verbose=2).fit(X, y)
    out, _ = capfd.readouterr()
    assert "Final stage: cross-validating 2 finalists, 2 folds each" in out
    assert "Final stage: refitting" in out and " done in " in out


def test_verbose_0_shows_nothing_but_logs_the_plan(blobs, fast, capfd, caplog):
    X, y = blobs
    with caplog.at_level(logging.INFO, logger="skevonas"):
        EvolutionaryNASClassifier(**fast).fit(X, y)
    out, err = capfd.readouterr()
    assert out == "" and "Plan:" not in err
    assert any(m.startswith("Plan: a generational search") for m in caplog.messages)


# --------------------------------------------------------------------------- errors
def test_predict_on_2d_x_after_a_3d_fit_names_both_shapes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 3, 16)).astype(np.float32)
    y = np.arange(24) % 2
    clf = EvolutionaryNASClassifier(
        population_size=2, n_generations=1, max_epochs=1, cv=None, random_state=0
    ).fit(X, y)
    with pytest.raises(ValueError) as info:
        clf.predict(X.reshape(24, -1))
    message = str(info.value)
    assert "fitted on a 3-D X of shape (n_samples, 3, 16)" in message
    assert "2-D array of shape (24, 48)" in message
    assert "features" not in message


# --------------------------------------------------------------------------- anytime
def _trained_candidate(pipeline):
    """Train one candidate through the pipeline (which keeps its weights, with max_time)."""
    from skevonas.evolution.runner import Ticket

    genome = _genomes(8)[0]
    pipeline.submit(Ticket(0, genome), None)
    _, result = pipeline.next_result()
    assert "weights" not in result  # kept by the lineage, never journaled
    return EvaluationRecord(genome, result["score"], 0, 0, info=dict(result))


def test_no_time_to_refit_falls_back_on_the_candidate_as_trained(blobs):
    pipeline = _pipeline(blobs, max_time=30, started=time.time())
    with pipeline:
        record = _trained_candidate(pipeline)
        # as if its refit on all the data took 1,000 s: more than max_time leaves
        pipeline.budget.keep_for_final(record.genome, {"score": 0.9, "fit_time": 1000.0})
        with pytest.warns(RuntimeWarning, match="the final model is that candidate as the search"):
            final = _final(pipeline, [record], blobs, stop_at=pipeline.budget.end)
    assert final.note is not None and "holdout score" in final.note
    assert final.genomes == [record.genome] and final.trained == final.epochs == [3]
    assert len(final.net.history) == 0  # not refitted
    assert final.net.predict_proba(blobs[0]).shape == (90, 3)


def test_with_time_to_refit_the_final_model_is_refitted(blobs):
    pipeline = _pipeline(blobs, max_time=600, started=time.time())
    with pipeline, warnings.catch_warnings():
        warnings.simplefilter("error")
        record = _trained_candidate(pipeline)
        final = _final(pipeline, [record], blobs, stop_at=pipeline.budget.end, refit_epochs=3)
    assert final.note is None and len(final.net.history) == 3


def test_a_refit_that_max_time_cuts_still_warns(blobs):
    pipeline = _pipeline(blobs)  # nothing kept to fall back on
    record = EvaluationRecord(_genomes(8)[0], 0.9, 0, 0)
    with pipeline, pytest.warns(RuntimeWarning, match="refitted for 1 of its 5 epochs"):
        final = _final(pipeline, [record], blobs, refit_epochs=5, stop_at=time.time())
    assert final.trained == [1] and final.note is None
