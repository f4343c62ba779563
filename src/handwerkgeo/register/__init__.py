"""Site register: a GeoPackage of listed plots, every scoring run, its scores and its rejects.

The register is one GeoPackage (layout 2, table ``register_info``; it opens in QGIS):

``plots`` (MultiPolygon) and ``plot_points`` (Point), EPSG:25832
    One row per *version* of a plot — polygon plots in ``plots``, plots listed as points in
    ``plot_points`` (one geometry type per layer, so QGIS loads each with the right type;
    points are not buffered into fake polygons): ``plot_id`` (stable), ``plot_version``
    (1, 2, …), the geometry, every attribute of the input as its own column, ``geom_hash``
    (sha256 of the WKB of the normalised geometry rounded to centimetres), ``attr_hash``
    (sha256 of the canonical JSON of the non-empty attributes), ``first_seen``,
    ``last_changed``, ``valid_to`` (empty for the current version), ``active`` (true for
    the current version) and ``source_file``.
``scores`` (table)
    The rows each run stored: one per plot the run *scored* (an ``add`` run: its new and
    changed plots; a ``rescore``: every plot): ``run_id``, ``run_seq``, ``plot_id``,
    ``plot_version`` and every column of the scored frame that is not a plot attribute
    (``raw_*``, ``u_*``, ``contrib_*``, ``score_total``, ``rank`` — at that run —,
    ``excluded``, ``exclusion_reason``, ``coverage``, ``missing_criteria`` …). The state
    after run *n* is each plot's latest row of runs up to *n*, ranked again
    (:func:`read_run`).
``ranking`` (MultiPolygon) and ``ranking_points`` (Point): views
    The current version of every plot with its latest scores and its current ``rank``
    (over both layers), computed when read: the current ranking maps directly in QGIS.
``runs`` (table)
    One row per run: ``run_id``, ``seq`` (1, 2, …), ``kind`` (``add``/``rescore``),
    ``started_at``, ``finished_at``, ``version`` (of handwerkgeo), ``config_hash``,
    ``config_yaml`` (the full configuration), ``engine``, ``n_plots`` (current plots
    ranked), ``n_scored`` (plots scored in this run), ``n_stored`` (score rows it stored),
    ``n_new``, ``n_changed``, ``n_unchanged``, ``n_rejected``, ``n_duplicates``,
    ``input_file``, ``input_sha256``, ``data_checksums`` (JSON ``{path: sha256}`` of every
    input data file) and ``previous_run_id``.
``rejects`` (table)
    ``run_id``, ``source_file``, ``row``, ``plot_id``, ``reason`` of every input row that was
    not registered (invalid, duplicate id, duplicate geometry).

Workflow: :func:`add_plots` validates a new listing, registers new and changed plots and
scores only them, re-ranking all plots globally; :func:`rescore` scores every plot again
(after a change of the configuration or the data). Each run writes a change report of what
changed to ``<register>.reports/<run_id>/``. :func:`reproduce_run` re-scores the plots of
an old run with that run's stored configuration. A register of the older layout 1 is
refused with :class:`~handwerkgeo.errors.RegisterLayoutError`; :func:`migrate_register`
(``handwerkgeo register migrate``) converts it once.

Modules: :mod:`~handwerkgeo.register.storage` (the GeoPackage, its lock, reading),
:mod:`~handwerkgeo.register.listing` (validating a listing, hashes, new / changed /
same), :mod:`~handwerkgeo.register.incremental` (scoring only what changed),
:mod:`~handwerkgeo.register.runs` (add and rescore runs), :mod:`~handwerkgeo.register.replay`
(read and reproduce runs), :mod:`~handwerkgeo.register.reports` (change reports in German
or English) and :mod:`~handwerkgeo.register.migrate`.

Safety: runs are idempotent (adding the same listing again is a no-op that records
nothing), atomic (ONE SQLite transaction on the register file per run; a crash at any
moment leaves the previous state or the new one, never a mix) and serialised by a lock
file (``<register>.lock``); a second writer waits ``wait_s`` seconds and then raises
:class:`~handwerkgeo.errors.RegisterLockedError` naming the holder.
"""

from __future__ import annotations

from handwerkgeo.register.listing import attr_hashes, data_checksums, geom_hashes
from handwerkgeo.register.migrate import migrate_register
from handwerkgeo.register.replay import read_run, reproduce_run
from handwerkgeo.register.reports import write_change_report, write_rejects_file
from handwerkgeo.register.runs import (
    RunOptions,
    RunReport,
    StaleRegisterError,
    add_plots,
    rescore,
)
from handwerkgeo.register.storage import (
    LAYERS,
    Register,
    init_register,
    read_register,
    register_lock,
)
from handwerkgeo.scorer import Scorer

__all__ = [
    "LAYERS",
    "Register",
    "RunOptions",
    "RunReport",
    "Scorer",
    "StaleRegisterError",
    "add_plots",
    "attr_hashes",
    "data_checksums",
    "geom_hashes",
    "init_register",
    "migrate_register",
    "read_register",
    "read_run",
    "register_lock",
    "reproduce_run",
    "rescore",
    "write_change_report",
    "write_rejects_file",
]
