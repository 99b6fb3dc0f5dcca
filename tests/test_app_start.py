"""``python app.py`` start-up errors: one line, non-zero exit, nothing overwritten."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def run_app(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        result = run_app("--port", str(port), "--database-url", f"sqlite:///{tmp_path}/x.db", "--no-simulate")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "already in use" in lines[0] and str(port) in lines[0]
    assert not (tmp_path / "x.db").exists()


def test_unreachable_database_is_one_line() -> None:
    result = run_app("--port", "0", "--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/nothing", "--no-simulate")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach database" in lines[0]


def test_malformed_database_url_is_one_line() -> None:
    result = run_app("--port", "0", "--database-url", "not a url", "--no-simulate")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "database URL" in lines[0]


def test_bad_regions_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "regions.geojson"
    bad.write_text("this is not json")
    result = run_app("--port", "0", "--database-url", f"sqlite:///{tmp_path}/x.db", "--no-simulate", "--demo-members", "300", "--regions", str(bad))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error:") and str(bad) in lines[-1]
