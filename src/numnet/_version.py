"""The package version, in one place.

``numnet.__version__``, the files :mod:`numnet.io` writes and pyproject.toml read it.
"""

__version__ = "0.1.0"
