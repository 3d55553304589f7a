"""What a network can be.

Genomes, their value domains and shape rules, search spaces and the
built-in catalogue, the model families and their torch builders.

Importing this wing loads no torch: the builders (:mod:`skevonas.spaces.builders`),
the family registry (:mod:`skevonas.spaces.families`) and
:mod:`skevonas.spaces.networks` do, when they are imported.
"""
