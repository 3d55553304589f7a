import numpy as np
import pytest

from skevonas.spaces.domains import (
    TRAINING_GENES,
    Choice,
    Float,
    Int,
    LayerSpec,
    lowest,
    midpoint,
    sorted_domains,
)
from skevonas.spaces.genome import LayerGene


def test_domains():
    rng = np.random.default_rng(0)
    for domain, value in [
        (Int(1, 9), 5),
        (Int(4, 64, log=True), 16),
        (Float(0, 1), 0.5),
        (Float(1e-4, 1e-1, log=True), 1e-3),
        (Choice((8, 16, 32)), 16),
        (Choice(("a", "b")), "a"),
    ]:
        for _ in range(50):
            assert domain.contains(domain.sample(rng))
            stepped = domain.step(value, rng)
            assert stepped != value and domain.contains(stepped)
    assert Int(1, 1).step(1, rng) == 1
    assert not Choice((1, 2)).contains(True)
    with pytest.raises(ValueError):
        Int(5, 1)
    with pytest.raises(ValueError):
        Float(0, 1, log=True)


def test_midpoint_and_lowest():
    assert midpoint(Int(2, 7)) == 4.5 and Int(2, 7).clip(midpoint(Int(2, 7))) == 4
    assert midpoint(Float(1e-4, 1e-2, log=True)) == pytest.approx(1e-3)
    assert midpoint(Choice((64, 16))) == 64  # the first option, not the middle one
    assert lowest(Int(3, 9, log=True)) == 3 and lowest(Float(0.5, 1.0)) == 0.5
    assert lowest(Choice((32, 8, 16))) == 8 and lowest(Choice(("same", "valid"))) == "same"


def test_sorted_domains_accepts_mappings_and_pairs():
    pairs = sorted_domains([("rate", Float(0, 1)), ("kernel", Int(1, 3))])
    assert [name for name, _ in pairs] == ["kernel", "rate"]
    assert sorted_domains(dict(pairs)) == pairs
    spec = LayerSpec("conv", dict(pairs))
    assert spec == LayerSpec("conv", pairs[::-1]) and spec.params == pairs


def test_layer_spec_clip_fills_missing_parameters_with_the_midpoint():
    spec = LayerSpec("conv", {"kernel_size": Int(2, 7), "filters": Choice((8, 16))})
    assert spec.clip(LayerGene("conv")) == LayerGene("conv", {"kernel_size": 4, "filters": 8})
    with pytest.raises(ValueError, match="weight of layer 'conv' must be >= 0"):
        LayerSpec("conv", weight=-1)


def test_training_genes_are_shared_and_read_only():
    assert sorted(TRAINING_GENES) == ["batch_size", "lr", "optimizer", "weight_decay"]
    with pytest.raises(TypeError):
        TRAINING_GENES["lr"] = Float(0, 1)  # type: ignore[index]
