"""The command line turns bad input into one paragraph and exit code 2; good input into numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from experiments.cli import main


def test_summary_json_on_cdnow(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.json"
    assert main(["data", "summary", "--data", "cdnow", "--json", str(out)]) == 0
    stats = json.loads(out.read_text())
    assert stats["customers"] == 23_570 and stats["transactions"] == 69_659
    assert stats["periods"] == 78
    for key in ("purchase_period_share", "repeat_customer_share", "total_spend"):
        assert key in stats
    assert "23,570" in capsys.readouterr().out


def test_bad_file_exit_code_and_message_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,timestamp,amount\nA,2024-01-01,-5\n")
    proc = subprocess.run(
        [sys.executable, "-m", "experiments", "data", "summary", "--data", str(bad)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert "negative in rows 1" in proc.stderr and "--drop-returns" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_json_not_written_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    assert main(["data", "summary", "--data", str(tmp_path / "missing.csv"), "--json", str(out)]) == 2
    assert not out.exists()
