"""The optional matplotlib plots of a fitted search (skevonas.plots)."""

import importlib
import math
import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import skevonas
from skevonas import EvolutionaryNASClassifier, plots
from skevonas.plots import (
    plot_fitness,
    plot_learning_curves,
    plot_score_vs_params,
    plot_search,
)

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # the tests of the missing-matplotlib error still run
    plt = None

needs_matplotlib = pytest.mark.skipif(plt is None, reason="matplotlib is not installed")

PLOTS_OF_ESTIMATOR = [plot_fitness, plot_score_vs_params, plot_learning_curves, plot_search]


@pytest.fixture(scope="module")
def clf(blobs):
    X, y = blobs
    return EvolutionaryNASClassifier(
        population_size=4,
        n_generations=2,
        max_epochs=2,
        patience=2,
        device="cpu",
        random_state=0,
    ).fit(X, y)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    if plt is not None:
        plt.close("all")


def best_record(clf):
    (record,) = [r for r in clf.evaluations_ if r["key"] == clf.best_genome_.short_key()]
    return record


def ydata(line):
    return np.asarray(line.get_ydata(), dtype=float)


def column(rows, key):
    return np.array([np.nan if r[key] is None else r[key] for r in rows], dtype=float)


def hand_history():
    return [
        {"generation": 0, "best": 0.7, "mean": 0.55, "std": 0.1, "best_so_far": 0.7},
        {"generation": 1, "best": math.nan, "mean": math.nan, "std": math.nan, "best_so_far": 0.7},
        {"generation": 2, "best": 0.8, "mean": 0.72, "std": 0.05, "best_so_far": 0.8},
    ]


# --------------------------------------------------------------------------- fitness
@needs_matplotlib
def test_fitness_lines_are_the_history(clf):
    ax = plot_fitness(clf)
    mean, best, best_so_far = ax.get_lines()
    history = clf.history_
    assert [line.get_label() for line in ax.get_lines()] == [
        "population mean",
        "generation best",
        "best so far",
    ]
    for line, key in ((mean, "mean"), (best, "best"), (best_so_far, "best_so_far")):
        np.testing.assert_allclose(ydata(line), column(history, key))
        assert list(line.get_xdata()) == [row["generation"] for row in history]
    assert best_so_far.get_drawstyle() == "steps-post"
    assert ax.get_ylabel() == "validation accuracy"
    assert ax.get_xlabel() == "generation"
    assert ax.get_title() == "Fitness by generation"
    assert len(ax.get_legend().get_texts()) == 4
    assert all(float(t).is_integer() for t in ax.get_xticks())


@needs_matplotlib
def test_fitness_band_is_mean_plus_minus_one_std(clf):
    ax = plot_fitness(clf)
    (band,) = ax.collections
    vertices = np.concatenate([path.vertices for path in band.get_paths()])
    for row in clf.history_:
        for y in (row["mean"] - row["std"], row["mean"] + row["std"]):
            hits = np.isclose(vertices[:, 0], row["generation"]) & np.isclose(vertices[:, 1], y)
            assert hits.any(), (row, y)


@needs_matplotlib
def test_fitness_of_a_list_a_dataframe_and_a_given_ax(clf):
    pd = pytest.importorskip("pandas")
    from_estimator = [ydata(line) for line in plot_fitness(clf).get_lines()]
    _, ax = plt.subplots()
    assert plot_fitness(clf.history_, ax=ax) is ax
    assert ax.get_ylabel() == "validation score"  # no estimator, no scoring name
    for a, b in zip(from_estimator, [ydata(line) for line in ax.get_lines()], strict=True):
        np.testing.assert_allclose(a, b)
    ax = plot_fitness(pd.DataFrame(clf.history_), score_name="my score")
    np.testing.assert_allclose(ydata(ax.get_lines()[1]), column(clf.history_, "best"))
    assert ax.get_ylabel() == "my score"


@needs_matplotlib
def test_fitness_leaves_a_gap_for_a_generation_without_scores():
    ax = plot_fitness(hand_history())
    mean, best, best_so_far = (ydata(line) for line in ax.get_lines())
    assert math.isnan(mean[1]) and math.isnan(best[1])
    np.testing.assert_allclose(best_so_far, [0.7, 0.7, 0.8])


@needs_matplotlib
def test_fitness_names_a_missing_key():
    history = hand_history()
    del history[1]["std"]
    with pytest.raises(ValueError, match=r"history\[1\] lacks the key\(s\) \['std'\]"):
        plot_fitness(history)


# --------------------------------------------------------------------------- score vs params
@needs_matplotlib
def test_score_vs_params_has_one_point_per_successful_candidate(clf):
    ok = [r for r in clf.evaluations_ if r["status"] == "ok"]
    ax = plot_score_vs_params(clf)
    points, best = ax.collections
    np.testing.assert_allclose(points.get_offsets(), [[r["n_params"], r["score"]] for r in ok])
    np.testing.assert_array_equal(points.get_array(), [r["generation"] for r in ok])
    record = best_record(clf)
    assert record["score"] == clf.best_score_
    np.testing.assert_allclose(best.get_offsets(), [[record["n_params"], record["score"]]])
    assert ax.get_xscale() == "log"
    assert ax.get_ylabel() == "validation accuracy"
    assert len(ax.figure.axes) == 2  # the plot and its colorbar
    assert ax.figure.axes[1].get_ylabel() == "generation"
    assert record["key"] in best.get_label()


@needs_matplotlib
def test_score_vs_params_of_a_list_leaves_failed_candidates_out(clf):
    failed = {
        "index": 99,
        "generation": 1,
        "key": "feedfeedfe",
        "score": math.nan,
        "status": "failed",
        "error": "RuntimeError: boom",
    }
    from_estimator = plot_score_vs_params(clf).collections[0].get_offsets()
    ax = plot_score_vs_params([*clf.evaluations_, failed])
    np.testing.assert_allclose(ax.collections[0].get_offsets(), from_estimator)
    n_failed = 1 + sum(r["status"] != "ok" for r in clf.evaluations_)
    assert ax.get_title().endswith(f"({n_failed} failed left out)")


@needs_matplotlib
def test_score_vs_params_needs_a_successful_candidate():
    failed = {"generation": 0, "score": math.nan, "status": "failed", "error": "boom"}
    with pytest.raises(ValueError, match="none of the 2 evaluated candidates succeeded"):
        plot_score_vs_params([failed, failed])


# --------------------------------------------------------------------------- learning curves
@needs_matplotlib
def test_learning_curves_of_the_best_network_and_its_refit(clf):
    record = best_record(clf)
    ax = plot_learning_curves(clf)
    train, valid, refit, best_epoch = ax.get_lines()
    np.testing.assert_allclose(ydata(train), record["curves"]["train_loss"])
    np.testing.assert_allclose(ydata(valid), record["curves"]["valid_loss"])
    np.testing.assert_allclose(train.get_xdata(), np.arange(1, record["epochs"] + 1))
    refit_loss = clf.best_estimator_.history[:, "train_loss"]
    np.testing.assert_allclose(ydata(refit), refit_loss)
    assert refit.get_linestyle() == "--"
    assert list(best_epoch.get_xdata()) == [record["best_epoch"]] * 2
    (score_ax,) = [a for a in ax.figure.axes if a is not ax]
    assert score_ax.get_shared_x_axes().joined(score_ax, ax)
    (score,) = score_ax.get_lines()
    np.testing.assert_allclose(ydata(score), record["curves"]["valid_score"])
    assert score_ax.get_ylabel() == "validation accuracy"
    assert len(score_ax.get_legend().get_texts()) == 5
    assert record["key"] in ax.get_title()


@needs_matplotlib
def test_learning_curves_of_a_record_have_no_refit(clf):
    record = best_record(clf)
    labels = [line.get_label() for line in plot_learning_curves(record).get_lines()]
    assert labels == ["train loss", "validation loss", f"best epoch ({record['best_epoch']})"]


@needs_matplotlib
def test_learning_curves_of_a_failed_record_say_why():
    failed = {"key": "feedfeedfe", "status": "failed", "error": "RuntimeError: boom"}
    with pytest.raises(ValueError, match="'feedfeedfe'.*no learning curves.*boom"):
        plot_learning_curves(failed)


# --------------------------------------------------------------------------- all three
@needs_matplotlib
def test_plot_search_saves_a_png(clf, tmp_path):
    fig = plot_search(clf)
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert titles[0] == "Fitness by generation"
    assert titles[1].startswith("Score vs. size of")
    assert titles[2].startswith("Learning curves of the best network")
    path = tmp_path / "search.png"
    fig.savefig(path)
    data = path.read_bytes()
    assert len(data) > 1000
    assert data.startswith(b"\x89PNG")


# --------------------------------------------------------------------------- errors
@needs_matplotlib
@pytest.mark.parametrize("plot", PLOTS_OF_ESTIMATOR, ids=lambda f: f.__name__)
def test_unfitted_estimator_is_refused(plot):
    with pytest.raises(NotFittedError, match="not fitted"):
        plot(EvolutionaryNASClassifier())


@needs_matplotlib
@pytest.mark.parametrize("plot", [plot_fitness, plot_score_vs_params], ids=lambda f: f.__name__)
def test_empty_or_wrong_input_is_refused(plot):
    with pytest.raises(ValueError, match="is empty"):
        plot([])
    with pytest.raises(TypeError, match="list of dicts, got dict"):
        plot({"generation": 0})
    with pytest.raises(TypeError, match=r"\[0\] must be a dict, got int"):
        plot([1, 2])


@needs_matplotlib
def test_wrong_input_for_learning_curves_and_plot_search():
    with pytest.raises(TypeError, match="one dict of evaluations_, got list"):
        plot_learning_curves([])
    with pytest.raises(TypeError, match="needs a fitted EvolutionaryNASClassifier, got list"):
        plot_search([])


def test_missing_matplotlib_says_how_to_install_it(clf, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    calls = [
        lambda: plot_fitness(hand_history()),
        lambda: plot_score_vs_params(clf.evaluations_),
        lambda: plot_learning_curves(best_record(clf)),
        lambda: plot_search(clf),
    ]
    for call in calls:
        with pytest.raises(ImportError, match=r'pip install "skevonas\[plots\]"'):
            call()


def test_module_imports_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "skevonas.plots")
    monkeypatch.setattr(skevonas, "plots", plots)  # restored after the fresh import
    fresh = importlib.import_module("skevonas.plots")
    assert fresh is not plots
    assert callable(fresh.plot_fitness)
