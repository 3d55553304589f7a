"""The layout a network trains in: channels_last for 2-D convolutions on the CPU, by default."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skevonas import EvolutionaryNASClassifier, Genome, GenomeClassifier, LayerGene, eegnet_genome
from skevonas.training.candidate import CandidateData, evaluate_candidate
from skevonas.training.net import MEMORY_FORMATS
from skevonas.training.recipe import Recipe

RNG = np.random.default_rng(0)
X_EEG = RNG.normal(size=(48, 4, 128)).astype(np.float32)
Y_EEG = np.arange(48) % 2
MLP = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})], {"lr": 0.01})


class Layouts(Callback):
    """Whether every 4-D parameter is channels_last, at the end of each training epoch."""

    def initialize(self):
        self.seen: list[bool] = []
        return self

    def on_epoch_end(self, net, **kwargs):
        # the strides of every 4-D parameter are channels_last's (a parameter with size-1
        # dimensions is contiguous in both layouts, but its strides still tell them apart)
        four_d = [p for p in net.module_.parameters() if p.dim() == 4]
        self.seen.append(bool(four_d) and all(_laid_out(p, torch.channels_last) for p in four_d))


def _laid_out(p: torch.Tensor, layout: torch.memory_format) -> bool:
    return p.stride() == torch.empty(p.shape, memory_format=layout).stride()


def fitted(genome: Genome, X: np.ndarray, fmt: str | None) -> tuple[GenomeClassifier, Layouts]:
    layouts = Layouts()
    params: dict = {"callbacks": [layouts]}
    if fmt is not None:
        params["memory_format"] = fmt
    clf = GenomeClassifier(
        genome, max_epochs=2, net_params=params, validation_fraction=None, random_state=0
    )
    return clf.fit(X, Y_EEG[: len(X)]), layouts


def contiguous_after(clf: GenomeClassifier) -> bool:
    params = clf.net_.module_.parameters()
    return all(_laid_out(p, torch.contiguous_format) for p in params if p.dim() == 4)


@pytest.mark.parametrize("fmt", [None, "auto", "channels_last"])
def test_eeg_networks_train_in_channels_last_and_end_in_the_usual_layout(fmt):
    clf, layouts = fitted(eegnet_genome(), X_EEG, fmt)
    assert layouts.seen == [True, True]
    assert contiguous_after(clf)  # what reads, saves or exports the module sees torch's layout
    assert clf.net_.memory_format == (fmt or "auto")


def test_contiguous_keeps_torchs_layout_and_trains_the_same_network_up_to_rounding():
    last, last_layouts = fitted(eegnet_genome(), X_EEG, "channels_last")
    plain, plain_layouts = fitted(eegnet_genome(), X_EEG, "contiguous")
    assert plain_layouts.seen == [False, False] and contiguous_after(plain)
    # same network, same data and seed: only the order of the arithmetic (and of
    # dropout's draws) differs
    assert [n for n, _ in last.net_.module_.named_parameters()] == [
        n for n, _ in plain.net_.module_.named_parameters()
    ]
    again, _ = fitted(eegnet_genome(), X_EEG, "channels_last")
    np.testing.assert_array_equal(last.predict_proba(X_EEG), again.predict_proba(X_EEG))


def test_auto_leaves_networks_without_2d_convolutions_alone():
    X = RNG.normal(size=(48, 5)).astype(np.float32)
    auto, layouts = fitted(MLP, X, "auto")
    assert layouts.seen == [False, False]
    plain, _ = fitted(MLP, X, "contiguous")
    np.testing.assert_array_equal(auto.predict_proba(X), plain.predict_proba(X))


def test_a_candidate_going_on_from_its_snapshot_matches_one_longer_training():
    data = CandidateData(X_EEG[:36], Y_EEG[:36], X_EEG[36:], Y_EEG[36:], n_classes=2)
    recipe = Recipe(max_epochs=4)
    once = evaluate_candidate(eegnet_genome(), data, recipe, seed=1)
    first = evaluate_candidate(eegnet_genome(), data, recipe, seed=1, epochs=2, keep_snapshot=True)
    rest = evaluate_candidate(
        eegnet_genome(), data, recipe, seed=1, epochs=4, snapshot=first["snapshot"]
    )
    assert once["status"] == rest["status"] == "ok"
    assert rest["curves"] == once["curves"]


@pytest.mark.parametrize("bad", ["nhwc", None, 1])
def test_an_unknown_layout_is_named_in_the_error(bad):
    message = (
        r"net_params\['memory_format'\] must be one of \['auto', 'channels_last', 'contiguous'\]"
    )
    with pytest.raises(ValueError, match=message):
        GenomeClassifier(eegnet_genome(), net_params={"memory_format": bad}).fit(X_EEG, Y_EEG)
    with pytest.raises(ValueError, match=message):
        EvolutionaryNASClassifier(net_params={"memory_format": bad}).fit(X_EEG, Y_EEG)
    assert len(MEMORY_FORMATS) == 3
