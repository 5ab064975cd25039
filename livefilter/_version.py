"""The package's version, in a module of its own: the lowest layer, so any module can read it without importing
the package's face (livefilter/__init__.py imports the whole library), and setuptools reads it statically
(pyproject.toml: ``version = { attr = "livefilter._version.__version__" }``)."""

__version__ = "0.1.0"
