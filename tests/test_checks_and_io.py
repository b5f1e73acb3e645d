import json
import os

import pytest

from mixlab.io import atomic_write_json
from mixlab.validation.checks import Check, judge


@pytest.mark.parametrize("measured,bound,relation,tol,verdict", [
    (1.0, 1.0, "==", 0, "pass"), (1.0, 1.1, "==", 0.05, "fail"), (0.9, 1.0, "<=", 0, "pass"),
    (1.1, 1.0, "<=", 0, "fail"), (1.1, 1.0, "<=", 0.2, "pass"), (2.0, 1.0, ">=", 0, "pass"),
    (float("nan"), 1.0, "<=", 0, "fail"), (float("inf"), 1.0, ">=", 0, "fail"),
])
def test_judge(measured, bound, relation, tol, verdict):
    assert judge(measured, bound, relation, tol) == verdict


def test_check_result_ratio_and_dict():
    r = Check("c", "x <= 2", "src", "<=", 0, lambda a: (a, 2.0), {"a": 1.0})()
    assert r.verdict == "pass" and r.ratio == 0.5 and r.as_dict()["parameters"] == {"a": 1.0}


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "r.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert os.listdir(target.parent) == ["r.json"]


def test_atomic_write_failure_keeps_old_file(tmp_path):
    target = tmp_path / "r.json"
    atomic_write_json(target, {"ok": True})
    with pytest.raises(ValueError):
        atomic_write_json(target, {"bad": float("nan")})   # NaN is not JSON
    assert json.loads(target.read_text()) == {"ok": True}
    assert os.listdir(tmp_path) == ["r.json"]
