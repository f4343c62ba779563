"""Shared fixtures: tiny synthetic frames in EPSG:25832 and the real data mirror."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _mirror() -> Path | None:
    env = os.environ.get("HANDWERKGEO_DATA_MIRROR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data" / "duesseldorf")
    for c in candidates:
        if (c / "README.md").is_file():
            return c
    return None


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The read-only Düsseldorf data mirror; skips (or fails in CI) when absent."""
    m = _mirror()
    if m is None:
        if os.environ.get("HANDWERKGEO_REQUIRE_MIRROR"):
            pytest.fail("HANDWERKGEO_REQUIRE_MIRROR is set but the data mirror was not found")
        pytest.skip("Düsseldorf data mirror not found (set HANDWERKGEO_DATA_MIRROR)")
    return m
