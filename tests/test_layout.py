"""The house rules of the layout: no private name crosses a module boundary, the
entry points a user calls live outside ``validation/``, and ``mixlab.__all__``
resolves to what it promises."""

import ast
import inspect
from pathlib import Path

import pytest

import mixlab

PACKAGE = Path(mixlab.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _private_imports(path: Path) -> list[str]:
    """``from mixlab.x import _y`` and ``m._y`` where m is an imported mixlab module."""
    tree = ast.parse(path.read_text())
    modules, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mixlab"):
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"from {node.module} import {alias.name}")
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name.startswith("mixlab"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_name_crosses_a_module(path):
    assert _private_imports(path) == []


def test_the_private_name_detector_detects(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from mixlab.kernels import objectives as obj\nfrom mixlab.x import _y\nobj._loss\n")
    assert _private_imports(probe) == ["from mixlab.x import _y", "obj._loss"]


@pytest.mark.parametrize("name", ["run", "simulate", "age", "capacity", "verify"])
def test_entry_points_live_outside_validation(name):
    entry = getattr(mixlab, name)
    assert inspect.isfunction(entry), f"mixlab.{name} is {entry!r}, not a function"
    assert not entry.__module__.startswith("mixlab.validation")


def test_no_public_name_is_shadowed_by_a_submodule():
    """``from mixlab.x import y`` sets the package attribute ``x``: a public name equal to a
    submodule's name would turn into that module once the submodule is imported."""
    submodules = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir() if p.is_dir()}
    assert sorted(set(mixlab.__all__) & submodules) == []


def test_public_api_resolves_and_is_sorted():
    assert mixlab.__all__ == sorted(mixlab.__all__)
    for name in mixlab.__all__:
        obj = getattr(mixlab, name)
        assert obj is not None
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__module__.startswith("mixlab.")
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        mixlab.nonexistent  # noqa: B018


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_control_characters_in_sources(path):
    """A raw string typed as "\\bar" but stored as a backspace renders as garbage."""
    text = path.read_text()
    assert [c for c in text if ord(c) < 32 and c != "\n"] == []
