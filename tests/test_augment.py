"""EEGAugment, and the training iterator that applies it."""

import pickle

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset

from skevonas.spaces.builders.layers import channel_stats
from skevonas.spaces.eeg_space import eeg_space, shallow_convnet_genome
from skevonas.training.augment import EEGAugment
from skevonas.training.net import SliceBatches
from skevonas.training.recipe import make_net
from skevonas.training.runtime import torch_context

OFF = {"time_shift": 0.0, "scale": 0.0, "noise": 0.0, "channel_dropout": 0.0}


def only(**settings):
    """An augmentation with every transform off but those named."""
    return EEGAugment(**{**OFF, **settings})


def batch(n=16, channels=3, n_times=40, seed=0, offset=5.0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, channels, n_times, generator=generator) + offset


# --------------------------------------------------------------------------- the transforms
@pytest.mark.parametrize("settings", [{}, OFF, {"channel_dropout": 0.5}])
def test_shape_and_dtype_are_kept(settings):
    X = batch()
    torch.manual_seed(0)
    out = EEGAugment(**settings)(X)
    assert out.shape == X.shape and out.dtype == torch.float32 and out.device == X.device


def test_all_off_returns_the_input_unchanged():
    X = batch()
    before = X.clone()
    state = torch.get_rng_state()
    out = EEGAugment(**OFF)(X)
    assert torch.equal(out, before) and torch.equal(X, before)
    assert torch.equal(torch.get_rng_state(), state)  # nothing drawn


def test_the_input_is_never_written_to():
    X = batch()
    before = X.clone()
    EEGAugment(time_shift=0.5, scale=0.5, noise=0.5, channel_dropout=0.5)(X)
    assert torch.equal(X, before)


def test_time_shift_moves_a_ramp_and_repeats_the_edge():
    n_times = 20
    X = torch.arange(n_times, dtype=torch.float32).repeat(64, 2, 1)  # (64, 2, 20) ramps
    torch.manual_seed(0)
    out = only(time_shift=0.25)(X)
    seen = set()
    for sample in out:
        assert torch.equal(sample[0], sample[1])  # one shift per sample, all channels
        first, last = int(sample[0, 0]), int(sample[0, -1])
        k = -first if first > 0 else n_times - 1 - last  # delay (k >= 0) or advance (k < 0)
        expected = (torch.arange(n_times) - k).clamp(0, n_times - 1).float()
        assert torch.equal(sample[0], expected), k
        assert -5 <= k <= 5  # 0.25 * 20
        seen.add(k)
    assert len(seen) > 5  # both directions, several sizes
    assert min(seen) < 0 < max(seen)


def test_time_shift_smaller_than_one_sample_changes_nothing():
    X = batch(n_times=4)
    assert torch.equal(only(time_shift=0.2)(X), X)


def test_scale_stays_within_its_bounds():
    X = torch.ones(500, 2, 10)
    torch.manual_seed(0)
    out = only(scale=0.2)(X)
    factors = out[:, 0, 0]
    assert torch.all(out == factors[:, None, None])  # one factor per sample
    assert factors.min() >= 0.8 and factors.max() <= 1.2
    assert factors.min() < 0.82 and factors.max() > 1.18  # the whole range is used


def test_noise_is_relative_to_each_channels_std():
    # channels of very different scale and offset get noise in proportion
    scales = torch.tensor([1e-6, 1.0, 1e3])
    X = batch(n=200, n_times=500) * scales[None, :, None] + 10.0 * scales[None, :, None]
    torch.manual_seed(0)
    added = only(noise=0.1)(X) - X
    ratio = added.std(dim=-1) / X.std(dim=-1)
    np.testing.assert_allclose(ratio.mean(dim=0).numpy(), [0.1, 0.1, 0.1], rtol=0.05)
    assert added.mean().abs() / scales.max() < 1e-3


def test_channel_dropout_rate_and_flat_mean():
    X = batch(n=400, channels=8, n_times=30)
    torch.manual_seed(0)
    out = only(channel_dropout=0.3)(X)
    flat = (out == out[..., :1]).all(dim=-1)  # (400, 8)
    assert abs(flat.float().mean().item() - 0.3) < 0.03
    np.testing.assert_allclose(out[flat][:, 0].numpy(), X.mean(dim=-1)[flat].numpy(), rtol=1e-6)
    assert torch.equal(out[~flat], X[~flat])  # kept channels untouched


def test_channels_are_every_axis_between_batch_and_time():
    X = batch(n=4, channels=6, n_times=20).reshape(4, 2, 3, 20)
    torch.manual_seed(0)
    out = EEGAugment(channel_dropout=0.5)(X)
    torch.manual_seed(0)
    flat_out = EEGAugment(channel_dropout=0.5)(X.reshape(4, 6, 20))
    assert torch.equal(out, flat_out.reshape(4, 2, 3, 20))


# --------------------------------------------------------------------------- randomness
def test_same_seed_same_output_other_seed_other_output():
    X = batch()
    augment = EEGAugment(channel_dropout=0.2)
    outputs = []
    for seed in (0, 0, 1):
        with torch_context(seed, 1):
            outputs.append(augment(X))
    assert torch.equal(outputs[0], outputs[1])
    assert not torch.equal(outputs[0], outputs[2])


def test_randomness_comes_from_the_global_cpu_generator():
    X = batch()
    torch.manual_seed(3)
    first = EEGAugment()(X)
    torch.manual_seed(3)
    torch.rand(1)  # one draw more: other batches
    assert not torch.equal(first, EEGAugment()(X))


# --------------------------------------------------------------------------- the settings
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("time_shift", 0.6),
        ("time_shift", -0.1),
        ("scale", 1.0),
        ("noise", float("nan")),
        ("noise", "0.1"),
        ("channel_dropout", 1.0),
        ("channel_dropout", True),
        ("scale", None),
    ],
)
def test_bad_values_raise_naming_the_parameter(name, value):
    with pytest.raises(ValueError, match=rf"{name} must be a number in .*got {value!r}"):
        EEGAugment(**{name: value})


def test_every_bad_value_is_reported_at_once():
    with pytest.raises(ValueError, match="time_shift.*scale.*channel_dropout"):
        EEGAugment(time_shift=1, scale=2, channel_dropout=-1)


def test_edges_of_the_ranges_are_allowed():
    augment = EEGAugment(time_shift=0.5, scale=0, noise=np.float32(0.5), channel_dropout=0.99)
    assert augment.time_shift == 0.5 and type(augment.noise) is float


def test_pickle_equality_and_plain_data():
    augment = EEGAugment(time_shift=0.2, scale=0.3, noise=0.0, channel_dropout=0.1)
    copy = pickle.loads(pickle.dumps(augment))
    assert copy == augment and hash(copy) == hash(augment)
    assert copy != EEGAugment() and augment != "EEGAugment"
    assert EEGAugment.from_dict(augment.to_dict()) == augment
    assert repr(augment) == (
        "EEGAugment(time_shift=0.2, scale=0.3, noise=0.0, channel_dropout=0.1)"
    )
    with pytest.raises(ValueError, match="unknown settings \\['shift'\\]"):
        EEGAugment.from_dict({"shift": 0.1})


# --------------------------------------------------------------------------- SliceBatches
def _epoch(iterator):
    torch.manual_seed(0)
    return [(Xi.clone(), yi.clone()) for Xi, yi in iterator]


def test_slice_batches_augment_training_batches_only():
    X = batch(n=10).numpy()
    data = Dataset(X, np.arange(10))
    plain = _epoch(SliceBatches(data, batch_size=4, shuffle=True))
    augmented = _epoch(SliceBatches(data, batch_size=4, shuffle=True, augment=EEGAugment()))
    # the same samples in the same order, changed
    assert [yi.tolist() for _, yi in plain] == [yi.tolist() for _, yi in augmented]
    assert all(not torch.equal(a[0], b[0]) for a, b in zip(plain, augmented, strict=True))
    # without shuffling (validation, prediction) nothing changes
    valid = _epoch(SliceBatches(data, batch_size=4, augment=EEGAugment()))
    assert torch.equal(torch.cat([Xi for Xi, _ in valid]), torch.as_tensor(X))


def test_slice_batches_without_augment_draw_as_before():
    data = Dataset(batch(n=10).numpy(), np.arange(10))
    torch.manual_seed(0)
    list(SliceBatches(data, batch_size=4, shuffle=True))
    after = torch.rand(1)
    torch.manual_seed(0)
    torch.randperm(10)
    assert torch.equal(after, torch.rand(1))


def test_slice_batches_augment_the_dataloader_path_too():
    X = batch(n=6)
    dataset = torch.utils.data.TensorDataset(X, torch.arange(6))
    torch.manual_seed(0)
    batches = list(SliceBatches(dataset, batch_size=4, shuffle=True, augment=only(scale=0.5)))
    augmented = torch.cat([Xi for Xi, _ in batches])
    order = torch.cat([yi for _, yi in batches])
    ratio = augmented / X[order]
    assert torch.allclose(ratio, ratio[:, :1, :1]) and not torch.allclose(ratio, torch.ones(1))
    unshuffled = list(SliceBatches(dataset, batch_size=4, augment=only(scale=0.5)))
    assert torch.equal(torch.cat([Xi for Xi, _ in unshuffled]), X)


# --------------------------------------------------------------------------- a whole net
def _fit_predict(X, y, seed, augment):
    genome = eeg_space().bind(X.shape[1:]).repair(shallow_convnet_genome(16.0))
    with torch_context(seed, 1):
        net = make_net(
            genome,
            X.shape[1:],
            2,
            max_epochs=2,
            input_stats=channel_stats(X),
            device="cpu",
            net_params={"iterator_train__augment": augment},
        )
        net.fit(X, y)
        return net, net.predict_proba(X)


def test_a_net_trains_with_augmentation_reproducibly():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2, 32)).astype(np.float32)
    y = np.repeat([0, 1], 10)
    net, first = _fit_predict(X, y, 0, EEGAugment())
    _, again = _fit_predict(X, y, 0, EEGAugment())
    _, plain = _fit_predict(X, y, 0, None)
    assert first.shape == (20, 2) and np.isfinite(first).all()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, plain)
    assert net.get_params()["iterator_train__augment"] == EEGAugment()
    assert len(net.history) == 2
