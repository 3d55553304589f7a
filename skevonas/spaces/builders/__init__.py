"""Builders: pure functions from a genome to named :mod:`torch.nn` layers.

One module per kind of network: :mod:`skevonas.spaces.builders.mlp` (multi-layer
perceptrons), :mod:`skevonas.spaces.builders.cnn` (1-D and 2-D convolutional
networks) and :mod:`skevonas.spaces.builders.eeg` (EEG networks), each with a
``build_*(genome, input_shape, n_classes)`` function that returns the named
layers of the network; :mod:`skevonas.spaces.builders.layers` holds the custom
layers they use, such as :class:`Standardize`.

The family registry (:mod:`skevonas.spaces.families`) says which builder each model
family uses, and :func:`skevonas.spaces.networks.build_module` assembles the layers
into a :class:`torch.nn.Sequential` whose last layer is named ``"output"``.
This package imports neither, so that the registry can import the builders.
"""

from __future__ import annotations

from .layers import Decimate, Standardize

__all__ = ["Decimate", "Standardize"]
