"""Packaging glue that pyproject.toml cannot express: the top-level ``models/`` and ``shaders/`` folders ship
inside the package as ``livefilter/models`` and ``livefilter/shaders`` (see livefilter/resources.py), while the
repository keeps its layout. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["livefilter", "livefilter.*"]) + ["livefilter.models", "livefilter.shaders"],
    package_dir={"livefilter.models": "models", "livefilter.shaders": "shaders"},
)
