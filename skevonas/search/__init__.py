"""Running a search.

One pipeline trains the candidates the loops ask for on one worker pool,
journals and replays them, and keeps the time budget; then the final model
is chosen and refitted.
"""
