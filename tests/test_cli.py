"""The command line, run as a user would: in a subprocess.

Each subprocess pays about 3 s to import torch, so the searches run once per
module (fixtures) and several checks read the same output. Checks that fail
before any training (``--help``, bad files and options) call ``main`` in
this process; ``test_help_and_errors`` shows that ``python -m skevonas``
turns its return value into the exit status.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris

from skevonas import EvolutionaryNASClassifier, Genome, eegnet_genome, load, standard_eeg_genomes
from skevonas import settings as settings_module
from skevonas.cli.commands import (
    EVALUATION_COLUMNS,
    SUMMARY_FILE,
    _prepare_output,
    _search_settings,
    main,
)
from skevonas.cli.files import load_table_or_arrays
from skevonas.cli.parser import (
    HOLDOUTS,
    LR_SCHEDULES,
    SEARCH_DEFAULTS,
    SEARCH_SPACES,
    STRATEGIES,
    build_parser,
)
from skevonas.datasets import load_eeg
from skevonas.spaces.catalogue import SPACES, get_space

# The models of a search on a CSV file know their feature names; these
# checks predict with plain arrays, as the command itself does after matching
# the columns by name.
pytestmark = pytest.mark.filterwarnings("ignore:X does not have valid feature names:UserWarning")

ROOT = Path(__file__).resolve().parents[1]
# Two finalists, two folds: the final model costs 4 fits and at most 2 refits.
TINY = [
    "--population-size",
    "4",
    "--n-generations",
    "2",
    "--max-epochs",
    "2",
    "--n-finalists",
    "2",
    "--cv",
    "2",
    "--n-jobs",
    "1",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*args, cwd=None, timeout=300):
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-m", "skevonas", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path},
    )


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


# --------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    """Iris as a CSV file whose label column 'species' holds the class names."""
    data = load_iris()
    path = tmp_path_factory.mktemp("data") / "iris.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["sepal_length", "sepal_width", "petal_length", "petal_width", "species"])
        for x, target in zip(data.data, data.target, strict=True):
            writer.writerow([*x, data.target_names[target]])
    return path


@pytest.fixture(scope="module")
def eeg_npz(tmp_path_factory):
    """60 SCP1 training trials, every 8th time sample, as X (3-D) and y; 30 test trials as X."""
    data = load_eeg("SelfRegulationSCP1")
    folder = tmp_path_factory.mktemp("eeg")
    train = np.arange(0, len(data.y_train), 4)[:60]
    np.savez(folder / "scp1.npz", X=data.X_train[train, :, ::8], y=data.y_train[train])
    np.savez(folder / "scp1_new.npz", X=data.X_test[:30, :, ::8])
    return folder / "scp1.npz", folder / "scp1_new.npz"


@pytest.fixture(scope="module")
def iris_search(iris_csv, tmp_path_factory):
    """A tiny search on the CSV file, with the progress bar: (result, output folder)."""
    folder = tmp_path_factory.mktemp("runs") / "iris-out"
    result = run("search", iris_csv, "--label-column", "species", "--output", folder, *TINY)
    assert result.returncode == 0, result.stderr
    return result, folder


@pytest.fixture(scope="module")
def eeg_search(eeg_npz, tmp_path_factory):
    """A tiny, quiet search on the 3-D npz file into the default folder: (result, folder).

    ``--decimate 2``: the model halves the time axis inside, so it predicts
    on data at the file's rate.
    """
    cwd = tmp_path_factory.mktemp("cwd")
    result = run("search", eeg_npz[0], "--quiet", *TINY, "--decimate", "2", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result, cwd / "skevonas-search-scp1"


def check_output_folder(folder):
    """Every file is there and consistent; return (summary, loaded model)."""
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["command"] == "skevonas search"
    assert summary["files"] == [
        "model.skevonas",
        "best_genome.json",
        "evaluations.csv",
        "history.csv",
        "fitness.png",
        "summary.json",
    ]
    assert summary["settings"]["population_size"] == 4
    assert summary["stop_reason"] == "completed 2 generations"
    model = load(folder / "model.skevonas")  # no pickle
    assert isinstance(model, EvolutionaryNASClassifier)
    genome = Genome.from_json((folder / "best_genome.json").read_text())
    assert genome == model.best_genome_
    assert summary["best_genome_key"] == genome.short_key()
    # best_score is the final model's estimate, not any one candidate's holdout score
    assert summary["best_score"] == pytest.approx(model.best_score_)
    assert summary["decimation"] == model.decimation_
    evaluations = read_csv((folder / "evaluations.csv").read_text())
    assert len(evaluations) == summary["n_candidates"] == len(model.evaluations_)
    assert list(evaluations[0]) == list(EVALUATION_COLUMNS)
    assert {row["status"] for row in evaluations} == {"ok"}
    scores = {row["key"]: float(row["score"]) for row in evaluations}
    # the final model: its members (best_genome_ first) and the finalists they came from
    members = summary["ensemble"]
    assert [m["key"] for m in members] == [g.short_key() for g in model.ensemble_genomes_]
    assert [m["weight"] for m in members] == pytest.approx(model.ensemble_weights_)
    assert members[0]["key"] == genome.short_key() and sum(m["weight"] for m in members) == 1
    finalists = summary["finalists"]
    # (a loaded model has no finalists_: summary.json is where they are kept)
    assert len(finalists) == min(summary["settings"]["n_finalists"], len(scores))
    assert len({f["key"] for f in finalists}) == len(finalists)
    # the finalists are the best holdout scores, and every member is one of them
    assert [f["holdout_score"] for f in finalists] == pytest.approx(
        sorted(scores.values(), reverse=True)[: len(finalists)]
    )
    for f in finalists:
        assert f["holdout_score"] == pytest.approx(scores[f["key"]])
        assert len(f["cv_scores"]) == (summary["settings"]["cv"] or 0)
    weights = {f["key"]: f["weight"] for f in finalists}
    assert {m["key"]: m["weight"] for m in members} == {k: w for k, w in weights.items() if w}
    history = read_csv((folder / "history.csv").read_text())
    assert [int(row["generation"]) for row in history] == [0, 1]
    assert (folder / "fitness.png").read_bytes()[:8] == PNG_SIGNATURE
    return summary, model


def describes_the_final_model(stdout, family):
    """What the command prints after a search: one network of ``family``, or an ensemble."""
    return "estimated accuracy: " in stdout and (
        f"{family} genome" in stdout or "ensemble of " in stdout
    )


# --------------------------------------------------------------------------- search
def test_search_on_csv_writes_every_file(iris_search, iris_csv):
    result, folder = iris_search
    assert describes_the_final_model(result.stdout, "mlp")
    assert "finalists (holdout score, cross-validated score" in result.stdout
    assert "wrote model.skevonas" in result.stdout
    assert "cand" in result.stderr  # the tqdm progress bar
    summary, model = check_output_folder(folder)
    assert summary["data"]["label_column"] == "species"
    assert summary["data"]["classes"] == ["setosa", "versicolor", "virginica"]
    assert summary["search_space"] == "mlp"
    X, y = load_table_or_arrays(iris_csv, "species")
    assert np.mean(model.predict(X) == y) > 0.5


def test_search_on_npz_into_the_default_folder(eeg_search, eeg_npz):
    result, folder = eeg_search
    assert describes_the_final_model(result.stdout, "eeg")
    assert "cand" not in result.stderr  # --quiet: no progress bar
    summary, model = check_output_folder(folder)
    assert summary["data"]["sample_shape"] == [6, 112]
    assert summary["settings"]["decimate"] == 2 and summary["decimation"] == 2
    assert model.decimation_ == 2 and "input decimated by 2 in time" in result.stdout
    assert summary["data"]["label_column"] is None
    assert summary["search_space"] == "eeg"
    X, _ = load_table_or_arrays(eeg_npz[1], require_labels=False)
    assert model.predict(X).shape == (30,)


def test_search_seeded_with_an_earlier_best_genome(eeg_search, eeg_npz, tmp_path, capsys):
    _, earlier = eeg_search
    best = json.loads((earlier / "best_genome.json").read_text())
    folder = tmp_path / "seeded"
    argv = ["search", str(eeg_npz[0]), "--quiet", *TINY, "--decimate", "2"]
    argv += ["--output", str(folder)]
    assert main([*argv, "--initial-genomes", str(earlier / "best_genome.json")]) == 0
    capsys.readouterr()
    summary, model = check_output_folder(folder)
    assert summary["settings"]["initial_genomes"] == [best]
    first = {r["key"] for r in model.evaluations_ if r["generation"] == 0}
    # the earlier best genome was drawn from the same space (same data, same decimation),
    # so it is seeded as it is: repair leaves a genome of the space unchanged
    assert Genome.from_json(json.dumps(best)).short_key() in first
    # "none": no standard network in the first generation of an EEG search
    assert main([*argv, "--initial-genomes", "none", "--overwrite"]) == 0
    capsys.readouterr()
    summary, model = check_output_folder(folder)
    assert summary["settings"]["initial_genomes"] is None
    first = {r["key"] for r in model.evaluations_ if r["generation"] == 0}
    # a loaded model has no search_space_; the space saw the decimated samples
    channels, times = model.sample_shape_
    space = get_space(summary["search_space"], (channels, -(-times // model.decimation_)))
    repaired = [space.repair(g).short_key() for g in standard_eeg_genomes()]
    assert not first & set(repaired)


def test_search_with_multi_fidelity(iris_csv, tmp_path, capsys):
    folder = tmp_path / "halving"
    argv = ["search", str(iris_csv), "--label-column", "species", "--quiet", *TINY]
    argv += ["--max-epochs", "4", "--min-epochs", "1", "--halving-factor", "2"]
    assert main([*argv, "--output", str(folder)]) == 0
    capsys.readouterr()
    summary = json.loads((folder / SUMMARY_FILE).read_text())
    assert summary["settings"]["min_epochs"] == 1 and summary["settings"]["halving_factor"] == 2
    rows = read_csv((folder / "evaluations.csv").read_text())
    assert {row["status"] for row in rows} == {"ok", "partial"}
    # the finalists are the best full-budget candidates, whatever a partial one scored;
    # their cross-validation chooses the final model among them
    assert [f["key"] for f in summary["finalists"]] == best_full_budget_keys(rows, 2)
    assert summary["best_genome_key"] in best_full_budget_keys(rows, 2)
    assert {m["key"] for m in summary["ensemble"]} <= set(best_full_budget_keys(rows, 2))


def test_search_without_cross_validation_keeps_the_best_holdout_score(iris_csv, tmp_path, capsys):
    # the old single-winner recipe: one shared holdout, the best score wins, alone
    folder = tmp_path / "single"
    argv = ["search", str(iris_csv), "--label-column", "species", "--quiet", *TINY]
    argv += ["--cv", "none", "--ensemble-size", "1", "--holdout", "fixed"]
    assert main([*argv, "--output", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "no cross-validation: the estimate is the best holdout score" in out
    summary, model = check_output_folder(folder)
    settings = summary["settings"]
    assert (settings["cv"], settings["ensemble_size"], settings["holdout"]) == (None, 1, "fixed")
    rows = read_csv((folder / "evaluations.csv").read_text())
    best = best_full_budget_keys(rows, 1)[0]
    assert summary["best_genome_key"] == best
    assert summary["best_score"] == pytest.approx(max(float(r["score"]) for r in rows))
    assert summary["ensemble"] == [{"key": best, "weight": 1.0}]
    assert [f["cv_score"] for f in summary["finalists"]] == [None, None]
    assert summary["decimation"] == 1 and model.decimation_ == 1


def best_full_budget_keys(rows, n):
    """The ``n`` best distinct genome keys among the full-budget rows (ties: the earlier)."""
    ranked = sorted(
        (r for r in rows if r["status"] == "ok"),
        key=lambda r: (-float(r["score"]), int(r["index"])),
    )
    return list(dict.fromkeys(r["key"] for r in ranked))[:n]


# --------------------------------------------------------------------------- predict
def test_predict_csv_with_labels_and_proba_to_stdout(iris_search, iris_csv):
    _, folder = iris_search
    result = run("predict", folder, iris_csv, "--label-column", "species", "--proba")
    assert result.returncode == 0, result.stderr
    rows = read_csv(result.stdout)
    classes = ["setosa", "versicolor", "virginica"]
    assert list(rows[0]) == ["prediction", *(f"proba_{c}" for c in classes)]
    model = load(folder / "model.skevonas")
    X, y = load_table_or_arrays(iris_csv, "species")
    assert [row["prediction"] for row in rows] == model.predict(X).tolist()
    proba = np.array([[float(row[f"proba_{c}"]) for c in classes] for row in rows])
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=1e-6)
    accuracy = np.mean(model.predict(X) == y)
    assert f"accuracy {accuracy:.4f} on 150 samples" in result.stderr


def test_predict_npz_without_labels_to_a_file(eeg_search, eeg_npz, tmp_path):
    _, folder = eeg_search
    out = tmp_path / "predictions.csv"
    result = run("predict", folder / "model.skevonas", eeg_npz[1], "--output", out)
    assert result.returncode == 0, result.stderr
    assert "wrote 30 predictions" in result.stdout and "accuracy" not in result.stdout
    rows = read_csv(out.read_text())
    model = load(folder / "model.skevonas")
    X, _ = load_table_or_arrays(eeg_npz[1], require_labels=False)
    assert list(rows[0]) == ["prediction"]
    assert [row["prediction"] for row in rows] == model.predict(X).tolist()


def test_predict_csv_without_label_column(iris_search, iris_csv, tmp_path, capsys):
    _, folder = iris_search
    X, _ = load_table_or_arrays(iris_csv, "species")
    data = tmp_path / "unlabelled.csv"
    header = "sepal_length,sepal_width,petal_length,petal_width\n"
    data.write_text(header + "\n".join(",".join(map(str, x)) for x in X[:7]) + "\n")
    assert main(["predict", str(folder), str(data)]) == 0
    out, err = capsys.readouterr()
    assert len(read_csv(out)) == 7 and "accuracy" not in err


# --------------------------------------------------------------------------- help, errors
def test_help_and_errors():
    top = run("--help")
    assert top.returncode == 0
    for command in ("search", "predict", "demo", "datasets"):
        assert command in top.stdout
    bad = run("demo", "--dataset", "nope")
    assert bad.returncode != 0 and "invalid choice" in bad.stderr
    bad = run("demo", "--population-size", "1", "--n-generations", "1")
    assert bad.returncode == 2
    assert "population_size must be an int >= 2, got 1" in bad.stderr
    bad = run("demo", "--max-sfreq", "-64")
    assert bad.returncode == 2
    assert "max_sfreq must be None or a number > 0, got -64.0" in bad.stderr
    bad = run("demo", "--max-time", "-1")
    assert bad.returncode == 2
    assert "max_time must be None or a number > 0, got -1.0" in bad.stderr


@pytest.mark.parametrize(
    "command, expected",
    [
        ("search", ["DATA", "--population-size", "--max-time", "--checkpoint-dir", "--resume"]),
        (
            "search",
            ["--patience N|none", "--lr-schedule {cosine,constant}", "--label-smoothing F"],
        ),
        ("search", ["--augment augment", "--no-augment train", "--holdout {reshuffled,fixed}"]),
        ("search", ["--n-finalists N", "--cv N|none", "--ensemble-size N", "--decimate auto|N"]),
        ("predict", ["MODEL", "DATA", "--proba", "--allow-pickle", "only load models you trust"]),
        ("demo", ["--dataset", "--max-epochs", "--max-time", "--max-sfreq", "default: 0, off"]),
        ("demo", ["population_size 6, n_generations 3, max_epochs 40, max_time 420."]),
        ("datasets", ["usage: skevonas datasets"]),
    ],
)
def test_help_of_each_command(command, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # undo line wrapping
    for word in expected:
        assert word in text


def test_search_space_choices_are_the_catalogues():
    # --search-space offers "auto" and every named space, read from skevonas.spaces.catalogue.
    assert SEARCH_SPACES == ("auto", *SPACES)
    parser = build_parser()
    for name in SEARCH_SPACES:
        args = parser.parse_args(["search", "data.csv", "--search-space", name])
        assert args.search_space == name
    with pytest.raises(SystemExit):
        parser.parse_args(["search", "data.csv", "--search-space", "transformer"])


def test_search_defaults_are_the_estimators():
    params = EvolutionaryNASClassifier().get_params()
    for name, value in SEARCH_DEFAULTS.items():
        if name not in ("n_jobs", "random_state"):
            assert params[name] == value, name


def test_search_flags_default_to_the_estimators_settings():
    args = build_parser().parse_args(["search", "data.csv"])
    for name, value in SEARCH_DEFAULTS.items():
        assert getattr(args, name) == value, name
    # every setting of the estimator's training recipe and final model has a flag
    for name in (
        "patience",
        "lr_schedule",
        "label_smoothing",
        "augment",
        "holdout",
        "n_finalists",
        "cv",
        "ensemble_size",
        "decimate",
    ):
        assert name in SEARCH_DEFAULTS, name


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--patience", "7"], {"patience": 7}),
        (["--patience", "none"], {"patience": None}),
        (["--lr-schedule", "constant"], {"lr_schedule": "constant"}),
        (["--label-smoothing", "0.1"], {"label_smoothing": 0.1}),
        (["--augment"], {"augment": True}),
        (["--augment", "--no-augment"], {"augment": False}),
        (["--no-augment", "--augment"], {"augment": True}),
        (["--holdout", "fixed"], {"holdout": "fixed"}),
        (["--n-finalists", "6", "--ensemble-size", "1"], {"n_finalists": 6, "ensemble_size": 1}),
        (["--cv", "5"], {"cv": 5}),
        (["--cv", "None"], {"cv": None}),
        (["--decimate", "4"], {"decimate": 4}),
        (["--decimate", "auto"], {"decimate": "auto"}),
        (["--inherit-weights"], {"inherit_weights": True}),
        (["--inherit-weights", "0.5"], {"inherit_weights": 0.5}),
    ],
)
def test_search_flags_of_the_training_recipe_and_final_model(argv, expected):
    args = build_parser().parse_args(["search", "data.csv", *argv])
    assert {name: getattr(args, name) for name in expected} == expected
    settings = _search_settings(args)
    EvolutionaryNASClassifier(**settings).check_settings()  # values the estimator takes


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--patience", "some"], "argument --patience: must be an int or none, got 'some'"),
        (["--cv", "2.5"], "argument --cv: must be an int or none, got '2.5'"),
        (["--decimate", "fast"], "argument --decimate: must be auto or an int, got 'fast'"),
        (["--lr-schedule", "step"], "argument --lr-schedule: invalid choice: 'step'"),
        (["--holdout", "once"], "argument --holdout: invalid choice: 'once'"),
        (["--label-smoothing", "lots"], "argument --label-smoothing: invalid float value"),
        (["--n-finalists", "two"], "argument --n-finalists: invalid int value: 'two'"),
        (["--ensemble-size", "1.5"], "argument --ensemble-size: invalid int value: '1.5'"),
        (["--augment=yes"], "argument --augment: ignored explicit argument 'yes'"),
        (["--inherit-weights", "half"], "argument --inherit-weights: invalid float value"),
    ],
)
def test_bad_values_of_the_new_flags_exit_2(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "data.csv", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("skevonas: error: search: ") and expected in err, err


def test_choices_are_the_estimators():
    assert set(LR_SCHEDULES) == set(settings_module.LR_SCHEDULES)
    assert set(HOLDOUTS) == set(settings_module.HOLDOUTS)
    assert set(STRATEGIES) == set(settings_module.STRATEGIES)


@pytest.fixture
def bad_files(tmp_path):
    """Data files with one problem each."""
    np.savez(tmp_path / "no_x.npz", data=np.zeros((4, 2)), y=np.arange(4))
    np.savez(tmp_path / "lengths.npz", X=np.zeros((10, 3)), y=np.arange(9) % 2)
    np.savez(tmp_path / "no_y.npz", X=np.zeros((10, 3)))
    (tmp_path / "broken.npz").write_bytes(b"not a zip archive")
    (tmp_path / "data.txt").write_text("a,b,label\n1,2,x\n")
    (tmp_path / "ragged.csv").write_text("a,b,label\n1,2,x\n3,y\n")
    (tmp_path / "text.csv").write_text("a,b,label\n1,2,x\n3,abc,y\n")
    (tmp_path / "nolabel.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header_only.csv").write_text("a,b,label\n")
    (tmp_path / "ok.csv").write_text("a,b,label\n" + "1,2,x\n3,4,y\n" * 10)
    (tmp_path / "junk.joblib").write_bytes(b"\x00 not a pickle")
    joblib.dump({"weights": [1, 2]}, tmp_path / "dict.joblib")
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "thesis.tex").write_text("precious")
    (tmp_path / "eegnet.json").write_text(eegnet_genome().to_json())
    (tmp_path / "broken.json").write_text('{"family": "mlp", ')
    (tmp_path / "empty.json").write_text("[]")
    return tmp_path


SEARCH_ERRORS = [
    (["missing.csv"], "no such file: 'missing.csv'"),
    (["data.txt"], "must end in one of ['.npz', '.csv', '-epo.fif']"),
    (["no_x.npz"], "has no array named 'X' (it holds ['data', 'y'])"),
    (["lengths.npz"], "different lengths: 10 samples but 9 labels"),
    (["no_y.npz"], "has no array named 'y'"),
    (["broken.npz"], "is not a valid .npz archive"),
    (["ragged.csv"], "line 3: 2 fields, but the header names 3 columns"),
    (["text.csv"], "line 3, column 'b': 'abc' is not a finite number"),
    (["nolabel.csv"], "has no label column 'label'; its columns are ['a', 'b']"),
    (["ok.csv", "--label-column", "y"], "has no label column 'y'"),
    (["empty.csv"], "is empty"),
    (["header_only.csv"], "has a header but no data rows"),
    (["ok.csv", "--validation-fraction", "1.5"], "validation_fraction must be a float in (0, 1)"),
    (["ok.csv", "--scoring", "nope"], "scoring must be a scikit-learn scorer name"),
    (["ok.csv", "--device", "tpu"], "device"),
    (
        ["ok.csv", "--min-epochs", "0"],
        'min_epochs must be "auto", None or an int in [1, max_epochs]',
    ),
    (["ok.csv", "--halving-factor", "1"], "halving_factor must be an int >= 2, got 1"),
    (["ok.csv", "--patience", "0"], "patience must be None or an int >= 1, got 0"),
    (["ok.csv", "--label-smoothing", "1"], "label_smoothing must be a float in [0, 1), got 1.0"),
    (["ok.csv", "--cv", "1"], "cv must be None or an int >= 2, got 1"),
    (["ok.csv", "--n-finalists", "0"], "n_finalists must be an int >= 1, got 0"),
    (["ok.csv", "--ensemble-size", "0"], "ensemble_size must be an int >= 1, got 0"),
    (["ok.csv", "--decimate", "0"], 'decimate must be "auto" or an int >= 1, got 0'),
    (["ok.csv", "--decimate", "2", "--n-jobs", "1"], "decimate=2 needs 3-D input"),
    (["ok.csv", "--augment", "--n-jobs", "1"], "augment=True augments EEG-like input"),
    (["ok.csv", "--resume"], "--resume needs --checkpoint-dir"),
    (["ok.csv", "--resume", "--checkpoint-dir", "full"], "no search to resume in 'full'"),
    (["ok.csv", "--output", "full"], "'full' is not empty (thesis.tex)"),
    (["ok.csv", "--output", "ok.csv"], "is a file, not a folder"),
    (["ok.csv", "--initial-genomes", "nope.json"], "--initial-genomes: cannot read 'nope.json'"),
    (["ok.csv", "--initial-genomes", "broken.json"], "'broken.json' is not valid JSON"),
    (["ok.csv", "--initial-genomes", "empty.json"], "'empty.json' holds an empty list"),
    (
        ["ok.csv", "--initial-genomes", "eegnet.json", "--n-jobs", "1"],
        "initial_genomes[0] is a 'eeg' genome, but the search space 'mlp'",
    ),
]
PREDICT_ERRORS = [
    (["missing.joblib", "ok.csv"], "no such model file: 'missing.joblib'"),
    (["junk.joblib", "ok.csv"], "is not a skevonas model file"),
    (["ok.csv", "ok.csv"], "is not a skevonas model file"),
    (["dict.joblib", "ok.csv"], "pass --allow-pickle to load it"),
    (["not-a-run", "ok.csv"], "has no model.skevonas"),
]


@pytest.mark.parametrize(
    "command, argv, expected",
    [("search", *case) for case in SEARCH_ERRORS] + [("predict", *case) for case in PREDICT_ERRORS],
)
def test_errors_exit_2_and_name_the_problem(
    command, argv, expected, bad_files, monkeypatch, capsys
):
    monkeypatch.chdir(bad_files)
    assert main([command, *argv]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("skevonas: error:") and expected in err, err
    assert not (bad_files / "skevonas-search-ok").exists()  # nothing left behind
    assert (bad_files / "full" / "thesis.tex").read_text() == "precious"


def test_predict_data_of_another_shape(iris_search, eeg_npz, capsys):
    _, folder = iris_search
    assert main(["predict", str(folder), str(eeg_npz[1])]) == 2
    err = capsys.readouterr().err
    assert "does not fit the model" in err and "4" in err


def test_allow_pickle_still_checks_what_the_pickle_holds(bad_files, monkeypatch, capsys):
    monkeypatch.chdir(bad_files)
    for model, expected in (
        ("dict.joblib", "holds a builtins.dict, not a skevonas classifier"),
        ("junk.joblib", "is not a skevonas model file (written by skevonas search or"),
    ):
        assert main(["predict", model, "ok.csv", "--allow-pickle"]) == 2
        warning, error = capsys.readouterr().err.splitlines()[:2]
        assert warning.startswith("skevonas: warning: loading")
        assert error.startswith("skevonas: error:") and expected in error


@pytest.mark.parametrize("value", ["two", "1.5"])
def test_bad_option_types_exit_2(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "data.csv", "--population-size", value])
    assert exit_info.value.code == 2
    assert f"argument --population-size: invalid int value: '{value}'" in capsys.readouterr().err


def test_failed_search_exits_1_and_leaves_no_folder(bad_files, monkeypatch, capsys):
    monkeypatch.chdir(bad_files)
    argv = ["search", "ok.csv", "--max-time", "1e-6", "--n-jobs", "1", "--quiet"]
    assert main(argv) == 1
    assert "skevonas: error: the search failed: no candidate finished" in capsys.readouterr().err
    assert not (bad_files / "skevonas-search-ok").exists()


def test_output_folder_of_an_earlier_search_is_reused(iris_search, tmp_path):
    _, folder = iris_search
    assert _prepare_output(folder, overwrite=False, checkpoint_dir=None) is False
    new = tmp_path / "a" / "b"
    assert _prepare_output(new, overwrite=False, checkpoint_dir=None) is True and new.is_dir()


# --------------------------------------------------------------------------- loader
def test_csv_labels_are_ints_when_they_can_be(tmp_path):
    path = tmp_path / "semicolons.csv"
    path.write_text("label;x1;x2\n1;0.5;2\n0;1e-3;-4\n\n")
    X, y = load_table_or_arrays(path)
    assert y.dtype == np.int64 and y.tolist() == [1, 0]
    np.testing.assert_array_equal(X, np.array([[0.5, 2], [1e-3, -4]], dtype=np.float32))
    X, y = load_table_or_arrays(path, label_column="x2", require_labels=False)
    assert X.shape == (2, 2) and y.dtype == np.int64


# --------------------------------------------------------------------------- demo, datasets
@pytest.mark.slow
def test_demo_with_a_tiny_budget():
    result = run(
        "demo",
        "--population-size",
        "2",
        "--n-generations",
        "2",
        "--max-epochs",
        "1",
        "--n-jobs",
        "1",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "SelfRegulationSCP1" in out
    assert "gen   0" in out and "gen   1" in out
    assert "estimated accuracy (cross-validated)" in out and "test accuracy" in out
    assert "at 256 Hz" in out  # the raw data: the estimator decimates inside the model
    assert "best genome as JSON" in out


def test_datasets_lists_the_bundled_data():
    result = run("datasets")
    assert result.returncode == 0, result.stderr
    assert "SelfRegulationSCP1" in result.stdout and "FingerMovements" in result.stdout
