"""The ``skevonas`` command: its options, its commands and the data files it reads and writes."""

from .commands import main

__all__ = ["main"]
