"""In CI every real client the tests use must be there: a missing one would only skip tests.

With ``HANDWERKGEO_REQUIRE_MIRROR`` set (``.ci/run``), this fails naming what ``make
sysdeps`` did not install, instead of letting the browser, GDAL, QGIS, LibreOffice and
PostGIS tests skip quietly. Without it (a developer's machine) it reports what is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def _missing() -> list[str]:
    missing = []
    for tool, package in (
        ("chromium", "chromium"),
        ("ogrinfo", "gdal-bin"),
        ("pdftotext", "poppler-utils"),
        ("soffice", "libreoffice-calc-nogui"),
    ):
        if shutil.which(tool) is None:
            missing.append(package)
    qgis = subprocess.run(
        ["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True, check=False
    ) if Path("/usr/bin/python3").exists() else None  # fmt: skip
    if qgis is None or qgis.returncode != 0:
        missing.append("python3-qgis")
    if not Path("/usr/lib/postgresql/15/bin/initdb").exists():
        missing.append("postgresql-15")
    if not Path("/usr/share/postgresql/15/extension/postgis.control").exists():
        missing.append("postgresql-15-postgis-3")
    return missing


def test_the_real_clients_are_installed() -> None:
    missing = _missing()
    if missing and not os.environ.get("HANDWERKGEO_REQUIRE_MIRROR"):
        pytest.skip(f"not installed (tests using them skip): {', '.join(missing)}")
    assert not missing, f"`make sysdeps` did not install: {', '.join(missing)}"
