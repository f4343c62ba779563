"""The shared helpers of the readers: text decoding, key normalising, polygonal parts."""

from __future__ import annotations

import pytest
from shapely import GeometryCollection, LineString, MultiPolygon, Point, Polygon

from handwerkgeo._geom import polygonal_part
from handwerkgeo._text import decode_text, normalize_key, parse_yes_no, read_text
from handwerkgeo.errors import DataSourceError, EncodingError, HandwerkgeoError

TEXT = "Stadtteil;Fläche\n043 Lörick;1\n"


@pytest.mark.parametrize(
    ("data", "used"),
    [
        (TEXT.encode("utf-8"), "utf-8-sig"),
        ("\ufeff".encode() + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("cp1252"), "cp1252"),
    ],
)
def test_decode_text_tries_utf8_then_cp1252(data, used):
    assert decode_text(data, name="t.csv") == (TEXT, used)


def test_decode_text_refuses_undefined_bytes_and_names_the_file():
    with pytest.raises(EncodingError, match=r"t\.csv.*UTF-8.*cp1252") as info:
        decode_text(b"L\x81rick", name="t.csv")
    assert isinstance(info.value, HandwerkgeoError)
    assert isinstance(info.value, UnicodeError)


def test_decode_text_with_an_explicit_encoding_tries_only_that():
    assert decode_text(TEXT.encode("cp1252"), name="t", encoding="cp1252")[1] == "cp1252"
    with pytest.raises(EncodingError, match="utf-8"):
        decode_text(TEXT.encode("cp1252"), name="t", encoding="utf-8")
    with pytest.raises(EncodingError, match="unknown encoding"):
        decode_text(b"abc", name="t", encoding="no-such-codec")


def test_read_text_missing_file(tmp_path):
    with pytest.raises(DataSourceError, match="cannot read"):
        read_text(tmp_path / "missing.csv")


def test_normalize_key_and_yes_no_agree_everywhere():
    assert normalize_key("Flingern-Süd") == normalize_key("flingern sued") == "flingernsued"
    assert normalize_key("Größe (m²)") == "groessem2"
    assert [parse_yes_no(v) for v in ["X", "ja", "nein", "", float("nan")]] == [
        True,
        True,
        False,
        None,
        None,
    ]


SQUARE = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
OTHER = Polygon([(2, 0), (3, 0), (3, 1), (2, 1)])


@pytest.mark.parametrize(
    ("geom", "expected"),
    [
        (SQUARE, SQUARE),
        (MultiPolygon([SQUARE, OTHER]), MultiPolygon([SQUARE, OTHER])),
        (GeometryCollection([SQUARE, LineString([(0, 0), (5, 5)])]), SQUARE),
        (GeometryCollection([SQUARE, OTHER, Point(9, 9)]), MultiPolygon([SQUARE, OTHER])),
        (LineString([(0, 0), (1, 1)]), None),
        (Polygon(), None),
        (None, None),
    ],
)
def test_polygonal_part(geom, expected):
    got = polygonal_part(geom)
    if expected is None:
        assert got is None
    else:
        assert got.equals(expected)
