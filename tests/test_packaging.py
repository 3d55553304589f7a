"""The package as shipped: metadata, extras, bundled files, lint and types."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

import skevonas

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_version_has_one_source():
    project = PYPROJECT["project"]
    assert "version" in project["dynamic"]
    version = {"attr": "skevonas._version.__version__"}  # its own module, read without importing
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == version
    from skevonas import _version

    assert skevonas.__version__ is _version.__version__
    try:
        installed = importlib.metadata.version("skevonas")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("skevonas is not installed, only on the path")
    assert installed == skevonas.__version__


def test_extras_are_the_documented_ones():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert set(extras) == {"dask", "plots", "onnx", "mne", "docs", "test", "bench", "dev"}
    readme = (ROOT / "README.md").read_text()
    for name in ("dask", "plots", "onnx", "mne", "docs", "bench", "dev"):
        assert f"skevonas[{name}]" in readme, name


def test_torch_range_accepts_the_cpu_build_ci_installs():
    (torch,) = [d for d in PYPROJECT["project"]["dependencies"] if d.startswith("torch")]
    assert torch == "torch>=2.1,<3"  # torch 2.13.0 satisfies it


def test_bundled_files_are_in_the_package():
    package = Path(skevonas.__file__).parent
    assert (package / "py.typed").is_file()
    data = package / "datasets" / "data"
    assert sorted(p.name for p in data.glob("*.npz")) == [
        "EyesOpenShut.npz",
        "FingerMovements.npz",
        "SelfRegulationSCP1.npz",
        "SelfRegulationSCP2.npz",
    ]
    assert (data / "README.md").is_file()


def _tool(name: str) -> list[str]:
    if importlib.util.find_spec(name) is None and shutil.which(name) is None:
        pytest.skip(f"{name} is not installed (pip install 'skevonas[dev]')")
    return [sys.executable, "-m", name]


@pytest.mark.slow
def test_ruff_lint_and_format_are_clean():
    ruff = _tool("ruff")
    paths = ["skevonas", "tests", "examples", "bench", "docs"]
    lint = subprocess.run([*ruff, "check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run(
        [*ruff, "format", "--check", *paths], cwd=ROOT, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.slow
def test_mypy_is_clean():
    mypy = _tool("mypy")
    result = subprocess.run(mypy, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_is_light_and_every_public_name_resolves():
    # `import skevonas` (and so `skevonas --help`) does not load torch; every
    # name in __all__ resolves on first use.
    code = (
        "import sys, skevonas\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "skevonas.EvolutionaryNASClassifier, skevonas.GenomeClassifier\n"
        "assert 'mne' not in sys.modules, 'mne imported'  # only for Epochs files\n"
        "missing = [n for n in skevonas.__all__ if getattr(skevonas, n, None) is None]\n"
        "assert not missing, missing\n"
        "assert set(skevonas.__all__) <= set(dir(skevonas))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        skevonas.nope  # noqa: B018
