"""Generators of the bad-input catalogue (tests/test_bad_inputs.py): files made at test time.

Each generator writes one plot listing into a folder and returns its path and the number
of data rows in it. Plots lie in Düsseldorf (EPSG:25832 around 344 000 / 5 680 000).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, Polygon, box

X0, Y0 = 344_000.0, 5_680_000.0

#: OWASP CSV-injection payloads (the list of tests/test_spreadsheet.py), as plot names.
from test_spreadsheet import PAYLOADS  # noqa: E402


def rect(i: int, w: float = 60.0) -> Polygon:
    return box(X0 + i * 150, Y0, X0 + i * 150 + w, Y0 + 60)


def frame(n: int = 3, **cols: list) -> gpd.GeoDataFrame:
    data = {"plot_id": [f"P{i}" for i in range(n)], "name": [f"Fläche {i}" for i in range(n)]}
    data.update(cols)
    return gpd.GeoDataFrame(data, geometry=[rect(i) for i in range(n)], crs="EPSG:25832")


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _wkt_csv(rows: list[tuple[str, str, str]], sep: str = ";") -> str:
    head = f"plot_id{sep}name{sep}wkt\r\n"
    return head + "".join(f'{a}{sep}{b}{sep}"{c}"\r\n' for a, b, c in rows)


def good_rows(n: int) -> list[tuple[str, str, str]]:
    return [(f"P{i}", f"Fläche {i}", rect(i).wkt) for i in range(n)]


# --- generators: (folder) -> (path, rows in the file) ------------------------------------------

Gen = Callable[[Path], tuple[Path, int]]


def g_good_gpkg(d: Path) -> tuple[Path, int]:
    p = d / "gut.gpkg"
    frame(3).to_file(p)
    return p, 3


def g_good_csv_wkt(d: Path) -> tuple[Path, int]:
    return _csv(d / "gut.csv", _wkt_csv(good_rows(3))), 3


def g_good_xlsx(d: Path) -> tuple[Path, int]:
    p = d / "gut.xlsx"
    df = pd.DataFrame(good_rows(3), columns=["plot_id", "name", "wkt"])
    df.to_excel(p, index=False)
    return p, 3


def g_swapped_axes(d: Path) -> tuple[Path, int]:
    # lat/lon written into lon/lat: 51.2 as longitude, 6.78 as latitude (Somalia)
    text = "plot_id;lon;lat;area_m2\r\nS1;51,2277;6,7735;3000\r\nS2;51,2300;6,7800;4000\r\n"
    return _csv(d / "vertauscht.csv", text), 2


def g_gauss_krueger(d: Path) -> tuple[Path, int]:
    text = (
        "plot_id;Rechtswert;Hochwert;Fläche\r\n"
        "G1;2553500;5679500;3.200,5\r\nG2;2554000;5680000;4.100\r\n"
    )
    return _csv(d / "gauss_krueger.csv", text), 2


def g_missing_crs_xy(d: Path) -> tuple[Path, int]:
    # small local coordinates fit no CRS used in Düsseldorf: a CRS must be given
    text = "plot_id;x;y;area_m2\r\nK1;1200;3400;3000\r\nK2;1300;3500;3000\r\n"
    return _csv(d / "ohne_crs.csv", text), 2


def g_missing_crs_shp(d: Path) -> tuple[Path, int]:
    p = d / "ohne_prj.shp"
    frame(2).to_file(p)
    p.with_suffix(".prj").unlink()
    return p, 2


def g_outside_city(d: Path) -> tuple[Path, int]:
    rows = [("M1", "München", box(690_000, 5_334_000, 690_060, 5_334_060).wkt)]
    rows += good_rows(2)
    return _csv(d / "ausserhalb.csv", _wkt_csv(rows)), 3


def g_bowtie(d: Path) -> tuple[Path, int]:
    bow = Polygon([(X0, Y0), (X0 + 60, Y0 + 60), (X0 + 60, Y0), (X0, Y0 + 60)])
    rows = [*good_rows(2), ("B1", "Schleife", bow.wkt)]
    return _csv(d / "schleife.csv", _wkt_csv(rows)), 3


def g_empty_geometry(d: Path) -> tuple[Path, int]:
    rows = [*good_rows(2), ("E1", "leer", "POLYGON EMPTY")]
    return _csv(d / "leere_geometrie.csv", _wkt_csv(rows)), 3


def g_bad_wkt(d: Path) -> tuple[Path, int]:
    rows = [*good_rows(2), ("W1", "kaputt", "POLYGON ((344000 5680000, 344060")]
    return _csv(d / "kaputtes_wkt.csv", _wkt_csv(rows)), 3


def g_all_geometries_broken(d: Path) -> tuple[Path, int]:
    rows = [(f"X{i}", "x", "POLYGON EMPTY") for i in range(3)]
    return _csv(d / "alle_kaputt.csv", _wkt_csv(rows)), 3


def g_duplicate_ids(d: Path) -> tuple[Path, int]:
    rows = [*good_rows(3), ("P0", "doppelt", rect(5).wkt)]
    return _csv(d / "doppelte_ids.csv", _wkt_csv(rows)), 4


def g_missing_id_column(d: Path) -> tuple[Path, int]:
    text = "name;wkt\r\n" + "".join(f'{b};"{c}"\r\n' for _, b, c in good_rows(2))
    return _csv(d / "ohne_id.csv", text), 2


def g_missing_geometry_columns(d: Path) -> tuple[Path, int]:
    return _csv(d / "ohne_geometrie.csv", "plot_id;name\r\nP0;a\r\nP1;b\r\n"), 2


def g_points_without_area(d: Path) -> tuple[Path, int]:
    text = "plot_id;x;y\r\nA1;343500;5680500\r\nA2;344000;5681000\r\n"
    return _csv(d / "punkte_ohne_flaeche.csv", text), 2


def g_german_numbers(d: Path) -> tuple[Path, int]:
    text = (
        "plot_id;Rechtswert;Hochwert;Fläche\r\n"
        "N1;343.500,0;5.680.500,0;3.200,5\r\nN2;344.000;5.681.000;4.100,25\r\n"
    )
    return _csv(d / "deutsche_zahlen.csv", text), 2


def g_truncated_csv(d: Path) -> tuple[Path, int]:
    text = _wkt_csv(good_rows(3))
    return _csv(d / "abgeschnitten.csv", text[: len(text) - 40]), 3


def g_truncated_geojson(d: Path) -> tuple[Path, int]:
    text = frame(3).to_json()
    return _csv(d / "abgeschnitten.geojson", text[: len(text) // 2]), 3


def g_truncated_gpkg(d: Path) -> tuple[Path, int]:
    p = d / "abgeschnitten.gpkg"
    frame(3).to_file(p)
    p.write_bytes(p.read_bytes()[:2048])
    return p, 3


def g_utf16_no_bom(d: Path) -> tuple[Path, int]:
    return _csv(d / "utf16.csv", _wkt_csv(good_rows(2)), "utf-16-le"), 2


def g_binary_as_csv(d: Path) -> tuple[Path, int]:
    p = d / "binaer.csv"
    p.write_bytes(bytes(range(256)) * 4)
    return p, 0


def g_cp1252(d: Path) -> tuple[Path, int]:
    return _csv(d / "cp1252.csv", _wkt_csv(good_rows(2)).replace("Fläche", "Lörick"), "cp1252"), 2


def g_mixed_encoding(d: Path) -> tuple[Path, int]:
    rows = good_rows(3)
    head = _wkt_csv(rows[:2]).replace("Fläche", "Lörick").encode("utf-8")
    tail = f'{rows[2][0]};Lörick;"{rows[2][2]}"\r\n'.encode("cp1252")
    p = d / "gemischt.csv"
    p.write_bytes(head + tail)
    return p, 3


def g_formula_payloads(d: Path) -> tuple[Path, int]:
    n = len(PAYLOADS)
    gdf = gpd.GeoDataFrame(
        {"plot_id": [f"F{i}" for i in range(n)], "name": PAYLOADS},
        geometry=[rect(i % 20, 60 + i) for i in range(n)],
        crs="EPSG:25832",
    )
    p = d / "formeln.gpkg"
    gdf.to_file(p)
    return p, n


def g_formula_ids(d: Path) -> tuple[Path, int]:
    rows = [("=1+1", "a", rect(0).wkt), ("@SUM(1)", "b", rect(1).wkt), ("-2", "c", rect(2).wkt)]
    return _csv(d / "formel_ids.csv", _wkt_csv(rows)), 3


def g_empty_file(d: Path) -> tuple[Path, int]:
    return _csv(d / "leer.csv", ""), 0


def g_header_only(d: Path) -> tuple[Path, int]:
    return _csv(d / "nur_kopf.csv", "plot_id;name;wkt\r\n"), 0


def g_blank_lines_only(d: Path) -> tuple[Path, int]:
    return _csv(d / "leerzeilen.csv", "\r\n\r\n  \r\n"), 0


def g_empty_geojson(d: Path) -> tuple[Path, int]:
    text = '{"type": "FeatureCollection", "features": []}'
    return _csv(d / "leer.geojson", text), 0


def g_header_only_xlsx(d: Path) -> tuple[Path, int]:
    p = d / "nur_kopf.xlsx"
    pd.DataFrame(columns=["plot_id", "name", "wkt"]).to_excel(p, index=False)
    return p, 0


def _xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    pd.DataFrame(good_rows(2), columns=["plot_id", "name", "wkt"]).to_excel(buf, index=False)
    return buf.getvalue()


def g_corrupt_xlsx(d: Path) -> tuple[Path, int]:
    p = d / "kaputt.xlsx"
    data = _xlsx_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p, 2


def g_encrypted_xlsx(d: Path) -> tuple[Path, int]:
    # Excel stores a password-protected workbook as an encrypted OLE2 container
    p = d / "passwort.xlsx"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + b"EncryptedPackage")
    return p, 2


def g_xlsx_is_text(d: Path) -> tuple[Path, int]:
    return _csv(d / "text.xlsx", _wkt_csv(good_rows(2))), 2


def g_zip_without_workbook(d: Path) -> tuple[Path, int]:
    p = d / "kein_workbook.xlsx"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    return p, 2


def g_nan_coordinates(d: Path) -> tuple[Path, int]:
    text = (
        "plot_id;x;y;area_m2\r\nC1;343500;5680500;3000\r\nC2;;5680600;3000\r\nC3;343700;;3000\r\n"
    )
    return _csv(d / "fehlende_koordinaten.csv", text), 3


def g_missing_ids(d: Path) -> tuple[Path, int]:
    rows = [*good_rows(2), ("", "ohne id", rect(4).wkt)]
    return _csv(d / "fehlende_id.csv", _wkt_csv(rows)), 3


def g_lines_not_polygons(d: Path) -> tuple[Path, int]:
    rows = [*good_rows(2), ("L1", "Linie", f"LINESTRING ({X0} {Y0}, {X0 + 50} {Y0 + 50})")]
    return _csv(d / "linie.csv", _wkt_csv(rows)), 3


def g_lonlat_points(d: Path) -> tuple[Path, int]:
    text = "plot_id;lon;lat;area_m2\r\nL1;6,7735;51,2277;3000\r\nL2;6,7800;51,2300;4000\r\n"
    return _csv(d / "lonlat.csv", text), 2


def g_wrong_extension(d: Path) -> tuple[Path, int]:
    p = d / "plots.docx"
    p.write_bytes(b"PK\x03\x04not really")
    return p, 0


def g_point_far_away_geojson(d: Path) -> tuple[Path, int]:
    gdf = gpd.GeoDataFrame(
        {"plot_id": ["Z1"], "area_m2": [3000]}, geometry=[Point(0, 0)], crs="EPSG:4326"
    )
    p = d / "nullinsel.geojson"
    gdf.to_file(p)
    return p, 1


GENERATORS: dict[str, Gen] = {
    name.removeprefix("g_"): fn
    for name, fn in sorted(globals().items())
    if name.startswith("g_") and callable(fn)
}

#: Cases whose listing has WKT or coordinates in EPSG:25832 without saying so: --crs given.
WITH_CRS = {
    "all_geometries_broken", "bad_wkt", "bowtie", "cp1252", "duplicate_ids", "empty_geometry",
    "formula_ids", "good_csv_wkt", "good_xlsx", "header_only", "header_only_xlsx",
    "lines_not_polygons", "missing_id_column", "missing_ids", "mixed_encoding", "outside_city",
    "truncated_csv", "utf16_no_bom", "corrupt_xlsx", "encrypted_xlsx", "xlsx_is_text",
    "zip_without_workbook", "nan_coordinates", "missing_geometry_columns",
}  # fmt: skip
