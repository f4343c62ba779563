"""handwerkgeo: site scoring for Handwerkerhöfe in Düsseldorf.

The most used functions are available at the top level and imported on first use (so
``import handwerkgeo`` stays fast and has no side effects)::

    import handwerkgeo as hwg

    ctx = hwg.load_context()
    scored = hwg.score_plots(hwg.read_plots("angebote.gpkg"), context=ctx)
    hwg.export_map(scored, "karte.html", stadtteile=ctx.stadtteile)

Modules, in the order data flows: ``sources`` → ``network`` / ``criteria`` → ``scoring``
(``config``, ``context``, ``sensitivity``, ``search``) → ``export`` / ``register``
(``scale``) → ``cli``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from handwerkgeo import errors, settings

if TYPE_CHECKING:  # the real names for type checkers and IDEs; imported lazily at run time
    from handwerkgeo import (
        config,
        context,
        criteria,
        crs,
        export,
        network,
        register,
        scale,
        scoring,
        search,
        sensitivity,
        sources,
    )
    from handwerkgeo import fetch as fetch
    from handwerkgeo.config import load_config
    from handwerkgeo.context import ScoringContext, load_context
    from handwerkgeo.export.figures import export_figure
    from handwerkgeo.export.maps import export_map
    from handwerkgeo.export.profiles import export_profiles
    from handwerkgeo.export.tables import export_tables
    from handwerkgeo.fetch import layer_paths
    from handwerkgeo.scoring import read_scored, score_plots, write_scored
    from handwerkgeo.search import candidate_cells, site_search
    from handwerkgeo.sensitivity import monte_carlo, one_at_a_time
    from handwerkgeo.sources.plots import check_plots, read_plots
    from handwerkgeo.sources.quarters import read_stadtbezirke, read_stadtteile

try:
    __version__ = version("handwerkgeo")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

#: public name -> module that defines it (imported lazily on first access)
# (``handwerkgeo.fetch`` is the module — ``handwerkgeo.fetch.fetch()`` the function — so
# that ``from handwerkgeo import fetch`` means the same whatever was imported before)
_LAZY = {
    "layer_paths": "handwerkgeo.fetch",
    "read_plots": "handwerkgeo.sources.plots",
    "check_plots": "handwerkgeo.sources.plots",
    "read_stadtteile": "handwerkgeo.sources.quarters",
    "read_stadtbezirke": "handwerkgeo.sources.quarters",
    "load_config": "handwerkgeo.config",
    "load_context": "handwerkgeo.context",
    "ScoringContext": "handwerkgeo.context",
    "score_plots": "handwerkgeo.scoring",
    "write_scored": "handwerkgeo.scoring",
    "read_scored": "handwerkgeo.scoring",
    "monte_carlo": "handwerkgeo.sensitivity",
    "one_at_a_time": "handwerkgeo.sensitivity",
    "site_search": "handwerkgeo.search",
    "candidate_cells": "handwerkgeo.search",
    "export_map": "handwerkgeo.export.maps",
    "export_figure": "handwerkgeo.export.figures",
    "export_tables": "handwerkgeo.export.tables",
    "export_profiles": "handwerkgeo.export.profiles",
}

_SUBMODULES = (
    "config",
    "context",
    "criteria",
    "crs",
    "export",
    "fetch",
    "network",
    "register",
    "scale",
    "scoring",
    "search",
    "sensitivity",
    "sources",
)

# every lazy name and submodule is public (tests/test_packaging.py checks the list)
__all__ = [
    "ScoringContext",
    "__version__",
    "candidate_cells",
    "check_plots",
    "config",
    "context",
    "criteria",
    "crs",
    "errors",
    "export",
    "export_figure",
    "export_map",
    "export_profiles",
    "export_tables",
    "fetch",
    "layer_paths",
    "load_config",
    "load_context",
    "monte_carlo",
    "network",
    "one_at_a_time",
    "read_plots",
    "read_scored",
    "read_stadtbezirke",
    "read_stadtteile",
    "register",
    "scale",
    "score_plots",
    "scoring",
    "search",
    "sensitivity",
    "settings",
    "site_search",
    "sources",
    "write_scored",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"handwerkgeo.{name}")
    else:
        msg = f"module 'handwerkgeo' has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
