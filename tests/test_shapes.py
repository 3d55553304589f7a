import subprocess
import sys

import pytest

from skevonas.spaces.genome import Genome, LayerGene
from skevonas.spaces.shapes import (
    AUTO_FAMILIES,
    EEG_EPOCHS,
    FAMILY_SHAPES,
    FEATURES,
    IMAGES,
    SERIES,
    auto_family,
    signal_shapes,
)

CONV = LayerGene("conv", {"filters": 4, "kernel_size": 5, "stride": 2})
SPATIAL = LayerGene("spatial_conv", {"depth_multiplier": 1, "depthwise": True})
SAME = LayerGene("temporal_conv", {"filters": 4, "kernel_size": 9, "padding": "same"})
POOL = LayerGene("maxpool", {"pool_size": 3})


def test_each_family_has_its_rule():
    assert FAMILY_SHAPES == {"mlp": FEATURES, "cnn1d": SERIES, "eeg": EEG_EPOCHS, "cnn2d": IMAGES}
    assert [rule.rank for rule in (FEATURES, SERIES, EEG_EPOCHS, IMAGES)] == [1, 2, 2, 3]
    assert [rule.has_signal_axes for rule in (FEATURES, SERIES, EEG_EPOCHS, IMAGES)] == [
        False,
        True,
        True,
        True,
    ]
    assert all(FAMILY_SHAPES[name].rank == ndim for ndim, name in AUTO_FAMILIES.items())


def test_spatial_shapes():
    assert FEATURES.spatial_shape((20,)) == ()
    assert SERIES.spatial_shape((6, 100)) == (100,)
    assert EEG_EPOCHS.spatial_shape((6, 100)) == (6, 100)  # the electrodes are rows
    assert IMAGES.spatial_shape((3, 8, 10)) == (8, 10)
    with pytest.raises(ValueError, match=r"series samples have 2 dimension\(s\), got shape \(5,\)"):
        SERIES.spatial_shape((5,))


def test_cnns_shrink_every_axis_and_eeg_networks_time_only():
    assert IMAGES.next_shape(CONV, (11, 21)) == (4, 9)
    assert SERIES.next_shape(POOL, (10,)) == (3,)  # a pool's stride is its size
    assert EEG_EPOCHS.next_shape(CONV, (6, 21)) == (1, 9)  # a conv spans every row
    assert EEG_EPOCHS.next_shape(SPATIAL, (6, 21)) == (1, 21)
    assert EEG_EPOCHS.next_shape(POOL, (6, 21)) == (6, 7)
    assert EEG_EPOCHS.next_shape(SAME, (6, 21)) == (6, 21)  # "same" padding keeps the length
    assert FEATURES.next_shape(LayerGene("dense", {"units": 8}), ()) == ()


def test_room_is_the_shortest_axis_or_time():
    assert IMAGES.room((5, 30)) == 5 and SERIES.room((30,)) == 30
    assert EEG_EPOCHS.room((5, 30)) == 30  # kernels run along time only


def test_signal_shapes_follow_the_family_rule():
    genome = Genome("eeg", [SPATIAL, CONV, POOL], {})
    assert signal_shapes(genome, (6, 41)) == [(6, 41), (1, 41), (1, 19), (1, 6)]
    genome = Genome("cnn2d", [CONV, POOL], {})
    assert signal_shapes(genome, (3, 21, 11)) == [(21, 11), (9, 4), (3, 1)]
    with pytest.raises(
        ValueError, match=r"'rnn'; must be one of \['cnn1d', 'cnn2d', 'eeg', 'mlp'\]"
    ):
        signal_shapes(Genome("rnn", [CONV], {}), (6, 41))


def test_auto_family_errors():
    assert auto_family(2) == "eeg"
    with pytest.raises(ValueError, match=r"one of \[1, 2, 3\] dimensions .*got 4 instead"):
        auto_family(4)


def test_shapes_and_spaces_need_no_torch():
    # The search spaces (and so the command line's choices) are torch-free.
    code = (
        "import sys\n"
        "import skevonas.spaces.shapes, skevonas.spaces.space\n"
        "import skevonas.spaces.catalogue, skevonas.spaces.presets\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
