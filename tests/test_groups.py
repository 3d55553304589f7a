"""groups (issue 30): every internal split keeps a subject, session or recording on one side.

The splits themselves (skevonas.training.groups), the searches that use
them (shared and reshuffled holdouts, inherited splits, the finalists'
folds, GenomeClassifier's validation part), scikit-learn's metadata routing,
the resume check, and the simulated subjects on which a random holdout
overstates the score and a grouped one does not.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import (
    GroupKFold,
    StratifiedKFold,
    StratifiedShuffleSplit,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skevonas import EvolutionaryNASClassifier, Genome, GenomeClassifier, LayerGene
from skevonas.datasets import make_subjects
from skevonas.prepare import check_groups, prepare_data, split_data
from skevonas.store.checkpoint import CheckpointError
from skevonas.store.resume import check_compatible
from skevonas.training.candidate import CandidateData, Split
from skevonas.training.groups import grouped_fold, grouped_holdout

TINY = {
    "population_size": 3,
    "n_generations": 2,
    "max_epochs": 2,
    "cv": 2,
    "n_finalists": 2,
    "random_state": 0,
}


def _subjects(sizes, seed=0):
    """Groups of the given sizes, each with both classes in a random order."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(len(sizes)), sizes)
    y = np.concatenate([rng.permutation(np.arange(n) % 2) for n in sizes])
    return groups, y


def _apart(groups, train, valid):
    return not set(groups[train].tolist()) & set(groups[valid].tolist())


# --------------------------------------------------------------------------- the splits
def test_grouped_holdout_keeps_groups_apart_near_the_size_and_the_class_shares():
    sizes = [6, 9, 12, 8, 10, 7, 11, 6, 9, 12, 8, 10, 7, 11, 6, 9, 12, 8, 10, 9]
    groups, y = _subjects(sizes)
    n_valid = math.ceil(0.2 * len(y))
    drawn = set()
    for seed in range(30):
        train, valid = grouped_holdout(groups, y, n_valid, seed)
        assert _apart(groups, train, valid)
        assert sorted(np.concatenate([train, valid]).tolist()) == list(range(len(y)))
        assert abs(len(valid) - n_valid) <= 3  # whole groups: about the size asked for
        assert abs(y[valid].mean() - y.mean()) < 0.1  # stratified
        drawn.add(tuple(sorted(set(groups[valid].tolist()))))
        again = grouped_holdout(groups, y, n_valid, seed)
        assert all(np.array_equal(a, b) for a, b in zip((train, valid), again, strict=True))
    assert len(drawn) > 10  # the seed draws the holdout


def test_grouped_holdout_stratifies_subjects_of_one_class():
    # subject-level labels (patients and controls): only whole subjects can be held out
    groups = np.repeat(np.arange(12), 5)
    y = (np.arange(12) % 3 == 0).astype(np.int64)[groups]  # 4 subjects of class 1, 8 of 0
    for seed in range(10):
        train, valid = grouped_holdout(groups, y, 15, seed)
        assert _apart(groups, train, valid)
        assert np.bincount(y[valid]).tolist() == [10, 5]  # 2 + 1 subjects: the class shares


def test_grouped_holdout_leaves_a_group_on_each_side_however_big():
    groups, y = np.repeat([0, 1], [40, 4]), np.tile([0, 1], 22)
    for n_valid in (1, 30, 43):
        train, valid = grouped_holdout(groups, y, n_valid, seed=0)
        assert len(train) and len(valid) and _apart(groups, train, valid)


def test_grouped_folds_partition_the_samples_by_group():
    groups, y = _subjects([6, 9, 12, 8, 10, 7, 11, 6, 9])
    valids = []
    for fold in range(3):
        train, valid = grouped_fold(groups, y, n_folds=3, fold=fold, seed=5)
        assert _apart(groups, train, valid)
        valids.append(valid)
    assert sorted(np.concatenate(valids).tolist()) == list(range(len(y)))


def test_candidate_data_splits_by_group_when_it_has_groups():
    groups, y = _subjects([5] * 10)
    X = np.arange(len(y), dtype=np.float32)[:, None]
    data = CandidateData(X[:40], y[:40], X[40:], y[40:], 2, groups=groups)
    for split in (Split(3), Split(3, n_folds=4, fold=1)):
        train, valid = data.split_indices(split)
        assert _apart(groups, train, valid)
        part = data.resplit(split)  # what a candidate trains on, groups carried along
        assert part.groups is not None and _apart(
            part.groups, np.arange(len(part.y_train)), len(part.y_train) + np.arange(10)
        )
        assert part.X_valid[:, 0].tolist() == X[valid, 0].tolist()


def test_without_groups_the_splits_are_exactly_the_ungrouped_ones():
    # groups=None keeps today's splits: the same samples in the same order
    groups, y = _subjects([8] * 10)
    X = np.arange(len(y), dtype=np.float32)[:, None]
    parts = split_data(X, y, np.array([0, 1]), validation_fraction=0.2, seed=11)
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=16, random_state=11)
    train, valid = next(splitter.split(X, y))
    assert parts.X_valid[:, 0].tolist() == valid.tolist() and parts.groups is None
    data = CandidateData(X[:64], y[:64], X[64:], y[64:], 2)
    folds = StratifiedKFold(3, shuffle=True, random_state=7).split(X, y)
    assert np.array_equal(data.split_indices(Split(7, 3, 2))[1], list(folds)[2][1])


def test_split_data_with_groups_holds_whole_groups_and_keeps_them():
    groups, y = _subjects([7, 9, 6, 8, 10, 5, 9, 6])
    X = np.arange(len(y), dtype=np.float32)[:, None]
    parts = split_data(X, y, np.array([0, 1]), validation_fraction=0.25, seed=0, groups=groups)
    order = np.concatenate([parts.X_train[:, 0], parts.X_valid[:, 0]]).astype(int)
    assert np.array_equal(parts.groups, groups[order])
    assert _apart(groups, parts.X_train[:, 0].astype(int), parts.X_valid[:, 0].astype(int))
    assert abs(len(parts.y_valid) - 15) <= 3
    prepared = prepare_data(X, y, validation_fraction=0.25, random_state=0, groups=groups)
    assert set(prepared.parts.groups[len(prepared.parts.y_train) :]).isdisjoint(
        prepared.parts.groups[: len(prepared.parts.y_train)]
    )


def test_a_grouped_holdout_that_must_miss_a_class_is_refused():
    groups = np.repeat(np.arange(4), 5)
    y = (groups == 0).astype(np.int64)  # class 1 lives in subject 0 alone
    with pytest.raises(ValueError, match=r"groups leave class 1 out of the (training|validation)"):
        split_data(
            np.zeros((20, 2)), y, np.array([0, 1]), validation_fraction=0.2, seed=0, groups=groups
        )


@pytest.mark.parametrize(
    "groups, kwargs, message",
    [
        (np.arange(5), {}, r"one group per sample \(6 samples\), got shape \(5,\)"),
        (np.zeros((6, 2)), {}, r"got shape \(6, 2\)"),
        ([0, 1, np.nan, 1, 0, 1], {}, r"got NaN or None instead \(at sample 2\)"),
        (["a", "b", None, "a", "b", "a"], {}, r"got NaN or None instead \(at sample 2\)"),
        (["s1"] * 6, {}, r"at least 2 distinct groups .* got 1 group \('s1'\) instead"),
        ([0, 0, 1, 1, 0, 1], {"n_folds": 3}, r"at least 3 distinct groups .* got 2 instead"),
        (np.array(["a", 1, "b", 2, "a", 1], dtype=object), {}, r"one type"),
    ],
)
def test_bad_groups_are_clear_errors(groups, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_groups(groups, 6, **kwargs)


def test_groups_are_coded_by_their_sorted_labels():
    assert check_groups(["b", "a", "c", "a"], 4).tolist() == [1, 0, 2, 0]
    assert check_groups(np.array([3.0, 1.0, 3.0]), 3).tolist() == [1, 0, 1]


# --------------------------------------------------------------------------- the search
seen: list[np.ndarray] = []


def recording(net, X, y):
    """A scorer that keeps the first feature (the group) of every validation part it sees."""
    X = getattr(X, "X", X)
    X = np.asarray(X.cpu() if hasattr(X, "cpu") else X)
    seen.append(np.round(X[:, 0]).astype(int))
    return float(np.mean(net.predict(X) == np.asarray(y)))


def _marked():
    """Data whose first feature is its sample's group: 8 subjects of 6 trials."""
    rng = np.random.default_rng(0)
    groups, y = _subjects([6] * 8)
    X = np.column_stack([groups, rng.normal(size=(len(y), 3)) + y[:, None]])
    return X.astype(np.float32), y, groups


def _whole(parts, groups):
    """Whether every part holds whole groups (a group there has all its samples there)."""
    sizes = np.bincount(groups)
    return all(
        np.array_equal(np.bincount(p, minlength=len(sizes))[np.unique(p)], sizes[np.unique(p)])
        for p in parts
    )


@pytest.mark.parametrize("holdout", ["reshuffled", "fixed"])
@pytest.mark.parametrize("inherit", [False, True])
def test_the_search_scores_every_candidate_and_fold_on_whole_groups(holdout, inherit):
    X, y, groups = _marked()
    # standardize=False: the scorer sees X as given (the group in its first feature)
    settings = dict(TINY, holdout=holdout, inherit_weights=inherit, scoring=recording)
    settings["standardize"] = False
    seen.clear()
    EvolutionaryNASClassifier(**settings).fit(X, y, groups=groups)
    holdouts = [s for s in seen if len(s) < 20]  # 20% of 48 samples: 2 groups
    folds = [s for s in seen if len(s) == 24]  # cv=2
    assert holdouts and folds and _whole(holdouts + folds, groups)
    distinct = {tuple(sorted(set(s.tolist()))) for s in holdouts}
    assert (len(distinct) > 1) == (holdout == "reshuffled")  # reshuffled: drawn per candidate
    seen.clear()  # the same search without groups mixes subjects across the parts
    EvolutionaryNASClassifier(**settings).fit(X, y)
    assert not _whole([s for s in seen if len(s) < 48], groups)


def test_genome_classifier_validates_on_whole_groups():
    X, y, groups = _marked()
    genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    clf = GenomeClassifier(
        genome, max_epochs=2, scoring=recording, standardize=False, random_state=0
    )
    seen.clear()
    clf.fit(X, y, groups=groups)
    assert seen and _whole(seen, groups)
    seen.clear()
    clf.fit(X, y)
    assert not _whole(seen, groups)
    with pytest.raises(ValueError, match="at least 2 distinct groups"):
        clf.fit(X, y, groups=np.zeros(len(y)))


def test_a_refused_fit_changes_nothing_fitted():
    X, y, groups = _marked()
    clf = EvolutionaryNASClassifier(**TINY).fit(X, y, groups=groups)
    before = clf.best_genome_, clf.evaluations_
    with pytest.raises(ValueError, match=r"at least 3 distinct groups .*\(cv=3\), got 2"):
        clf.set_params(cv=3).fit(X, y, groups=groups % 2)
    with pytest.raises(ValueError, match="one group per sample"):
        clf.fit(X, y, groups=groups[:-1])
    assert (clf.best_genome_, clf.evaluations_) == before


@pytest.mark.slow  # starts worker processes
def test_grouped_results_do_not_depend_on_n_jobs():
    X, y, groups = _marked()
    runs = [
        EvolutionaryNASClassifier(**TINY, n_jobs=n_jobs).fit(X, y, groups=groups)
        for n_jobs in (1, 2)
    ]
    assert [r["score"] for r in runs[0].evaluations_] == [r["score"] for r in runs[1].evaluations_]
    assert runs[0].best_score_ == runs[1].best_score_


# --------------------------------------------------------------------------- metadata routing
def _groups_hash(groups):
    return hashlib.sha256(check_groups(groups, len(groups)).data).hexdigest()


def _received(estimator):
    """The hash of the groups a fitted search received (None: it got none)."""
    return estimator.search_state_.meta["data"].get("groups")


def _check_each_fold_got_its_training_groups(result, groups):
    for est, train in zip(result["estimator"], result["indices"]["train"], strict=True):
        final = est[-1] if hasattr(est, "steps") else est
        assert _received(final) == _groups_hash(groups[train])


FAST_CV = dict(TINY, population_size=2, n_generations=1, max_epochs=1)


def test_cross_validate_hands_groups_to_fit_without_routing():
    X, y, groups = _marked()
    result = cross_validate(
        EvolutionaryNASClassifier(**FAST_CV),
        X,
        y,
        groups=groups,
        cv=GroupKFold(2),
        params={"groups": groups},
        return_estimator=True,
        return_indices=True,
    )
    _check_each_fold_got_its_training_groups(result, groups)


def test_with_routing_fit_requests_groups_by_default_and_can_decline_them():
    X, y, groups = _marked()
    with sklearn.config_context(enable_metadata_routing=True):
        clf = EvolutionaryNASClassifier(**FAST_CV)
        assert clf.get_metadata_routing().fit.requests == {"groups": True}
        for estimator in (
            clf,
            make_pipeline(StandardScaler(), EvolutionaryNASClassifier(**FAST_CV)),
        ):
            result = cross_validate(
                estimator,
                X,
                y,
                cv=GroupKFold(2),
                params={"groups": groups},
                return_estimator=True,
                return_indices=True,
            )
            _check_each_fold_got_its_training_groups(result, groups)
        explicit = EvolutionaryNASClassifier(**FAST_CV).set_fit_request(groups=True)
        pipe = make_pipeline(StandardScaler(), explicit).fit(X, y, groups=groups)
        assert _received(pipe[-1]) == _groups_hash(groups)
        declined = EvolutionaryNASClassifier(**FAST_CV).set_fit_request(groups=False)
        result = cross_validate(
            declined, X, y, cv=GroupKFold(2), params={"groups": groups}, return_estimator=True
        )
        assert [_received(est) for est in result["estimator"]] == [None, None]
        genome = GenomeClassifier().get_metadata_routing().fit.requests
        assert genome == {"groups": True}


def test_a_pipeline_without_routing_takes_groups_as_a_step_parameter():
    X, y, groups = _marked()
    pipe = make_pipeline(StandardScaler(), EvolutionaryNASClassifier(**FAST_CV))
    pipe.fit(X, y, evolutionarynasclassifier__groups=groups)
    assert _received(pipe[-1]) == _groups_hash(groups)


# --------------------------------------------------------------------------- resume
def test_a_resume_with_other_groups_is_refused(tmp_path):
    X, y, groups = _marked()
    settings = dict(TINY, n_generations=1, checkpoint_dir=tmp_path)
    EvolutionaryNASClassifier(**settings).fit(X, y, groups=groups)
    resumed = EvolutionaryNASClassifier(**dict(settings, n_generations=2, warm_start=True))
    with pytest.raises(CheckpointError, match=r"the groups differ"):
        resumed.fit(X, y, groups=np.roll(groups, 6))
    with pytest.raises(CheckpointError, match=r"groups given there, none here"):
        resumed.fit(X, y)
    resumed.fit(X, y, groups=[f"s{g}" for g in groups])  # same subjects, other labels: goes on
    assert len(resumed.history_) == 2
    in_memory = EvolutionaryNASClassifier(**TINY).fit(X, y, groups=groups)
    with pytest.raises(CheckpointError, match=r"the groups differ"):
        in_memory.set_params(n_generations=3, warm_start=True).fit(X, y, groups=groups[::-1])


def test_a_checkpoint_without_groups_resumes_only_without_groups(tmp_path):
    X, y, groups = _marked()
    settings = dict(TINY, n_generations=1, checkpoint_dir=tmp_path)
    EvolutionaryNASClassifier(**settings).fit(X, y)
    resumed = EvolutionaryNASClassifier(**dict(settings, n_generations=2, warm_start=True))
    with pytest.raises(CheckpointError, match=r"groups none there, given here"):
        resumed.fit(X, y, groups=groups)
    assert len(resumed.fit(X, y).history_) == 2
    old = {"settings": {}, "data": {"shape": [4], "classes": ["a"], "sha256": "x"}}
    check_compatible(old, {"settings": {}, "data": dict(old["data"])}, "an old checkpoint")


# --------------------------------------------------------------------------- simulated subjects
def test_make_subjects_is_balanced_seeded_and_checked():
    X, y, groups = make_subjects(n_subjects=5, n_trials=8, n_features=3, random_state=1)
    assert X.shape == (40, 3) and X.dtype == np.float32
    assert np.bincount(groups).tolist() == [8] * 5
    assert all(y[groups == s].sum() == 4 for s in range(5))
    again = make_subjects(n_subjects=5, n_trials=8, n_features=3, random_state=1)
    assert np.array_equal(X, again[0]) and np.array_equal(y, again[1])
    with pytest.raises(ValueError, match="n_subjects must be an int >= 2, got 1 instead"):
        make_subjects(n_subjects=1)
    with pytest.raises(ValueError, match="noise must be a finite float >= 0, got -1.0 instead"):
        make_subjects(noise=-1.0)


def test_a_random_holdout_overstates_the_score_on_new_subjects_and_a_grouped_one_does_not():
    # 12 subjects to search on, 6 new ones to test on; the searches' estimates
    # (the finalists' 3-fold cross-validation) against the score on the new subjects
    X, y, groups = make_subjects(random_state=0)
    search, new = groups < 12, groups >= 12
    ungrouped, grouped = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in (0, 1):
            settings = dict(
                population_size=2,
                n_generations=1,
                max_epochs=10,
                cv=3,
                n_finalists=2,
                random_state=seed,
            )
            for given, found in ((None, ungrouped), (groups[search], grouped)):
                clf = EvolutionaryNASClassifier(**settings)
                clf.fit(X[search], y[search], groups=given)
                found.append(clf.best_score_ - clf.score(X[new], y[new]))
    # measured: +0.17 for the random holdout, +0.01 for the grouped one (and on
    # make_subjects' random_state 1 to 3: +0.12 to +0.27, and -0.11 to +0.04)
    assert np.mean(ungrouped) > 0.1  # the random holdout's optimism
    assert abs(np.mean(grouped)) < 0.08
    assert np.mean(ungrouped) - np.mean(grouped) > 0.1


# --------------------------------------------------------------------------- the command line
CLI_TINY = ["--population-size", "2", "--n-generations", "1", "--max-epochs", "1"]
CLI_TINY += ["--n-finalists", "2", "--cv", "2", "--n-jobs", "1", "--quiet"]


def test_the_command_line_reads_groups_from_a_csv_column_or_an_npz_array(tmp_path, capsys):
    from skevonas.cli.commands import SUMMARY_FILE, main
    from skevonas.store.checkpoint import load_checkpoint

    X, y, groups = _marked()
    table = tmp_path / "subjects.csv"
    lines = ["subject,a,b,c,label"]
    lines += [f"S{g},{r[1]},{r[2]},{r[3]},{c}" for g, r, c in zip(groups, X, y, strict=True)]
    table.write_text("\n".join(lines) + "\n")
    arrays = tmp_path / "subjects.npz"
    np.savez(arrays, X=X[:, 1:], y=y, subject=groups)
    for data in (table, arrays):
        out, checkpoints = tmp_path / f"out-{data.suffix[1:]}", tmp_path / f"ck-{data.suffix[1:]}"
        argv = ["search", str(data), "--groups", "subject", *CLI_TINY]
        assert main([*argv, "--output", str(out), "--checkpoint-dir", str(checkpoints)]) == 0
        summary = json.loads((out / SUMMARY_FILE).read_text())
        assert summary["data"]["groups"] == "subject"
        if data is table:  # the groups column is no feature
            assert summary["data"]["feature_names"] == ["a", "b", "c"]
        meta = load_checkpoint(checkpoints).meta["data"]
        assert meta["groups"] == _groups_hash(groups)
    # predict leaves the groups column out of the features, as search did
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "out-csv"), str(table), "--groups", "subject"]) == 0
    assert f"on {len(y)} samples" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "out-csv"), str(table)]) == 2
    assert "column 'subject': 'S0' is not a finite number" in (err := capsys.readouterr().err)
    assert "a groups column, with --groups" in err
    for data, expected in (
        (table, "has no groups column 'session' besides the label column"),
        (arrays, "has no array named 'session' with the groups"),
    ):
        assert main(["search", str(data), "--groups", "session", *CLI_TINY]) == 2
        assert expected in capsys.readouterr().err
    (tmp_path / "subjects-epo.fif").write_bytes(b"")  # refused before it is read
    assert main(["search", str(tmp_path / "subjects-epo.fif"), "--groups", "subject"]) == 2
    assert "a .fif file of Epochs holds no groups to read" in capsys.readouterr().err


def test_grouped_holdout_takes_any_group_labels():
    groups, y = _subjects([5] * 6)
    codes = grouped_holdout(groups, y, 10, seed=1)
    for labels in (groups * 7 - 3, np.array([f"s{g}" for g in groups])):
        assert all(
            np.array_equal(a, b)
            for a, b in zip(grouped_holdout(labels, y, 10, seed=1), codes, strict=True)
        )
