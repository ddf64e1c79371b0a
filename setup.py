"""Package discovery: every folder with an ``__init__.py`` under ``envs/`` and ``equilibrium/``.

The top-level folders install as ``stackelberg_zoo.envs`` and ``stackelberg_zoo.equilibrium``
(``package-dir`` in ``pyproject.toml``); a new setting folder needs no edit here. Everything
else about the distribution is in ``pyproject.toml``.
"""

from setuptools import find_packages, setup


def discovered_packages() -> list[str]:
    """Every installed package name, ``stackelberg_zoo.envs.mspm`` and the like."""
    found = find_packages(include=["envs", "envs.*", "equilibrium", "equilibrium.*"])
    return [f"stackelberg_zoo.{name}" for name in found]


if __name__ == "__main__":  # setuptools' build backend runs this file as __main__
    setup(packages=discovered_packages())
