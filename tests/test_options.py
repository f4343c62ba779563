"""Options objects: the keyword TypedDicts match the dataclasses; unknown options are named."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from handwerkgeo.errors import ConfigError
from handwerkgeo.export.figures import FigureKwargs, FigureOptions
from handwerkgeo.export.maps import MapKwargs, MapOptions, export_map
from handwerkgeo.export.profiles import ProfileKwargs, ProfileOptions, export_profiles
from handwerkgeo.register import RunOptions, add_plots, rescore
from handwerkgeo.register.runs import RunKwargs
from handwerkgeo.scale import DaskKwargs, DaskOptions, compute_raw_dask

PAIRS = [
    (RunOptions, RunKwargs),
    (MapOptions, MapKwargs),
    (ProfileOptions, ProfileKwargs),
    (FigureOptions, FigureKwargs),
    (DaskOptions, DaskKwargs),
]


@pytest.mark.parametrize(("options", "kwargs"), PAIRS, ids=lambda c: c.__name__)
def test_keyword_typeddict_lists_the_dataclass_fields(options: Any, kwargs: Any) -> None:
    fields = [f.name for f in dataclasses.fields(options)]
    assert list(get_type_hints(kwargs)) == fields


@pytest.mark.parametrize(
    "call",
    [
        lambda p: export_map(None, p / "m.html", top=5),  # type: ignore[call-arg,arg-type]
        lambda p: export_profiles(None, p, pdfs=False),  # type: ignore[call-arg,arg-type]
        lambda p: add_plots(p / "r.gpkg", p / "x.gpkg", wait=3),  # type: ignore[call-arg]
        lambda p: compute_raw_dask(None, None, context=None, worker=2),  # type: ignore[call-arg,arg-type]
    ],
    ids=["export_map", "export_profiles", "add_plots", "compute_raw_dask"],
)
def test_unknown_keyword_option_is_named_before_any_work(call: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown option") as err:
        call(tmp_path)
    assert "known options:" in str(err.value)
    assert not list(tmp_path.iterdir())


def test_options_object_and_keywords_combine() -> None:
    from handwerkgeo._options import merge_options

    base = MapOptions(top_n=3, lang="en")
    merged = merge_options(MapOptions, base, {"title": "T"}, func="export_map")
    assert (merged.top_n, merged.lang, merged.title) == (3, "en", "T")
    assert merge_options(MapOptions, base, {}, func="export_map") is base


def test_run_options_check_engine_and_language_up_front() -> None:
    with pytest.raises(ConfigError, match="engine"):
        RunOptions(engine="spark")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="language"):
        RunOptions(language="fr")


def test_rescore_refuses_listing_options(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="id_col"):
        rescore(tmp_path / "r.gpkg", id_col="fid")  # type: ignore[call-arg]
