"""The version of skevonas, in a module of its own so that any module can read it.

Examples
--------
>>> from skevonas._version import __version__
>>> __version__.count(".") >= 2
True
"""

__version__ = "0.1.0"
