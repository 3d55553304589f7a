"""The evaluation worker: one candidate trained and scored, or failed with a reason."""

import numpy as np
import pytest
import torch

from skevonas.spaces.genome import Genome, LayerGene
from skevonas.training.candidate import evaluate_candidate, fit_final
from skevonas.training.recipe import Recipe

GENOME = Genome(
    "mlp",
    [LayerGene("dense", {"units": 16, "activation": "relu", "dropout": 0.0})],
    {"optimizer": "adam", "lr": 0.01, "batch_size": 16},
)


def test_candidate_is_trained_and_scored(data):
    result = evaluate_candidate(GENOME, data, Recipe(max_epochs=15, patience=15), seed=0)
    assert result["status"] == "ok"
    assert result["score"] > 0.9
    assert result["epochs"] == 15
    assert 1 <= result["best_epoch"] <= 15
    assert result["n_params"] == 4 * 16 + 16 + 16 * 3 + 3
    assert len(result["curves"]["valid_loss"]) == 15
    curve = result["curves"]["valid_score"]
    best = result["best_epoch"] - 1
    assert curve[best] == result["peak_score"] == max(curve)
    # the score is the mean over the best epoch and its neighbours
    assert result["score"] == pytest.approx(np.mean(curve[max(0, best - 1) : best + 2]))


def test_early_stopping_uses_patience(data):
    # lr 0 never improves after the first epoch: stops after 1 + patience epochs.
    frozen = GENOME.replace(lr=0.0)
    result = evaluate_candidate(frozen, data, Recipe(max_epochs=50, patience=3), seed=0)
    assert result["epochs"] == 4 and result["best_epoch"] == 1


def test_same_seed_same_result_and_global_rng_untouched(data):
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    a = evaluate_candidate(GENOME, data, Recipe(max_epochs=5), seed=7)
    b = evaluate_candidate(GENOME, data, Recipe(max_epochs=5), seed=7)
    assert torch.rand(1) == expected  # the caller's torch RNG stream is left alone
    assert a["curves"] == b["curves"]
    c = evaluate_candidate(GENOME, data, Recipe(max_epochs=5), seed=8)
    assert c["curves"] != a["curves"]


class NaNLoss(torch.nn.CrossEntropyLoss):
    def forward(self, input, target):
        return super().forward(input, target) * float("nan")


class GPUOutOfMemory(torch.nn.CrossEntropyLoss):
    def forward(self, input, target):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")


class HostOutOfMemory(torch.nn.CrossEntropyLoss):
    def forward(self, input, target):
        raise MemoryError("simulated")


@pytest.mark.parametrize(
    "genome, net_params, reason",
    [
        (GENOME, {"criterion": NaNLoss}, "CandidateFailed: training loss became nan"),
        (GENOME.replace(optimizer="lbfgs"), {}, "unknown optimizer 'lbfgs'"),
        (GENOME, {"module__bogus": 1}, "bogus"),
        (GENOME, {"criterion": GPUOutOfMemory}, "OutOfMemoryError: CUDA out of memory"),
        (GENOME, {"criterion": HostOutOfMemory}, "MemoryError: simulated"),
    ],
    ids=["nan-loss", "unknown-optimizer", "bad-net-param", "gpu-oom", "host-oom"],
)
def test_broken_candidates_fail_with_a_reason(data, genome, net_params, reason):
    result = evaluate_candidate(genome, data, Recipe(max_epochs=3, net_params=net_params), seed=0)
    assert result["status"] == "failed"
    assert np.isnan(result["score"])
    assert reason in result["error"]


def test_fit_final_trains_for_the_given_epochs(blobs):
    X, y = blobs
    net = fit_final(GENOME, X, y, 3, epochs=4, input_stats=None, recipe=Recipe(), seed=0)
    assert len(net.history) == 4
    assert (net.predict(X) == y).mean() > 0.8
