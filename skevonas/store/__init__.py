"""What is kept on disk, and read back without trusting it.

Checkpoints, the journal, the resume policy, the folder lock, model files
and exports.
"""
