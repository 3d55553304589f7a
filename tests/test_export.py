"""Export to TorchScript and ONNX: the same probabilities as predict_proba, without skevonas."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from torch import nn

from skevonas import EvolutionaryNASClassifier
from skevonas.fixed import GenomeClassifier
from skevonas.store.export import INPUT_NAME, OUTPUT_NAME, to_onnx, to_torchscript

pytestmark = pytest.mark.filterwarnings(
    r"ignore:`torch\.jit\.load` is deprecated:DeprecationWarning"
)

FAST = {"population_size": 4, "n_generations": 2, "max_epochs": 2, "patience": 2}
ATOL = 1e-5


@pytest.fixture(scope="module")
def tabular(blobs):
    """A fitted MLP search and its data (2-D input)."""
    X, y = blobs
    return EvolutionaryNASClassifier(**FAST, random_state=0).fit(X, y), X


@pytest.fixture(scope="module")
def eeg(scp1_small):
    """A fitted 1-D CNN search and test epochs (3-D input)."""
    X_train, X_test, y_train, _ = scp1_small
    return EvolutionaryNASClassifier(**FAST, random_state=0).fit(X_train, y_train), X_test


@pytest.fixture(params=["tabular", "eeg"])
def fitted(request):
    return request.getfixturevalue(request.param)


def _batches(X):
    """All of X, one sample, and an odd batch: none of them the export's example size (2)."""
    return [X, X[:1], X[3:10]]


# --------------------------------------------------------------------------- TorchScript
def test_torchscript_file_gives_predict_proba(fitted, tmp_path):
    clf, X = fitted
    path = to_torchscript(clf, tmp_path / "net.pt")
    assert path == tmp_path / "net.pt"
    program = torch.jit.load(str(path))
    assert not program.training
    for batch in _batches(X):
        with torch.no_grad():
            proba = program(torch.from_numpy(batch)).numpy()
        np.testing.assert_allclose(proba, clf.predict_proba(batch), atol=ATOL)


def test_torchscript_leaves_the_estimator_module_alone(tabular):
    clf, X = tabular
    module = clf.module_.train()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    try:
        program = to_torchscript(clf)
        assert module.training  # still in the mode it was in
    finally:
        module.eval()
    assert isinstance(program, torch.jit.ScriptModule)
    assert all(p.requires_grad for p in module.parameters())
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())
    np.testing.assert_allclose(
        program(torch.from_numpy(X)).numpy(), clf.predict_proba(X), atol=ATOL
    )


def test_estimator_method_exports(eeg, tmp_path):
    clf, X = eeg
    path = clf.to_torchscript(tmp_path / "method.pt")
    proba = torch.jit.load(str(path))(torch.from_numpy(X[:5])).numpy()
    np.testing.assert_allclose(proba, clf.predict_proba(X[:5]), atol=ATOL)


def test_torchscript_loads_in_a_fresh_interpreter_without_skevonas(eeg, tmp_path):
    clf, X = eeg
    to_torchscript(clf, tmp_path / "net.pt")
    np.save(tmp_path / "X.npy", X[:7])
    code = textwrap.dedent(
        """
        import sys
        sys.modules["skevonas"] = None  # any import of skevonas now fails
        import numpy as np, torch
        program = torch.jit.load("net.pt")
        with torch.no_grad():
            proba = program(torch.from_numpy(np.load("X.npy")))
        np.save("proba.npy", proba.numpy())
        print(sorted(m for m in sys.modules if m.startswith("skevonas")))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['skevonas']"  # only the blocking None entry
    np.testing.assert_allclose(np.load(tmp_path / "proba.npy"), clf.predict_proba(X[:7]), atol=ATOL)


def test_genome_classifier_exports_too(blobs, tmp_path):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**FAST, random_state=0).fit(X, y)
    fixed = GenomeClassifier(clf.best_genome_, max_epochs=2, random_state=0).fit(X, y)
    program = torch.jit.load(str(fixed.to_torchscript(tmp_path / "fixed.pt")))
    np.testing.assert_allclose(
        program(torch.from_numpy(X)).numpy(), fixed.predict_proba(X), atol=ATOL
    )


# --------------------------------------------------------------------------- bare modules
class Unscriptable(nn.Module):
    """Needs tracing: torch.jit.script rejects *args in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(6, 3)

    def forward(self, x, *args):
        return self.linear(x.flatten(1))


def test_bare_module_needs_a_shape():
    with pytest.raises(ValueError, match=r"needs the shape of its input: pass input_shape="):
        to_torchscript(nn.Linear(4, 2))


def test_module_that_cannot_be_scripted_is_traced():
    module = Unscriptable().eval()
    example = np.random.default_rng(0).normal(size=(4, 2, 3)).astype(np.float32)
    program = to_torchscript(module, example=example)
    X = torch.randn(9, 2, 3)
    with torch.no_grad():
        np.testing.assert_allclose(
            program(X).numpy(), torch.softmax(module(X), dim=1).numpy(), atol=ATOL
        )


def test_inconsistent_shapes_are_refused(tabular):
    clf, _ = tabular
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(4,\).*shape \(5,\)"):
        to_torchscript(clf, input_shape=(5,))
    with pytest.raises(ValueError, match=r"example must be a batch"):
        to_torchscript(nn.Linear(4, 2), example=np.zeros(4, dtype=np.float32))
    with pytest.raises(ValueError, match=r"example has samples of shape \(4,\), but input_shape"):
        to_torchscript(nn.Linear(4, 2), input_shape=(3,), example=np.zeros((2, 4)))
    with pytest.raises(TypeError, match="model must be a fitted skevonas classifier"):
        to_torchscript("net.pt")


def test_unfitted_estimator_is_refused(tmp_path):
    with pytest.raises(NotFittedError):
        to_torchscript(EvolutionaryNASClassifier())
    with pytest.raises(NotFittedError):
        GenomeClassifier().to_torchscript(tmp_path / "net.pt")


# --------------------------------------------------------------------------- ONNX
def test_onnx_file_gives_predict_proba(fitted, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    clf, X = fitted
    path = to_onnx(clf, tmp_path / "net.onnx")
    assert path == tmp_path / "net.onnx"
    assert sorted(os.listdir(tmp_path)) == ["net.onnx"]  # weights inside, no side file
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, out.name) == (INPUT_NAME, OUTPUT_NAME)
    assert isinstance(inp.shape[0], str)  # dynamic batch axis
    assert tuple(inp.shape[1:]) == clf.sample_shape_
    for batch in _batches(X):
        (proba,) = session.run(None, {INPUT_NAME: batch})
        np.testing.assert_allclose(proba, clf.predict_proba(batch), atol=ATOL)


def test_onnx_of_a_bare_module(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    module = nn.Sequential(nn.Flatten(), nn.Linear(6, 3))
    path = to_onnx(module, tmp_path / "bare.onnx", input_shape=(2, 3))
    X = np.random.default_rng(0).normal(size=(5, 2, 3)).astype(np.float32)
    (proba,) = ort.InferenceSession(str(path)).run(None, {INPUT_NAME: X})
    with torch.no_grad():
        want = torch.softmax(module(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(proba, want, atol=ATOL)


def test_onnx_unfitted_estimator_is_refused(tmp_path):
    pytest.importorskip("onnxscript")
    with pytest.raises(NotFittedError):
        to_onnx(EvolutionaryNASClassifier(), tmp_path / "net.onnx")


@pytest.mark.parametrize("package", ["onnx", "onnxscript"])
def test_missing_onnx_packages_say_how_to_install_them(package, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, package, None)  # import now raises ImportError
    with pytest.raises(ImportError, match=rf"'{package}'.*pip install \"skevonas\[onnx\]\""):
        to_onnx(nn.Linear(4, 2), tmp_path / "net.onnx", input_shape=(4,))
    assert not (tmp_path / "net.onnx").exists()
