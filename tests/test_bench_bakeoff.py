"""The statistics of bench/bakeoff.py, on toy data (no training)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))  # the bench scripts import each other by module name

import bakeoff  # noqa: E402


# --------------------------------------------------------------------------- resamples
@pytest.fixture
def archive():
    """Labels of a toy archive: 12 train trials (7 of 'a', 5 of 'b'), 8 test (3 and 5)."""
    return np.array(list("aaaaaaabbbbb") + list("aaabbbbb")), 12


def test_resample_0_is_the_archive_split(archive):
    y, n_train = archive
    train, test = bakeoff.stratified_resample(y, n_train, 0)
    np.testing.assert_array_equal(train, np.arange(12))
    np.testing.assert_array_equal(test, np.arange(12, 20))


@pytest.mark.parametrize("resample", [1, 2, 7])
def test_resamples_keep_sizes_and_class_counts(archive, resample):
    y, n_train = archive
    train, test = bakeoff.stratified_resample(y, n_train, resample)
    assert len(train) == n_train and len(test) == len(y) - n_train
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(len(y)))
    for label in "ab":
        assert np.sum(y[train] == label) == np.sum(y[:n_train] == label)
        assert np.sum(y[test] == label) == np.sum(y[n_train:] == label)


def test_resamples_are_deterministic_and_differ(archive):
    y, n_train = archive
    first = bakeoff.stratified_resample(y, n_train, 3)
    again = bakeoff.stratified_resample(y, n_train, 3)
    other = bakeoff.stratified_resample(y, n_train, 4)
    np.testing.assert_array_equal(first[1], again[1])
    assert bakeoff.index_hash(first[1]) == bakeoff.index_hash(again[1])
    assert bakeoff.index_hash(first[1]) != bakeoff.index_hash(other[1])
    assert bakeoff.index_hash(first[1]) != bakeoff.index_hash(np.arange(12, 20))


def test_resample_refuses_bad_arguments(archive):
    y, _ = archive
    with pytest.raises(ValueError, match="n_train must be"):
        bakeoff.stratified_resample(y, len(y), 1)
    with pytest.raises(ValueError, match="resample must be"):
        bakeoff.stratified_resample(y, 12, -1)


# --------------------------------------------------------------------------- probabilities
def test_log_loss_clips_and_aligns():
    proba = bakeoff.aligned_proba(np.array([[1.0, 0.0], [0.5, 0.5]]), [0, 2], 3)
    np.testing.assert_array_equal(proba, [[1, 0, 0], [0.5, 0, 0.5]])
    # trial 1: p = 1 (clipped row renormalised: -log(1 / (1 + 2e-7))); trial 2: -log(0.5)
    expected = (np.log(1 + 2e-7) - np.log(0.5 / (1 + 1e-7))) / 2
    assert bakeoff.log_loss([0, 2], proba) == pytest.approx(expected)
    # a hard wrong answer costs -log(1e-7) (up to renormalisation), not infinity
    assert bakeoff.log_loss([1], np.array([[1.0, 0.0]])) == pytest.approx(-np.log(1e-7), rel=1e-6)


def test_probabilities_round_trip_compactly():
    proba = np.random.default_rng(0).dirichlet(np.ones(10), size=50)
    back = bakeoff.decode_proba(json.loads(json.dumps(bakeoff.encode_proba(proba))))
    np.testing.assert_allclose(back, proba, rtol=1e-3, atol=1e-7)


# --------------------------------------------------------------------------- statistics
def test_mcnemar_matches_the_exact_binomial_by_hand():
    # discordant: 1 trial only a right, 5 only b right; two concordant trials
    a = np.array([1, 0, 0, 0, 0, 0, 1, 0], dtype=bool)
    b = np.array([0, 1, 1, 1, 1, 1, 1, 0], dtype=bool)
    # P(X <= 1) + P(X >= 5) for X ~ Binomial(6, 1/2) = (1 + 6 + 6 + 1) / 64
    assert bakeoff.mcnemar_exact(a, b) == (1, 5, 14 / 64)
    assert bakeoff.mcnemar_exact(b, a) == (5, 1, 14 / 64)
    assert bakeoff.mcnemar_exact(a, a) == (0, 0, 1.0)


def test_average_ranks_and_friedman_by_hand():
    scores = np.array([[0.9, 0.8, 0.7], [0.8, 0.9, 0.7], [0.9, 0.9, 0.5]])
    # ranks per block: (1, 2, 3), (2, 1, 3), (1.5, 1.5, 3)
    np.testing.assert_allclose(bakeoff.average_ranks(scores), [1.5, 1.5, 3.0])
    result = bakeoff.friedman(scores[:2])  # average ranks 1.5, 1.5, 3 over N = 2
    # chi2 = 12 * 2 / (3 * 4) * (1.5^2 + 1.5^2 + 3^2 - 3 * 4^2 / 4) = 2 * 1.5
    assert result["chi2"] == pytest.approx(3.0)
    assert result["p"] == pytest.approx(np.exp(-1.5))  # chi-squared, 2 df: exp(-x / 2)
    # F = (N - 1) chi2 / (N (k - 1) - chi2) = 3; F(2, 2) survival: 1 / (1 + F)
    assert result["F"] == pytest.approx(3.0)
    assert result["p_F"] == pytest.approx(0.25)


def test_friedman_matches_scipy_without_ties():
    from scipy.stats import friedmanchisquare

    scores = np.random.default_rng(1).random((6, 4))
    expected = friedmanchisquare(*scores.T)
    result = bakeoff.friedman(scores)
    assert result["chi2"] == pytest.approx(expected.statistic)
    assert result["p"] == pytest.approx(expected.pvalue)


@pytest.mark.parametrize("k, n", [(2, 10), (4, 5), (10, 5), (12, 7)])
def test_critical_difference_follows_the_formula(k, n):
    expected = bakeoff.nemenyi_q(k) * np.sqrt(k * (k + 1) / (6 * n))
    assert bakeoff.critical_difference(k, n) == pytest.approx(expected)


def test_critical_difference_by_hand():
    assert bakeoff.critical_difference(4, 5) == pytest.approx(2.569 * np.sqrt(20 / 30))
    assert bakeoff.critical_difference(10, 5) == pytest.approx(3.164 * np.sqrt(110 / 30))


def test_the_q_table_is_the_studentized_range_over_sqrt_2():
    from scipy.stats import studentized_range

    for k, q in bakeoff.Q_ALPHA_05.items():
        assert studentized_range.ppf(0.95, k, np.inf) / np.sqrt(2) == pytest.approx(q, abs=1e-3)


def test_cd_groups():
    assert bakeoff.cd_groups([1.0, 2.0, 3.0, 4.0], 1.5) == [(0, 1), (1, 2), (2, 3)]
    assert bakeoff.cd_groups([1.0, 1.2, 1.4, 3.5], 1.0) == [(0, 2), (3, 3)]
    assert bakeoff.cd_groups([1.0, 2.0, 3.0], 5.0) == [(0, 2)]


# --------------------------------------------------------------------------- pairing
def toy_row(method, test_hash="aaaa", predictions=(0, 1, 1), resample=0, **extra):
    row = {
        "method": method,
        "dataset": "toy",
        "resample": resample,
        "seed": 0,
        "config": {"quick": True},
        "settings": {"random_state": 0},
        "test_hash": test_hash,
        "y_test": [0, 1, 0],
        "predictions": list(predictions),
        "test_accuracy": float(np.mean(np.array(predictions) == [0, 1, 0])),
        "log_loss": 0.5,
        "ece": 0.1,
        "wall_s": 1.0,
    }
    return {**row, **extra}


def test_rows_with_other_test_indices_are_refused():
    ours, theirs = toy_row("skevonas"), toy_row("random", test_hash="bbbb")
    with pytest.raises(bakeoff.PairingError, match="not scored on the same test trials"):
        bakeoff.paired_correct(ours, theirs)
    with pytest.raises(bakeoff.PairingError, match="test indices"):
        bakeoff.blocks_of([ours, theirs])  # one block, two test parts
    a, b = bakeoff.paired_correct(ours, toy_row("random", predictions=(0, 1, 0)))
    assert a.tolist() == [True, True, False] and b.tolist() == [True, True, True]


def test_rows_of_other_settings_are_not_tabulated_together():
    rows = [toy_row("skevonas"), toy_row("skevonas", resample=1, config={"quick": False})]
    with pytest.raises(ValueError, match="configurations"):
        bakeoff.check_comparable(rows)
    rows = [toy_row("skevonas"), toy_row("skevonas", resample=1, settings={"max_epochs": 3})]
    with pytest.raises(ValueError, match="skevonas on toy"):
        bakeoff.check_comparable(rows)
    seeds_differ = [toy_row("skevonas"), toy_row("skevonas", settings={"random_state": 1})]
    bakeoff.check_comparable(seeds_differ)  # the seed is not a setting that splits a table


def test_report_tables_from_rows(capsys, tmp_path):
    rows = [
        toy_row("skevonas", predictions=(0, 1, 0), resample=r, test_hash=f"h{r}") for r in range(3)
    ] + [toy_row("random", predictions=(0, 1, 1), resample=r, test_hash=f"h{r}") for r in range(3)]
    bakeoff.report(rows, ["skevonas", "random"], "skevonas", tmp_path / "cd.svg")
    out = capsys.readouterr().out
    assert "| skevonas | 3 | 1.0000 ± 0.0000 | 0.500 | 0.100 | 1 | 1.00 | - |" in out
    assert "| random | -0.3333 | -0.3333 | -0.3333 | -0.3333 | 3 | 0 | 0.25 |" in out
    assert "CD = " in out and (tmp_path / "cd.svg").exists()


# --------------------------------------------------------------------------- calibration
def test_ece_by_hand():
    # 15 equal-width bins of the top-class probability: here each trial alone in its bin
    y = [0, 1, 1, 0]
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.55, 0.45]])
    expected = (abs(1 - 0.9) + abs(1 - 0.8) + abs(0 - 0.7) + abs(1 - 0.55)) / 4
    assert bakeoff.expected_calibration_error(y, proba) == pytest.approx(expected)
    # two trials in one bin: |accuracy - mean confidence| weighted by the bin's share
    pooled = np.array([[0.61, 0.39], [0.62, 0.38]])
    assert bakeoff.expected_calibration_error([0, 1], pooled) == pytest.approx(abs(0.5 - 0.615))
    # always sure: ECE is the error rate; a bin edge belongs to the bin below
    sure = np.eye(2)[[0, 0, 1, 1]]
    assert bakeoff.expected_calibration_error([0, 1, 1, 1], sure) == pytest.approx(0.25)
    edge = np.array([[1 / 15 * 8, 1 - 1 / 15 * 8]] * 2)
    assert bakeoff.expected_calibration_error([0, 0], edge) == pytest.approx(1 - 8 / 15)


def test_ece_agrees_with_a_plain_loop_on_random_data():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), size=500)
    y = rng.integers(0, 3, 500)
    confidence, right = proba.max(axis=1), proba.argmax(axis=1) == y
    edges = np.linspace(0, 1, 16)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.sum() * abs(right[inside].mean() - confidence[inside].mean())
    assert bakeoff.expected_calibration_error(y, proba) == pytest.approx(total / 500)


def test_rows_without_ece_get_it_from_their_probabilities():
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    row = toy_row("skevonas", proba=bakeoff.encode_proba(proba))
    del row["ece"]
    expected = bakeoff.expected_calibration_error(row["y_test"], bakeoff.decode_proba(row["proba"]))
    assert bakeoff.row_ece(row) == pytest.approx(expected)


def test_the_calibrated_method_is_the_search_with_calibrate_on():
    assert "calibrated" in bakeoff.METHODS and "calibrated" in bakeoff.SEARCH_METHODS
    clf = bakeoff.skevonas_estimator(quick=True, seed=0, calibrate=True)
    assert clf.calibrate is True
    assert bakeoff.skevonas_estimator(quick=True, seed=0).calibrate is False


def test_the_inheriting_methods_set_their_share():
    for method, share in (("inherit", True), ("inherit-third", 1 / 3), ("local-inherit", True)):
        assert method in bakeoff.METHODS and method in bakeoff.SEARCH_METHODS
        assert bakeoff.INHERIT[method] == share
    assert bakeoff.skevonas_estimator(quick=True, seed=0, inherit=1.0).inherit_weights == 1.0
    assert bakeoff.skevonas_estimator(quick=True, seed=0).inherit_weights is False


def test_time_to_the_seed_level_reads_the_arrival_trace():
    # seconds, key, score, status, fit time, rung, is a seed
    trace = [
        [10.0, "a", 0.80, "ok", 40.0, None, True],
        [12.0, "b", 0.70, "ok", 30.0, None, True],
        [20.0, "c", 0.85, "partial", 5.0, 0, False],  # not its full budget
        [50.0, "d", 0.79, "ok", 20.0, None, False],
        [90.0, "e", 0.80, "ok", 20.0, None, False],
    ]
    assert bakeoff.time_to_seed_level({"arrivals": trace}) == (0.80, 40.0, 90.0)
    assert bakeoff.time_to_seed_level({"arrivals": trace[:4]}) == (0.80, 40.0, None)
    assert bakeoff.time_to_seed_level({}) is None
    row = {"dataset": "D", "method": "skevonas", "resample": 0, "seed": 0, "arrivals": trace}
    assert (
        bakeoff.seed_level_table([row])[-1] == "| D | skevonas | r0 s0 | 0.8000 | 40 | 90 | 2.25 |"
    )
    assert bakeoff.seed_level_table([{**row, "arrivals": None}]) == []


def test_the_lowdata_method_sets_the_data_fidelity():
    assert "lowdata" in bakeoff.METHODS and "lowdata" in bakeoff.SEARCH_METHODS
    clf = bakeoff.skevonas_estimator(quick=True, seed=0, low_data=bakeoff.LOW_DATA)
    assert clf.min_data_fraction == bakeoff.LOW_DATA < 1
    assert bakeoff.skevonas_estimator(quick=True, seed=0).min_data_fraction == 1.0


def test_the_async_method_is_the_search_without_a_generation_barrier():
    assert "async" in bakeoff.METHODS and "async" in bakeoff.SEARCH_METHODS
    clf = bakeoff.skevonas_estimator(quick=True, seed=0, asynchronous=True)
    assert clf.strategy == "asynchronous"
    assert bakeoff.skevonas_estimator(quick=True, seed=0).strategy == "generational"


def test_the_local_methods_and_a_time_budget_set_the_search():
    for method in ("local", "local-inherit"):
        assert method in bakeoff.METHODS and method in bakeoff.SEARCH_METHODS
    clf = bakeoff.skevonas_estimator(quick=True, seed=0, local=True, max_time=60.0)
    assert clf.local_rate == bakeoff.LOCAL_RATE > 0 and clf.max_time == 60.0
    plain = bakeoff.skevonas_estimator(quick=True, seed=0)
    assert plain.local_rate == 0.0 and plain.max_time is None
    # a row run before local_rate existed tabulates with rows at its default
    old = toy_row("skevonas", settings={"random_state": 0})
    new = toy_row("skevonas", resample=1, settings={"random_state": 0, "local_rate": 0.0})
    assert bakeoff.settings_key(old) == bakeoff.settings_key(new)


def test_rows_older_than_a_setting_tabulate_with_rows_at_its_default():
    old = toy_row("skevonas", settings={"random_state": 0, "max_epochs": 3})
    new = toy_row(
        "skevonas",
        resample=1,
        settings={"random_state": 0, "max_epochs": 3, "calibrate": False, "class_weight": None},
    )
    bakeoff.check_comparable([old, new])
    other = toy_row("skevonas", resample=2, settings={"max_epochs": 3, "calibrate": True})
    with pytest.raises(ValueError, match="skevonas on toy"):
        bakeoff.check_comparable([old, other])
