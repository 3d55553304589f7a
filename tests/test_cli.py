"""The command line, run as a user would: in a subprocess."""

import subprocess
import sys

import pytest


def run(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "skevonas", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


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
    assert "validation accuracy" in out and "test accuracy" in out
    assert "best genome as JSON" in out


def test_datasets_lists_the_bundled_data():
    result = run("datasets")
    assert result.returncode == 0, result.stderr
    assert "SelfRegulationSCP1" in result.stdout and "FingerMovements" in result.stdout


def test_help_and_errors():
    assert run("--help").returncode == 0
    assert "demo" in run("--help").stdout
    bad = run("demo", "--dataset", "nope")
    assert bad.returncode != 0 and "invalid choice" in bad.stderr
    bad = run("demo", "--population-size", "1", "--n-generations", "1")
    assert bad.returncode == 2
    assert "population_size must be an int >= 2, got 1" in bad.stderr
