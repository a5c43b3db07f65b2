"""The notebooks run top to bottom on tiny settings, so they never rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[2] / "experiments" / "notebooks").glob("*.ipynb"))


def _simulator() -> str:
    from gan_simulator.simulator import DEFAULT_CHECKPOINT

    return "gan" if Path(DEFAULT_CHECKPOINT).is_file() else "structural"


def test_the_three_notebooks_exist() -> None:
    assert {p.stem for p in NOTEBOOKS} >= {"quickstart", "replay_customer", "compare_policies"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMGYM_SIMULATOR", _simulator())
    monkeypatch.setenv("CRMGYM_CUSTOMERS", "64")
    monkeypatch.setenv("CRMGYM_HORIZON", "8")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
