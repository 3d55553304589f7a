"""Which genomes to try next.

The genetic operators, the generational and asynchronous loops, their
records and callbacks, and the successive-halving schedule.

This wing knows nothing of scikit-learn or torch: the loops hand their
candidates to a runner (the search wing's pipeline, or a toy one in tests).
"""
