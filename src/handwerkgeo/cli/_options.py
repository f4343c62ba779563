"""Command-line options shared by several commands."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["LayerOption"]

#: ``--layer KIND=PATH`` (repeatable): add a planner-supplied data layer to the context;
#: KIND is a known layer kind or the name a generic criterion reads (``layer: NAME``).
LayerOption = Annotated[
    list[str] | None,
    typer.Option(
        "--layer",
        help="Add a data layer from a file, KIND=PATH (repeatable); KIND is one of "
        "bplan, fnp, zoning, landuse, motorway_junctions, main_roads, residential, "
        "protected_areas, flood_areas, or any NAME that a generic criterion of the "
        "configuration reads with `layer: NAME` (e.g. --layer bplan=bplan.gpkg "
        "--layer motorway_junctions=nrw.osm.pbf --layer kitas=kitas.geojson).",
    ),
]
