"""What is kept on disk, and read back without trusting it.

Checkpoints, the journal, the resume policy, the folder lock, model files
and exports.
"""

from .checkpoint import (
    CheckpointError,
    clear_checkpoint,
    has_checkpoint,
    iter_journal,
    load_checkpoint,
    load_journal,
    save_checkpoint,
)
from .folderlock import FolderLock
from .journal import Journal, read_journal
from .resume import describe_value, resume_point, search_meta

__all__ = [
    "CheckpointError",
    "FolderLock",
    "Journal",
    "clear_checkpoint",
    "describe_value",
    "has_checkpoint",
    "iter_journal",
    "load_checkpoint",
    "load_journal",
    "read_journal",
    "resume_point",
    "save_checkpoint",
    "search_meta",
]
