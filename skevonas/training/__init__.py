"""How one network is trained.

The recipe, a candidate's training and score, the refit, augmentation and
ensembles.
"""
