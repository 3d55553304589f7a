"""Keras's optimizers and weight initializers, in PyTorch, for the presets.

The systems that :mod:`skevonas.spaces.presets` reproduces trained with Keras and
named their optimizers by Keras's strings, so each preset uses PyTorch twins
of those optimizers at Keras's default settings (:data:`KERAS_OPTIMIZERS`,
which :func:`skevonas.spaces.presets.preset_optimizer` looks up):
``"keras_<name>"`` for standalone Keras 2 (2.1.3 to 2.3.1), which the Keras
MLP GA used, and ``"tf_keras_<name>"`` for tf.keras 2 (TensorFlow 2.0 to
2.10), which naturalselection imports. Neither preset space has a
learning-rate gene: each twin trains with its Keras default learning rate.
The twins:

==========  ======================  =====================  =====================
Keras       PyTorch                 Keras 2 lr (args)      tf.keras 2 lr (args)
==========  ======================  =====================  =====================
sgd         ``SGD``                 0.01                   0.01
rmsprop     ``RMSprop``             0.001 (alpha 0.9)      0.001 (alpha 0.9)
adagrad     ``Adagrad``             0.01                   0.001 (accumulator
                                                           starts at 0.1)
adadelta    ``Adadelta``            1.0 (rho 0.95)         0.001 (rho 0.95)
adam        ``Adam``                0.001                  0.001
adamax      ``Adamax``              0.002                  0.001
nadam       ``NAdam``               0.002                  0.001
==========  ======================  =====================  =====================

Every twin has ``eps=1e-7`` (Keras's ``K.epsilon()``; PyTorch's defaults are
1e-8, or 1e-10 for Adagrad and 1e-6 for Adadelta), and Keras's other
defaults where PyTorch's differ (RMSprop's ``rho`` 0.9 is PyTorch's
``alpha``, whose default is 0.99; Adadelta's ``rho`` 0.95 against
PyTorch's 0.9; plain SGD without momentum). Where the twins are inexact:

- Adam and Nadam: Keras adds epsilon to the uncorrected second-moment root
  (the "epsilon hat" of the Adam paper), PyTorch to the bias-corrected one,
  so Keras's epsilon is in effect larger in the first few hundred steps;
- Adamax: Keras adds epsilon after the running maximum, PyTorch inside it;
- RMSprop under tf.keras 2 adds epsilon inside the square root;
- Keras 2.0.x (before 2.1.3) used epsilon 1e-8 rather than 1e-7.

These differences matter only while the moment estimates are tiny.

Keras layers start with zero biases and variance-scaling weights (Glorot
uniform by default); the MLP builder's ``initializer`` gene reproduces them
with :func:`initialize_linear` (:data:`INITIALIZERS`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

__all__ = ["INITIALIZERS", "KERAS_OPTIMIZERS", "initialize_linear"]

# Twins of Keras's optimizers at their Keras defaults: name -> (torch class,
# standalone Keras 2 args, tf.keras 2 args). Each carries the Keras default
# learning rate, used when the genome has no "lr" gene.
_KERAS_TWINS: dict[str, tuple[type, dict[str, Any], dict[str, Any]]] = {
    "sgd": (torch.optim.SGD, {"lr": 0.01}, {"lr": 0.01}),
    "rmsprop": (
        torch.optim.RMSprop,
        {"lr": 0.001, "alpha": 0.9, "eps": 1e-7},
        {"lr": 0.001, "alpha": 0.9, "eps": 1e-7},
    ),
    "adagrad": (
        torch.optim.Adagrad,
        {"lr": 0.01, "eps": 1e-7},
        {"lr": 0.001, "eps": 1e-7, "initial_accumulator_value": 0.1},
    ),
    "adadelta": (
        torch.optim.Adadelta,
        {"lr": 1.0, "rho": 0.95, "eps": 1e-7},
        {"lr": 0.001, "rho": 0.95, "eps": 1e-7},
    ),
    "adam": (torch.optim.Adam, {"lr": 0.001, "eps": 1e-7}, {"lr": 0.001, "eps": 1e-7}),
    "adamax": (torch.optim.Adamax, {"lr": 0.002, "eps": 1e-7}, {"lr": 0.001, "eps": 1e-7}),
    "nadam": (
        torch.optim.NAdam,
        {"lr": 0.002, "eps": 1e-7, "momentum_decay": 0.004},
        {"lr": 0.001, "eps": 1e-7, "momentum_decay": 0.004},
    ),
}
#: Optimizer name -> (torch optimizer class, keyword arguments): ``"keras_<name>"``
#: at standalone Keras 2's defaults, ``"tf_keras_<name>"`` at tf.keras 2's.
KERAS_OPTIMIZERS: dict[str, tuple[type, dict[str, Any]]] = {
    **{f"keras_{name}": (cls, args) for name, (cls, args, _) in _KERAS_TWINS.items()},
    **{f"tf_keras_{name}": (cls, args) for name, (cls, _, args) in _KERAS_TWINS.items()},
}

#: Keras's variance-scaling initializers: name -> (scale, fan, distribution).
#: "uniform" draws from [-limit, limit] with limit = sqrt(3 * scale / fan);
#: "normal" from a normal truncated at two standard deviations whose standard
#: deviation after truncation is sqrt(scale / fan) (Keras >= 2.2.3, tf.keras).
INITIALIZERS: dict[str, tuple[float, str, str]] = {
    "lecun_uniform": (1.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "normal"),
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "glorot_normal": (1.0, "fan_avg", "normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "he_normal": (2.0, "fan_in", "normal"),
}
# Standard deviation of a unit normal truncated to [-2, 2].
_TRUNCATED_STD = 0.87962566103423978


def initialize_linear(
    layer: nn.Linear, name: str, generator: torch.Generator | None = None
) -> None:
    """Draw the weights of ``layer`` as Keras's initializer ``name`` would; zero its bias.

    Parameters
    ----------
    layer : torch.nn.Linear
        The layer, changed in place.
    name : str
        One of ``INITIALIZERS``: ``"lecun_uniform"``, ``"lecun_normal"``,
        ``"glorot_uniform"``, ``"glorot_normal"``, ``"he_uniform"`` or
        ``"he_normal"``.
    generator : torch.Generator or None, default=None
        Draws the weights (None: torch's global random state).

    Examples
    --------
    >>> from torch import nn
    >>> layer = nn.Linear(100, 50)
    >>> initialize_linear(layer, "glorot_uniform")  # limit sqrt(6 / (100 + 50)) = 0.2
    >>> bool(layer.weight.abs().max() <= 0.2), bool((layer.bias == 0).all())
    (True, True)
    """
    try:
        scale, fan_mode, distribution = INITIALIZERS[name]
    except KeyError:
        raise ValueError(
            f"initializer must be one of {sorted(INITIALIZERS)}, got {name!r} instead"
        ) from None
    fan_out, fan_in = layer.weight.shape
    fan = fan_in if fan_mode == "fan_in" else (fan_in + fan_out) / 2
    with torch.no_grad():
        if distribution == "uniform":
            limit = math.sqrt(3.0 * scale / fan)
            layer.weight.uniform_(-limit, limit, generator=generator)
        else:
            std = math.sqrt(scale / fan) / _TRUNCATED_STD
            nn.init.trunc_normal_(
                layer.weight, 0.0, std, -2.0 * std, 2.0 * std, generator=generator
            )
        if layer.bias is not None:
            layer.bias.zero_()
