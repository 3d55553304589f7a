"""The standalone PyTorch export (``to_pytorch``, ``skevonas export --format pytorch``).

Every family exports (mlp on 2-D X, an EEG search that decimates, cnn1d,
cnn2d on 4-D X, a hand-made ensemble of two members behind a decimation
front), and a fresh virtual environment that sees the installed packages but
not skevonas loads every export from its ``model.py`` and reproduces the
estimator's
``predict_proba`` and ``predict``.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import venv
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import safetensors
import torch
from sklearn.exceptions import NotFittedError
from torch import nn

from skevonas import EvolutionaryNASClassifier, Genome, GenomeClassifier, LayerGene, save
from skevonas.cli.commands import main
from skevonas.spaces.builders.layers import channel_stats
from skevonas.spaces.networks import build_module
from skevonas.store.export import to_pytorch
from skevonas.store.pytorch_source import network_source
from skevonas.store.standalone import FILES
from skevonas.training.ensemble import EnsembleModule, ensemble_net

TRAIN = {"optimizer": "adam", "lr": 0.01, "batch_size": 16}
MLP = Genome(
    "mlp",
    [
        LayerGene("dense", {"units": 8, "activation": "relu", "dropout": 0.1}),
        LayerGene("dense", {"units": 6, "activation": "tanh"}),
    ],
    TRAIN,
)
CNN1D = Genome(
    "cnn1d",
    [
        LayerGene("conv", {"filters": 4, "kernel_size": 5, "stride": 1}),
        LayerGene("batchnorm"),
        LayerGene("elu"),
        LayerGene("maxpool", {"pool_size": 2}),
        LayerGene("dropout", {"rate": 0.2}),
    ],
    {**TRAIN, "head": "avg"},
)
CNN2D = Genome(
    "cnn2d",
    [
        LayerGene("conv", {"filters": 3, "kernel_size": 3, "stride": 1}),
        LayerGene("batchnorm"),
        LayerGene("elu"),
        LayerGene("maxpool", {"pool_size": 2}),
    ],
    {**TRAIN, "head": "flatten"},
)
# Every EEG layer kind with its own code: padded and dilated convolutions, squares and logs.
EEG_RICH = Genome(
    "eeg",
    [
        LayerGene("temporal_conv", {"filters": 4, "kernel_size": 4, "padding": "same"}),
        LayerGene("batchnorm"),
        LayerGene("spatial_conv", {"depth_multiplier": 2, "depthwise": True}),
        LayerGene("square"),
        LayerGene("avgpool", {"pool_size": 2, "stride": 2}),
        LayerGene("log"),
        LayerGene(
            "separable_conv", {"filters": 3, "kernel_size": 3, "padding": "same", "dilation": 2}
        ),
        LayerGene("elu"),
        LayerGene("maxpool", {"pool_size": 2, "stride": 2}),
        LayerGene("dropout", {"rate": 0.25}),
    ],
    {**TRAIN, "head": "flatten"},
)


def _fit(genome, X, y):
    return GenomeClassifier(genome, max_epochs=10, random_state=0).fit(X, y)


def _with_ensemble(search, X_members):
    """A copy of a decimating EEG search whose final network is two members, weighted 0.7/0.3."""
    search = copy.deepcopy(search)
    module = search.best_module_
    n_classes = len(search.classes_)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        other = build_module(EEG_RICH, X_members.shape[1:], n_classes, channel_stats(X_members))
    ensemble = EnsembleModule([module.members[0], other], [0.7, 0.3], module.decimate).eval()
    search.ensemble_genomes_ = [search.best_genome_, EEG_RICH]
    search.ensemble_weights_ = [0.7, 0.3]
    search.best_estimator_ = ensemble_net(ensemble, n_classes)
    return search


@pytest.fixture(scope="module")
def models():
    """name -> (fitted estimator, X): one per family, a decimating search, an ensemble."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.array(["left", "right", "rest"]), 12)
    X2 = rng.normal(size=(36, 5)) + np.repeat(np.eye(3, 5) * 2, 12, axis=0)
    X3 = rng.normal(size=(36, 3, 48)).astype(np.float32)
    X3[12:24, 0] += np.sin(np.arange(48) / 2).astype(np.float32)
    X4 = rng.normal(size=(36, 2, 8, 8)).astype(np.float32)
    X4[:12, 0, :4] += 1
    mlp = _fit(MLP, X2, y)
    shifted = copy.deepcopy(mlp)
    # part 7's input step (float64 offset and scale before the network), set by hand
    shifted.input_offset_ = np.array([0.5, -1.0, 2.0, 0.0, 0.25])
    shifted.input_scale_ = np.array([2.0, 0.5, 1.5, 1.0, 3.0])
    search = EvolutionaryNASClassifier(
        search_space="eeg",
        initial_genomes=None,
        population_size=2,
        n_generations=1,
        max_epochs=1,
        cv=None,
        decimate=2,
        random_state=0,
    ).fit(X3, y)
    assert isinstance(search.best_module_, EnsembleModule) and search.decimation_ == 2
    search.sfreq_ = 128.0  # set by the EEG work in parallel; null in config.json when absent
    X_members = search.best_module_.decimate(torch.from_numpy(X3)).detach().numpy()
    eeg_step = copy.deepcopy(search)
    eeg_step.input_offset_ = np.array([[[0.1], [-0.2], [0.3]]])  # (1, n_channels, 1)
    eeg_step.input_scale_ = np.array([[0.5], [2.0], [1.0]])  # (n_channels, 1)
    return {
        "mlp": (mlp, X2),
        "eeg-input-step": (eeg_step, X3),
        "mlp-input-step": (shifted, X2),
        "eeg-decimation": (search, X3),
        "cnn1d": (_fit(CNN1D, X3, y), X3),
        "cnn2d": (_fit(CNN2D, X4, y.astype(object)), X4),
        "ensemble": (_with_ensemble(search, X_members), X3),
    }


@pytest.fixture(scope="module")
def exported(models, tmp_path_factory):
    """name -> the folder of each model's export (the mlp through the estimator's method)."""
    root = tmp_path_factory.mktemp("standalone")
    folders = {}
    for name, (clf, X) in models.items():
        folder = root / name
        folders[name] = clf.to_pytorch(folder) if name == "mlp" else to_pytorch(clf, folder)
        np.save(root / f"{name}-X.npy", X)
    return folders


def _expected_proba(clf, X):
    """What the estimator predicts: its network after the input step, if it has one."""
    offset, scale = getattr(clf, "input_offset_", None), getattr(clf, "input_scale_", None)
    if offset is None and scale is None:
        return clf.predict_proba(X)
    # from the network itself, so the check holds before and after predict applies the step
    offset = 0.0 if offset is None else np.asarray(offset, dtype=np.float64)
    scale = 1.0 if scale is None else np.asarray(scale, dtype=np.float64)
    X = ((np.asarray(X, dtype=np.float64) - offset) / scale).astype(np.float32)
    with torch.no_grad():
        return torch.softmax(clf.module_(torch.from_numpy(X)), dim=-1).numpy().astype(np.float64)


def _without_skevonas(folder: Path) -> Path:
    """A folder with every installed package that torch, numpy and safetensors may need, but
    skevonas: links to each entry of their site-packages folders, skevonas's left out."""
    folder.mkdir()
    sites = {Path(m.__file__).resolve().parents[1] for m in (np, torch, safetensors)}
    for site in sites:
        for entry in site.iterdir():
            name = entry.name.lower()
            if "skevonas" in name or name.endswith(".pth") or (folder / entry.name).exists():
                continue
            try:
                (folder / entry.name).symlink_to(entry)
            except OSError as exc:  # e.g. Windows without the privilege
                pytest.skip(f"cannot make symbolic links here: {exc}")
    return folder


def _fresh_venv(folder: Path, site: Path) -> Path:
    """A new virtual environment (no pip, no system site-packages) that sees ``site``;
    returns its python."""
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt", clear=True).create(folder)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run(
        [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "dependencies.pth").write_text(f"{site}\n")
    return python


SCRIPT = textwrap.dedent(
    """
    import importlib.util, json, sys
    from pathlib import Path
    assert sys.prefix != sys.base_prefix  # a virtual environment of its own
    try:
        import skevonas
    except ImportError:
        pass
    else:
        raise SystemExit("skevonas is importable: " + skevonas.__file__)
    import numpy as np
    root = Path(sys.argv[1])
    labels = {}
    for name in json.loads(sys.argv[2]):
        spec = importlib.util.spec_from_file_location("model_" + name.replace("-", "_"),
                                                      root / name / "model.py")
        code = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(code)
        clf = code.load(root / name)
        X = np.load(root / (name + "-X.npy"))
        np.save(root / (name + "-proba.npy"), clf.predict_proba(X))
        labels[name] = clf.predict(X).tolist()
        assert isinstance(clf.module, code.torch.nn.Module)
    assert not [m for m in sys.modules if m.startswith("skevonas")]
    print(json.dumps(labels))
    """
)


def test_a_process_without_skevonas_predicts_as_the_estimator(models, exported, tmp_path):
    python = _fresh_venv(tmp_path / "env", _without_skevonas(tmp_path / "site"))
    root = next(iter(exported.values())).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    result = subprocess.run(
        [
            str(python),
            "-I",
            "-B",
            "-c",
            SCRIPT,
            str(root),
            json.dumps(list(models)),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    labels = json.loads(result.stdout.strip().splitlines()[-1])
    for name, (clf, X) in models.items():
        proba = np.load(root / f"{name}-proba.npy")
        assert proba.dtype == np.float64 and proba.shape == (len(X), len(clf.classes_))
        np.testing.assert_allclose(proba, _expected_proba(clf, X), rtol=0, atol=1e-6, err_msg=name)
        assert labels[name] == clf.classes_[proba.argmax(axis=1)].tolist(), name
    assert labels["mlp"] == models["mlp"][0].predict(models["mlp"][1]).tolist()
    assert len(set(labels["mlp"])) == 3  # so a mix-up of the labels would show
    # the input step is applied: without it the probabilities differ
    for without, with_step in [("mlp", "mlp-input-step"), ("eeg-decimation", "eeg-input-step")]:
        plain, shifted = (np.load(root / f"{n}-proba.npy") for n in (without, with_step))
        assert np.abs(plain - shifted).max() > 1e-3, with_step


def test_config_is_plain_data_describing_the_input(models, exported):
    for name, (clf, X) in models.items():
        config = json.loads((exported[name] / "config.json").read_text())
        assert config["classes"]["values"] == clf.classes_.tolist()
        assert np.dtype(config["classes"]["dtype"]) == clf.classes_.dtype
        assert tuple(config["input"]["sample_shape"]) == X.shape[1:]
        sfreq = getattr(clf, "sfreq_", None)  # set by hand on the search; maybe by fit one day
        assert config["input"]["sfreq"] == (None if sfreq is None else float(sfreq)), name
        genomes = [Genome.from_dict(g) for g in config["genomes"]]
        assert genomes == getattr(clf, "ensemble_genomes_", [getattr(clf, "genome_", None)])
    search = json.loads((exported["eeg-decimation"] / "config.json").read_text())
    assert search["input"]["sfreq"] == 128.0
    shifted = json.loads((exported["mlp-input-step"] / "config.json").read_text())
    step = shifted["preprocessing"]
    assert np.array_equal(
        np.asarray(step["input_offset"]), models["mlp-input-step"][0].input_offset_
    )
    assert np.array_equal(np.asarray(step["input_scale"]), models["mlp-input-step"][0].input_scale_)
    fitted = json.loads((exported["mlp"] / "config.json").read_text())["preprocessing"]
    assert np.array_equal(np.asarray(fitted["input_offset"]), models["mlp"][0].input_offset_)
    eeg_step = json.loads((exported["eeg-input-step"] / "config.json").read_text())
    assert eeg_step["preprocessing"]["input_offset"] == [[0.1], [-0.2], [0.3]]
    assert eeg_step["preprocessing"]["input_scale"] == [[0.5], [2.0], [1.0]]
    ensemble = json.loads((exported["ensemble"] / "config.json").read_text())
    assert ensemble["weights"] == [0.7, 0.3] and ensemble["preprocessing"]["decimation"] == 2
    members = models["ensemble"][0].best_module_.members
    for stats, member in zip(ensemble["preprocessing"]["standardize"], members, strict=True):
        assert np.array_equal(
            np.asarray(stats["mean"], np.float32), member.standardize.mean[0].numpy()
        )
        assert np.array_equal(
            np.asarray(stats["std"], np.float32), member.standardize.std[0].numpy()
        )


def test_model_py_is_readable_pytorch_and_the_card_says_what_matters(models, exported):
    ensemble = (exported["ensemble"] / "model.py").read_text()
    for needed in (
        "class Member0(nn.Module)",
        "class Member1(nn.Module)",
        "class Ensemble",
        "class Decimate",
        "class Square",
        "class SafeLog",
        "class Standardize",
        "self.decimate = Decimate(2)",
        'def load(directory=None, device="cpu")',
    ):
        assert needed in ensemble, needed
    mlp = (exported["mlp"] / "model.py").read_text()
    assert "class Network(nn.Module)" in mlp and "self.dense_0 = nn.Linear(5, 8)" in mlp
    assert "x = self.dense_0(x)" in mlp and "class Decimate" not in mlp
    for name, folder in exported.items():
        assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
        source = (folder / "model.py").read_text()
        assert "import skevonas" not in source and "from skevonas" not in source, name
    card = (exported["eeg-decimation"] / "README.md").read_text()
    search = models["eeg-decimation"][0]
    for needed in (
        "'left'",
        "(3, 48)",
        "128 Hz",
        "best_score_",
        str(search.best_genome_),
        "Decimate(2)",
        "model.load(",
    ):
        assert needed in card, needed
    assert "weight 0.7" in (exported["ensemble"] / "README.md").read_text()


def test_genome_text_reaches_the_code_only_as_escaped_comments():
    genome = Genome(
        "mlp",
        [LayerGene("dense", {"units": 4, "activation": "relu"})],
        {"note": 'x"""\nimport os; os.system("boom")\n#'},
    )
    source = network_source(build_module(genome, (3,), 2), [genome], (3,))
    assert "\nimport os" not in source
    compile(source, "model.py", "exec")


def test_a_layer_without_code_is_refused_by_name():
    module = nn.Sequential(OrderedDict(rnn=nn.LSTM(2, 2), output=nn.Linear(2, 2)))
    with pytest.raises(TypeError, match="rnn is a torch.nn.modules.rnn.LSTM"):
        network_source(module)


def test_refusals_name_the_problem(models, exported, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # leave the export as it is
    with pytest.raises(FileExistsError, match="overwrite=True"):
        to_pytorch(models["mlp"][0], exported["mlp"])
    with pytest.raises(NotFittedError):
        to_pytorch(GenomeClassifier(MLP), tmp_path / "unfitted")
    with pytest.raises(TypeError, match="got LogisticRegression instead"):
        from sklearn.linear_model import LogisticRegression

        to_pytorch(LogisticRegression(), tmp_path / "other")
    bad = copy.deepcopy(models["mlp"][0])
    bad.input_offset_ = np.zeros(3)
    with pytest.raises(ValueError, match=r"input_offset_ of shape \(3,\) does not broadcast"):
        to_pytorch(bad, tmp_path / "bad")
    code = _import(exported["mlp"], "mlp_model")
    with pytest.raises(ValueError, match=r"samples of shape \(5,\)"):
        code.load(exported["mlp"]).predict_proba(np.zeros((2, 4)))


def test_exporting_leaves_the_global_generator_alone(models, tmp_path):
    torch.manual_seed(7)
    state = torch.get_rng_state()
    to_pytorch(models["ensemble"][0], tmp_path / "ensemble")
    assert torch.equal(torch.get_rng_state(), state)


def test_the_export_command_writes_each_format(models, tmp_path, capsys):
    path = save(models["cnn1d"][0], tmp_path / "cnn1d.skevonas")
    assert main(["export", str(path), str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(FILES)
    assert main(["export", str(path), str(tmp_path / "out")]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["export", str(path), str(tmp_path / "out"), "--overwrite"]) == 0
    assert main(["export", str(path), str(tmp_path / "m.pt"), "--format", "torchscript"]) == 0
    assert (tmp_path / "m.pt").is_file()
    assert main(["export", str(path), str(tmp_path / "m.pt"), "--format", "torchscript"]) == 2


def _import(folder: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, folder / "model.py")
    code = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(code)
    return code


def test_a_dataframe_gives_its_columns_by_name(models, tmp_path, monkeypatch):
    pd = pytest.importorskip("pandas")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    X = pd.DataFrame(models["mlp"][1], columns=["a", "b", "c", "d", "e"])
    y = np.repeat(np.array(["left", "right", "rest"]), 12)
    clf = GenomeClassifier(MLP, max_epochs=1, random_state=0).fit(X, y)
    folder = clf.to_pytorch(tmp_path / "named")
    config = json.loads((folder / "config.json").read_text())
    assert config["input"]["feature_names"] == ["a", "b", "c", "d", "e"]
    standalone = _import(folder, "named_model").load(folder)
    shuffled = X[["e", "c", "a", "d", "b"]]
    np.testing.assert_allclose(
        standalone.predict_proba(shuffled), clf.predict_proba(X), rtol=0, atol=1e-6
    )
