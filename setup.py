"""Packaging glue that pyproject.toml cannot express: ship the top-level assets/ folder
(catalog and quant quality data) inside the package as ``localchat.assets``, next to every
``localchat.*`` package found. All other metadata lives in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["localchat", "localchat.*"]), "localchat.assets"],
    package_dir={"localchat.assets": "assets"},
)
