"""The criterion registry: one table, name → function, layers, kind, utility hook.

:data:`REGISTRY` lists the built-in criteria in the order they are reported. A
configuration entry whose name is not in it declares a generic ``kind`` instead
(:data:`handwerkgeo.criteria.generic.GENERIC_KINDS`); :func:`criterion_spec` gives the
entry for either. :func:`handwerkgeo.scoring.compute_raw` loops over the active criteria
of the configuration and calls ``spec.compute(plots, context, crit)`` for each.

Adding a criterion in code is one function with the signature of
:mod:`handwerkgeo.criteria.base` plus one line here (and its name in
:data:`handwerkgeo.config.CRITERIA`, its parameters in
:data:`handwerkgeo.config.CRITERION_PARAMS`, its block in ``default.yaml``). A criterion of
a generic kind needs no code at all.

Examples
--------
>>> REGISTRY["transit"].layers
('stops',)
>>> REGISTRY["ownership"].kind
'categorical'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handwerkgeo.criteria import builtin as b
from handwerkgeo.criteria.base import CriterionSpec
from handwerkgeo.criteria.generic import GENERIC_KINDS
from handwerkgeo.errors import ConfigError

if TYPE_CHECKING:
    from handwerkgeo.config import CriterionConfig

__all__ = ["PLOT_COLUMN_CRITERIA", "REGISTRY", "criterion_spec"]

_SPECS = (
    CriterionSpec("plot_size", b.plot_size),
    CriterionSpec("plot_shape", b.plot_shape),
    CriterionSpec("zoning", b.zoning, optional_layers=("zoning",), kind="categorical"),
    CriterionSpec("brownfield", b.brownfield, optional_layers=("landuse",)),
    CriterionSpec(
        "noise_buffer",
        b.noise_buffer,
        optional_layers=("residential", "zoning", "landuse"),
        utility=b.noise_buffer_utility,
    ),
    CriterionSpec("motorway", b.motorway, ("motorway_junctions",), ("network",)),
    CriterionSpec("main_road", b.main_road, ("main_roads",)),
    CriterionSpec("transit", b.transit, ("stops",), ("network",), utility=b.transit_utility),
    CriterionSpec("cycling", b.cycling, ("cycling",)),
    CriterionSpec("customer_potential", b.customer_potential, ("population",), ("stadtteile",)),
    CriterionSpec(
        "landuse_mix",
        b.landuse_mix,
        optional_layers=("landuse", "bezirke", "bezirk_shares"),
    ),
    CriterionSpec("jobs_housing", b.jobs_housing, ("bezirke", "bezirk_shares")),
    CriterionSpec(
        "social_mix", b.social_mix, ("bezirke", "bezirk_indicators"), utility=b.social_mix_utility
    ),
    CriterionSpec("ownership", b.ownership, kind="categorical", lower_categories=True),
    CriterionSpec("land_value", b.land_value),
)

#: Canonical plot column (:mod:`handwerkgeo.vocabulary`) → the built-in criteria it feeds.
PLOT_COLUMN_CRITERIA: dict[str, tuple[str, ...]] = {
    "area_m2": ("plot_size",),
    "zoning": ("zoning",),
    "brownfield": ("brownfield",),
    "owner": ("ownership",),
    "land_value_eur_m2": ("land_value",),
}

#: The built-in criteria, in report order (the order of :data:`handwerkgeo.config.CRITERIA`).
REGISTRY: dict[str, CriterionSpec] = {spec.name: spec for spec in _SPECS}


def criterion_spec(name: str, crit: CriterionConfig) -> CriterionSpec:
    """The registry entry of a configured criterion: built-in, or of its generic ``kind``.

    A generic criterion needs its ``layer`` (``attribute`` reads a plot column instead).

    Raises
    ------
    ConfigError
        For a name that is neither built in nor declares a known ``kind`` (a configuration
        validated by :class:`~handwerkgeo.config.ScoringConfig` never has one).
    """
    if crit.kind is None:
        if name in REGISTRY:
            return REGISTRY[name]
        msg = f"criterion {name!r} is not built in and declares no 'kind'"
        raise ConfigError(msg)
    if crit.kind not in GENERIC_KINDS:
        msg = f"criterion {name!r}: unknown kind {crit.kind!r}; allowed: {', '.join(GENERIC_KINDS)}"
        raise ConfigError(msg)
    layers = (str(crit.layer),) if crit.layer else ()
    return CriterionSpec(
        name,
        GENERIC_KINDS[crit.kind],
        layers=layers,
        kind="categorical" if crit.table is not None else "continuous",
    )
