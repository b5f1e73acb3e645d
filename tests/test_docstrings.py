"""Every public callable of mixlab carries a numpydoc docstring that matches its signature.

Public: a function, class or method whose name has no leading underscore,
defined in a mixlab module (compiled kernels through their ``py_func``). All of
them need a summary line, every parameter documented (and none that does not
exist) and a Returns section when they return something (numpydoc's own
validator decides). The user's entry points, ``mixlab.__all__`` and the public
functions and classes of ``mixlab.theory``, also need Examples (run as doctests)
and References.
"""

import importlib
import inspect
import pkgutil

import pytest

import mixlab

numpydoc_validate = pytest.importorskip("numpydoc.validate")

#: numpydoc's codes for: no docstring, no summary, parameter undocumented /
#: unknown / misnamed, no Returns, no Yields.
EVERYWHERE = {"GL08", "SS01", "PR01", "PR02", "PR10", "RT01", "YD01"}
ENTRY_POINTS = EVERYWHERE | {"EX01"}
SKIPPED_MODULES = {"mixlab.__main__", "mixlab.kernels.averaging.cuda_cores"}  # device code, no host API


def _modules():
    for info in pkgutil.walk_packages(mixlab.__path__, "mixlab."):
        if info.name not in SKIPPED_MODULES:
            yield importlib.import_module(info.name)


def _method(obj):
    obj = obj.__func__ if isinstance(obj, classmethod | staticmethod) else obj
    return obj.fget if isinstance(obj, property) else obj


def public_callables() -> list[tuple[str, object]]:
    """(dotted name, object) of every public function, class and method."""
    found = []
    for mod in _modules():
        for name, obj in vars(mod).items():
            target = getattr(obj, "py_func", obj)
            if name.startswith("_") or getattr(target, "__module__", None) != mod.__name__:
                continue
            if inspect.isfunction(target):
                found.append((f"{mod.__name__}.{name}", target))
            elif inspect.isclass(target):
                found.append((f"{mod.__name__}.{name}", target))
                for attr, member in vars(target).items():
                    member = _method(member)
                    if not attr.startswith("_") and inspect.isfunction(member):
                        found.append((f"{mod.__name__}.{name}.{attr}", member))
    return found


def entry_points() -> set[str]:
    """Functions and (non-exception) classes of ``mixlab.__all__``, functions of ``mixlab.theory``."""
    api = [getattr(mixlab, n) for n in mixlab.__all__]
    names = {
        f"{obj.__module__}.{obj.__name__}"
        for obj in api
        if inspect.isfunction(getattr(obj, "py_func", obj))
        or (inspect.isclass(obj) and not issubclass(obj, Exception))
    }
    theory = {
        name
        for name, obj in public_callables()
        if name.startswith("mixlab.theory.") and name.count(".") == 3 and inspect.isfunction(obj)
    }
    return names | theory


PUBLIC = public_callables()
ENTRY = entry_points()


def _problems(name: str, obj) -> list[str]:
    codes = ENTRY_POINTS if name in ENTRY else EVERYWHERE
    report = numpydoc_validate.validate(numpydoc_validate.get_doc_object(obj))
    problems = [f"{code}: {msg}" for code, msg in report["errors"] if code in codes]
    if name in ENTRY and "References" not in (obj.__doc__ or ""):
        problems.append("no References section")
    return problems


def test_the_public_surface_is_found():
    assert len(PUBLIC) > 300
    assert "mixlab.runs.run" in ENTRY and "mixlab.theory.spectral.spectral_summary" in ENTRY


@pytest.mark.parametrize("module", sorted({obj.__module__ for _, obj in PUBLIC}))
def test_docstrings_follow_numpydoc(module):
    bad = {
        name: problems
        for name, obj in PUBLIC
        if obj.__module__ == module and (problems := _problems(name, obj))
    }
    assert not bad, "\n".join(f"{name}: {'; '.join(p)}" for name, p in bad.items())
