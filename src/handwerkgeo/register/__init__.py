"""Site register: a GeoPackage of listed plots, every scoring run, its scores and its rejects.

The register is one GeoPackage (it opens in QGIS) with four layers:

``plots`` (spatial, EPSG:25832)
    One row per *version* of a plot: ``plot_id`` (stable), ``plot_version`` (1, 2, …),
    the geometry, every attribute of the input as its own column, ``geom_hash`` (sha256 of
    the WKB of the normalised geometry rounded to centimetres), ``attr_hash`` (sha256 of the
    canonical JSON of the non-empty attributes), ``first_seen`` (when the plot id was first
    registered), ``last_changed`` (when this version was registered), ``valid_to`` (when a
    newer version replaced it; empty for the current one), ``active`` (true for the current
    version of each plot: filter ``"active" = 1`` in QGIS) and ``source_file``.
``scores`` (table)
    One row per plot and run: ``run_id``, ``plot_id``, ``plot_version`` and every column of
    the scored frame that is not a plot attribute (``raw_*``, ``u_*``, ``contrib_*``,
    ``fallback_*``, ``score_total``, ``rank``, ``excluded``, ``exclusion_reason``,
    ``coverage``, ``missing_criteria``).
``runs`` (table)
    One row per run: ``run_id``, ``seq`` (1, 2, …), ``kind`` (``add``/``rescore``),
    ``started_at``, ``finished_at``, ``version`` (of handwerkgeo), ``config_hash``,
    ``config_yaml`` (the full configuration), ``engine``, ``n_plots`` (active plots ranked),
    ``n_scored`` (plots whose criteria were computed in this run), ``n_new``, ``n_changed``,
    ``n_unchanged``, ``n_rejected``, ``n_duplicates``, ``input_file``, ``input_sha256``,
    ``data_checksums`` (JSON ``{path: sha256}`` of every input data file) and
    ``previous_run_id``.
``rejects`` (table)
    ``run_id``, ``source_file``, ``row``, ``plot_id``, ``reason`` of every input row that was
    not registered (invalid, duplicate id, duplicate geometry).

Workflow: :func:`add_plots` validates a new listing, registers new and changed plots and
computes the criteria only for them, re-ranking all plots globally; :func:`rescore` scores
every plot again (after a change of the configuration or the data). Each run writes a change
report to ``<register>.reports/<run_id>/``. :func:`reproduce_run` re-scores the plots of an
old run with that run's stored configuration.

Modules: :mod:`~handwerkgeo.register.storage` (the GeoPackage, its lock and atomic
writes), :mod:`~handwerkgeo.register.listing` (validating a listing, hashes, new / changed /
same), :mod:`~handwerkgeo.register.incremental` (scoring only what changed),
:mod:`~handwerkgeo.register.runs` (add and rescore runs), :mod:`~handwerkgeo.register.replay`
(read and reproduce runs) and
:mod:`~handwerkgeo.register.reports` (change reports in German or English).

Safety: runs are idempotent (adding the same listing again is a no-op that records
nothing), atomic (the new register is built in a temporary copy beside it and moved over it
with :func:`os.replace`; a crash leaves the previous register intact) and serialised by a
lock file (``<register>.lock``); a second writer waits ``wait_s`` seconds and then raises
:class:`~handwerkgeo.errors.RegisterLockedError` naming the holder.
"""

from __future__ import annotations

from handwerkgeo.register.listing import attr_hashes, data_checksums, geom_hashes
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
    "read_register",
    "read_run",
    "register_lock",
    "reproduce_run",
    "rescore",
    "write_change_report",
    "write_rejects_file",
]
