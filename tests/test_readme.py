import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_opens_with_the_two_setup_commands():
    first_block = re.search(r"```sh\n(.*?)```", README.read_text(), re.S).group(1)
    assert [line.split("#")[0].strip() for line in first_block.splitlines()] == ["make verify", "make test"]


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_python_example_runs(capsys):
    exec(compile(python_blocks()[0], "README.md", "exec"), {})
    rho, spread = capsys.readouterr().out.split()
    assert abs(float(rho) - 0.9999874501884009) < 1e-12 and float(spread) == 0.0


def test_readme_run_example(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(python_blocks()[1], "README.md", "exec"), {})
    assert 2.0 < float(capsys.readouterr().out) < 3.0 and (tmp_path / "wagma.npz").exists()


def test_readme_step_size_example(capsys):
    exec(compile(python_blocks()[2], "README.md", "exec"), {})
    eta, bound, eta_max = map(float, capsys.readouterr().out.split())
    assert 0 < eta < eta_max < 0.1 and bound > 0
