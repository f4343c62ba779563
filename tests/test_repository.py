"""Repository hygiene: no data from the mirror, no outputs, no large files in git."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tracked() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [REPO / p for p in out.decode().split("\0") if p]


def test_no_large_files_tracked() -> None:
    big = [p.relative_to(REPO) for p in _tracked() if p.is_file() and p.stat().st_size > 1e6]
    assert not big, f"files over 1 MB in git (outputs and data stay out): {big}"


def test_notebooks_committed_without_outputs() -> None:
    for nb in (p for p in _tracked() if p.suffix == ".ipynb"):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        with_outputs = [i for i, c in enumerate(cells) if c.get("outputs")]
        assert not with_outputs, f"{nb.name}: cells {with_outputs} have outputs"


def test_no_mirrored_data_file_is_committed(mirror: Path) -> None:
    def sha(p: Path) -> str:
        return hashlib.sha256(p.read_bytes()).hexdigest()

    mirrored = {sha(p) for p in mirror.rglob("*") if p.is_file() and p.name != "README.md"}
    copies = [p.relative_to(REPO) for p in _tracked() if p.is_file() and sha(p) in mirrored]
    assert not copies, f"copies of mirrored data in git (use `data fetch`): {copies}"
