"""The distribution ships every subpackage, and the core never imports torch."""

import pathlib
import runpy
import subprocess
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAPPED = {"envs": "stackelberg_zoo.envs", "equilibrium": "stackelberg_zoo.equilibrium"}


def test_setup_discovers_every_subpackage(monkeypatch):
    monkeypatch.chdir(ROOT)  # the build backend runs setup.py from the project root
    discovered = runpy.run_path(str(ROOT / "setup.py"), run_name="setup")["discovered_packages"]()
    on_disk = set()
    for folder, package in MAPPED.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            on_disk.add(".".join((package, *relative)))
    assert {"stackelberg_zoo.envs.mspm", "stackelberg_zoo.equilibrium"} <= on_disk
    assert sorted(discovered) == sorted(on_disk)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "packages" not in config  # no hand-kept list to forget a folder in
    assert config["package-dir"] == {v: k for k, v in MAPPED.items()}


def test_core_imports_without_torch():
    code = (
        "import sys, stackelberg_zoo.equilibrium, stackelberg_zoo.envs; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
