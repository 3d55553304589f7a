import json

import pytest

from skevonas.spaces.genome import Genome, LayerGene


def _genome(**globals_):
    layers = [
        LayerGene("conv", {"filters": 8, "kernel_size": 5, "stride": 1}),
        LayerGene("identity"),
        LayerGene("dropout", {"rate": 0.25}),
    ]
    return Genome("cnn1d", layers, {"optimizer": "adam", "lr": 0.001, **globals_})


def test_genome_is_immutable():
    g = _genome()
    with pytest.raises(AttributeError):
        g.family = "mlp"
    with pytest.raises(AttributeError):
        g.layers[0].kind = "maxpool"
    assert isinstance(g.layers, tuple) and isinstance(g.globals, tuple)


def test_key_is_canonical():
    g = _genome()
    # Parameter order does not matter, identity layers build nothing, floats are rounded.
    same = Genome(
        "cnn1d",
        [
            LayerGene("conv", {"stride": 1, "kernel_size": 5, "filters": 8}),
            LayerGene("dropout", {"rate": 0.1 + 0.15}),
        ],
        {"lr": 0.001, "optimizer": "adam"},
    )
    assert g.key() == same.key()
    assert g.short_key() == same.short_key()
    assert hash(g.key()) == hash(same.key())
    assert g.key() != _genome(lr=0.002).key()
    assert g.key() != g.replace(layers=g.layers[::-1]).key()


def test_json_round_trip_keeps_every_layer():
    g = _genome()
    data = json.loads(g.to_json())
    assert [layer["kind"] for layer in data["layers"]] == ["conv", "identity", "dropout"]
    assert Genome.from_json(g.to_json()) == g
    assert Genome.from_dict(g.to_dict()) == g


def test_description_is_readable():
    g = _genome()
    text = g.describe()
    assert "conv(filters=8, kernel_size=5, stride=1)" in text
    assert "optimizer='adam'" in text
    assert str(g).startswith("cnn1d: conv(")
    assert g.n_layers == 2


def test_replace_returns_new_genome():
    g = _genome()
    h = g.replace(lr=0.01)
    assert g["lr"] == 0.001 and h["lr"] == 0.01
    assert g.layers[0].replace(filters=16)["filters"] == 16
    assert g.layers[0]["filters"] == 8


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: LayerGene("", {}), "non-empty"),
        (lambda: LayerGene("conv", {"filters": [8]}), "int, float, str or bool"),
        (lambda: LayerGene("dropout", {"rate": float("nan")}), "NaN"),
        (lambda: Genome("mlp", ["dense"], {}), "LayerGene"),
        (lambda: Genome.from_dict({"layers": []}), "not a valid genome"),
    ],
)
def test_invalid_genomes_are_rejected(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_missing_gene_names_the_gene():
    with pytest.raises(KeyError, match="units"):
        _genome().layers[0]["units"]
