"""Scoring: raw criteria → utilities → hard filters → weighted score → rank.

Two steps, so that scenarios, sensitivity runs and the site register re-use the expensive
part:

1. :func:`compute_raw` loops over the active criteria of the configuration, computing
   each with its entry in the criterion registry (:mod:`handwerkgeo.criteria.registry`:
   built-in criteria, and generic ``kind`` criteria defined in the configuration alone)
   from the layers the :class:`~handwerkgeo.context.ScoringContext` holds. It returns one
   ``raw_<k>`` column per active criterion (physical units; NaN = no data, with the reason
   in ``attrs["missing_reasons"]`` and its code in ``attrs["missing_codes"]``), optional
   ``fallback_<k>`` flags, and the columns the filters need (``area_m2``,
   ``zone_category``, ``zone_source``, ``overlap_protected``, ``overlap_flood``) plus
   helper columns ``aux_*``.
2. :func:`score_raw` is pure and vectorised (numpy): utilities, filters, aggregation, rank.
   Scoring 100,000 plots takes a fraction of a second.

Aggregation (docs/design.md "Scored frame"): for plot *i* with the set Aᵢ of active
criteria that have data, ``contrib_k = 100 · w_k · u_k / Σ_{j∈Aᵢ} w_j`` (0 without data),
``score_total = Σ_k contrib_k`` ∈ 0..100, ``coverage = Σ_{j∈Aᵢ} w_j / Σ_j w_j``. A plot
without any data has ``score_total`` NaN and is excluded. ``rank`` is 1 for the best
non-excluded plot; ties are broken by ``plot_id`` so that runs are reproducible.

Decision readiness: a plot whose ``coverage`` is below ``filters.decision_coverage``
(default 0.6) is still ranked but has ``decision_ready`` False and the reason in
``decision_reason`` (German) / ``decision_reason_en``; :func:`decision_summary` gives the
run summary line ("3 von 13 Flächen nicht entscheidungsreif (Abdeckung < 60 %)").

Exclusion reasons are reason codes rendered by :func:`handwerkgeo.messages.message`:
German in ``exclusion_reason`` (exported tables and maps are German by default) and English
in ``exclusion_reason_en``; both are ``""`` for ranked plots.

Modules: ``_raw`` (compute_raw), ``_utility`` (utilities), ``_aggregate`` (filters,
aggregation, rank), ``_score`` (score_plots), ``_decision`` (decision readiness, carried
attributes), ``_io`` (GeoPackage round trip).

Examples
--------
>>> import numpy as np
>>> utility([0, 600, 5000, np.nan], [[400, 1.0], [800, 0.5], [1200, 0.0]]).tolist()
[1.0, 0.75, 0.0, nan]
"""

from __future__ import annotations

from handwerkgeo.scoring._aggregate import FIXED_COLUMNS, ZONE_NAMES, criteria_info, score_raw
from handwerkgeo.scoring._decision import (
    carried_columns,
    decision_note,
    decision_ready,
    decision_summary,
    decision_threshold,
)
from handwerkgeo.scoring._io import read_scored, write_scored
from handwerkgeo.scoring._raw import compute_raw
from handwerkgeo.scoring._score import score_plots
from handwerkgeo.scoring._utility import utility, utility_matrix

__all__ = [
    "FIXED_COLUMNS",
    "ZONE_NAMES",
    "carried_columns",
    "compute_raw",
    "criteria_info",
    "decision_note",
    "decision_ready",
    "decision_summary",
    "decision_threshold",
    "read_scored",
    "score_plots",
    "score_raw",
    "utility",
    "utility_matrix",
    "write_scored",
]
