"""The teaching notebook runs top to bottom, headless, so it cannot rot."""

from pathlib import Path

import jupytext
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "tour.py"


def test_tour_notebook_executes(tmp_path):
    nb = jupytext.read(NOTEBOOK)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(o.get("output_type") == "display_data" for o in outputs)  # figures were drawn
