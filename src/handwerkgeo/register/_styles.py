"""QGIS styles of the register's layers, written inside the run's own transaction.

``plots`` / ``plot_points`` get a single symbol with German (and English) field aliases;
the views ``ranking`` / ``ranking_points`` get the maps' graduated score classes and the
score card as map tip (:mod:`handwerkgeo._qgis_style`). The styles are (re)written when
the layers are created and whenever a run adds columns to the views, so aliases and map
tips name every criterion the views show.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

import pandas as pd
import yaml

from handwerkgeo._gpkg import add_styles
from handwerkgeo._qgis_style import GeometryKind, layer_styles
from handwerkgeo.register import _sqlite as sq

__all__ = ["style_layers"]

#: layer -> geometry kind of its style
_LAYERS: dict[str, GeometryKind] = {
    "plots": "polygon",
    "plot_points": "point",
    "ranking": "polygon",
    "ranking_points": "point",
}


def _columns(con: sqlite3.Connection, table: str) -> pd.DataFrame:
    cur = con.execute(f"SELECT * FROM {sq.quote(table)} LIMIT 0")
    names = [d[0] for d in cur.description if d[0] not in ("geom", "fid")]
    return pd.DataFrame({name: [] for name in names})


def _criteria(run: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Criterion labels of the run's configuration (for aliases and map tips).

    Read from the stored YAML as it is (a scorer may store its own configuration): a
    criterion without labels keeps its key as label.
    """
    if not run or not run.get("config_yaml"):
        return {}
    try:
        doc = yaml.safe_load(str(run["config_yaml"]))
    except yaml.YAMLError:
        return {}
    crits = doc.get("criteria") if isinstance(doc, dict) else None
    if not isinstance(crits, dict):
        return {}
    keys = ("label_de", "label_en", "unit")
    return {
        str(name): {k: c[k] for k in keys if k in c}
        for name, c in crits.items()
        if isinstance(c, dict)
    }


def style_layers(
    con: sqlite3.Connection, run: Mapping[str, Any] | None = None, *, lang: str = "de"
) -> int:
    """Write the default QGIS style of every register layer on the open connection.

    Joins the caller's transaction (a rollback takes the styles away with the run).
    Returns the number of ``layer_styles`` rows written.
    """
    criteria = _criteria(run)
    styles = []
    for table, kind in _LAYERS.items():
        frame = _columns(con, table)
        styles += layer_styles(frame, table, criteria=criteria, geometry=kind, lang=lang)
    return add_styles(con, styles)
