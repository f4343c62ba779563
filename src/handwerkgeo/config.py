"""The scoring configuration: criteria, weights, utility functions, zoning table, hard filters.

A configuration is a YAML file loaded into a frozen, validated pydantic model,
:class:`ScoringConfig`. The packaged default, ``handwerkgeo/configs/default.yaml``, explains
every number it holds. A bad file raises :class:`~handwerkgeo.errors.ConfigError` naming
*every* problem at once with its key path (``criteria.transit.breakpoints[1]``), the bad
value and what is allowed.

Each criterion has either ``breakpoints`` (numeric criteria: a piecewise linear utility
through ``[x, u]`` points, clamped outside) or a ``table`` (categorical criteria:
category → utility). The built-in criteria are :data:`CRITERIA` (computed by the functions
of :mod:`handwerkgeo.criteria.registry`); any other name declares a generic ``kind`` (one of
:data:`GENERIC_KINDS`: ``network_distance``, ``count_within``, ``overlap_share``,
``attribute``) over a context ``layer`` with an optional ``filter`` — a new criterion without
code. Zone categories come from the vocabulary in ``docs/design.md`` (:data:`ZONE_CATEGORIES`).

Examples
--------
>>> cfg = default_config()
>>> cfg.criteria["plot_size"].weight
10.0
>>> len(cfg.hash)
12
>>> cfg.with_weights({"transit": 20}).criteria["transit"].weight
20.0
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from handwerkgeo._config_errors import format_validation_errors
from handwerkgeo.errors import ConfigError

__all__ = [
    "CATEGORICAL_CRITERIA",
    "CRITERIA",
    "CRITERION_PARAMS",
    "GENERIC_KINDS",
    "OWNER_CATEGORIES",
    "ZONE_CATEGORIES",
    "CriterionConfig",
    "FilterConfig",
    "ScoringConfig",
    "default_config",
    "load_config",
]

logger = logging.getLogger(__name__)

#: The built-in criteria, in the order they are reported (generic criteria follow them).
CRITERIA: tuple[str, ...] = (
    "plot_size",
    "plot_shape",
    "zoning",
    "brownfield",
    "noise_buffer",
    "motorway",
    "main_road",
    "transit",
    "cycling",
    "customer_potential",
    "landuse_mix",
    "jobs_housing",
    "social_mix",
    "ownership",
    "land_value",
)

#: Criteria whose raw value is a category and whose utility comes from a ``table``.
CATEGORICAL_CRITERIA: frozenset[str] = frozenset({"zoning", "ownership"})

#: The zoning vocabulary (``zone_category``) of docs/design.md.
ZONE_CATEGORIES: tuple[str, ...] = (
    "WS",
    "WR",
    "WA",
    "WB",
    "MD",
    "MI",
    "MU",
    "MK",
    "GE",
    "GI",
    "SO",
    "SO_COMMERCIAL",
    "FNP_G",
    "FNP_M",
    "FNP_W",
    "FNP_S",
    "GREEN",
    "FOREST",
    "WATER",
    "AGRICULTURE",
    "TRANSPORT",
    "COMMUNITY",
    "UNKNOWN",
)

#: Owner categories of the plots contract.
OWNER_CATEGORIES: tuple[str, ...] = ("city", "idr", "public", "private")

#: Optional per-criterion parameters: name → allowed values (a tuple) or a type.
CRITERION_PARAMS: dict[str, dict[str, Any]] = {
    "plot_shape": {"measure": ("narrowest_width", "compactness")},
    "motorway": {"circuity": float},
    "main_road": {},
    "transit": {"service_factors": dict, "circuity": float},
    "cycling": {},
    "noise_buffer": {},
    "customer_potential": {"half_distance_m": float},
    "landuse_mix": {"radius_m": float, "index": ("shannon", "gini_simpson")},
    "brownfield": {"min_commercial_share": float},
}

#: Generic criterion kinds and their parameters (allowed values or type; see
#: :mod:`handwerkgeo.criteria.generic`).
GENERIC_KINDS: dict[str, dict[str, Any]] = {
    "network_distance": {"circuity": float, "max_snap_m": float},
    "count_within": {"radius_m": float, "circuity": float, "max_snap_m": float},
    "overlap_share": {},
    "attribute": {"column": str},
}

#: Parameters a generic kind cannot do without.
_REQUIRED_KIND_PARAMS: dict[str, tuple[str, ...]] = {
    "count_within": ("radius_m",),
    "attribute": ("column",),
}

#: Keys of a criterion that only generic criteria have (left out of dumps when unset, so
#: that the hash of a configuration without generic criteria is what it always was).
_GENERIC_KEYS = ("kind", "layer", "filter")

Breakpoints = tuple[tuple[float, float], ...]


def _check_breakpoints(value: Breakpoints | None) -> Breakpoints | None:
    if value is None:
        return None
    if len(value) < 2:
        msg = f"need at least two [x, u] points, got {len(value)}: {list(value)}"
        raise ConfigError(msg)
    problems = []
    for i, (x, u) in enumerate(value):
        if not (math.isfinite(x) and math.isfinite(u)):
            problems.append(f"[{i}]: [{x}, {u}] must be finite numbers")
        elif not 0.0 <= u <= 1.0:
            problems.append(f"[{i}]: utility {u} is outside the allowed range 0..1")
        if i and value[i - 1][0] >= x:
            problems.append(
                f"[{i}]: x values must increase strictly, but {x} follows {value[i - 1][0]}"
            )
    if problems:
        raise ConfigError("\n".join(problems))
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CriterionConfig(_Frozen):
    """One criterion: weight, utility function, labels and data source.

    Generic criteria (names not in :data:`CRITERIA`) also declare ``kind`` (one of
    :data:`GENERIC_KINDS`), ``layer`` (a context layer name, e.g. one added with
    ``--layer NAME=PATH``; not for ``attribute``) and optionally ``filter`` (layer column →
    value or list of values).
    """

    weight: float = Field(ge=0.0, allow_inf_nan=False)
    enabled: bool = True
    label_de: str
    label_en: str
    unit: str
    description_de: str
    description_en: str = ""
    source: str
    breakpoints: Breakpoints | None = None
    table: dict[str, float] | None = None
    breakpoints_by_zone: dict[str, Breakpoints] | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    kind: str | None = None
    layer: str | None = None
    filter: dict[str, Any] | None = None

    @field_validator("breakpoints")
    @classmethod
    def _check_bp(cls, value: Breakpoints | None) -> Breakpoints | None:
        return _check_breakpoints(value)

    @field_validator("breakpoints_by_zone")
    @classmethod
    def _check_by_zone(cls, value: dict[str, Breakpoints] | None) -> dict[str, Breakpoints] | None:
        if value is None:
            return None
        bad = sorted(set(value) - set(ZONE_CATEGORIES))
        if bad:
            msg = f"unknown zone categories {bad}; allowed: {', '.join(ZONE_CATEGORIES)}"
            raise ConfigError(msg)
        problems: list[str] = []
        for zone, bp in value.items():
            try:
                _check_breakpoints(bp)
            except ValueError as exc:
                problems.extend(f"{zone}{line}" for line in str(exc).split("\n"))
        if problems:
            raise ConfigError("\n".join(f".{p}" if p[0].isalpha() else p for p in problems))
        return value

    @field_validator("table")
    @classmethod
    def _check_table(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        bad = {k: v for k, v in value.items() if not (math.isfinite(v) and 0.0 <= v <= 1.0)}
        if bad:
            msg = f"utilities must lie in 0..1, got {bad}"
            raise ConfigError(msg)
        return value

    @property
    def is_categorical(self) -> bool:
        """True when the utility comes from a ``table``."""
        return self.table is not None


class FilterConfig(_Frozen):
    """Hard filters: a plot failing one is excluded, with the reason reported."""

    min_area_m2: float = Field(default=2500.0, ge=0.0, allow_inf_nan=False)
    excluded_zones: tuple[str, ...] = ("WS", "WR", "WA", "GREEN", "FOREST", "WATER")
    exclude_protected_areas: bool = True
    exclude_flood_areas: bool = True
    max_overlap_share: float = Field(default=0.5, gt=0.0, le=1.0)
    min_coverage: float = Field(default=0.0, ge=0.0, le=1.0)
    decision_coverage: float = Field(default=0.6, ge=0.0, le=1.0, allow_inf_nan=False)

    @field_validator("excluded_zones")
    @classmethod
    def _check_zones(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [z for z in value if z not in ZONE_CATEGORIES]
        if bad:
            msg = f"unknown zone categories {bad}; allowed: {', '.join(ZONE_CATEGORIES)}"
            raise ConfigError(msg)
        return value


class ScoringConfig(_Frozen):
    """A complete, validated scoring configuration (frozen: derive changes with helpers).

    Construct it with :func:`load_config`, :func:`default_config` or
    :meth:`ScoringConfig.from_dict`; every route raises
    :class:`~handwerkgeo.errors.ConfigError` on a bad value.
    """

    name: str = "custom"
    description: str = ""
    social_mix_policy: Literal["favour_high_sgb2", "favour_low_sgb2", "off"] = "favour_high_sgb2"
    filters: FilterConfig = Field(default_factory=FilterConfig)
    criteria: dict[str, CriterionConfig]

    def __init__(self, **data: Any) -> None:
        source = str(data.pop("_source", data.get("name", "configuration")))
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise ConfigError(_format_errors(exc, source)) from None

    @model_validator(mode="after")
    def _check_criteria(self) -> ScoringConfig:
        problems: list[str] = []
        for name, crit in self.criteria.items():
            problems.extend(_criterion_problems(name, crit))
        if not problems:
            total = sum(c.weight for c in self.active_criteria().values())
            if not total > 0:
                problems.append(
                    "criteria: the weights of the enabled criteria sum to 0; "
                    "give at least one enabled criterion a positive weight"
                )
        if problems:
            raise ConfigError("\n".join(problems))
        return self

    # --- derived views --------------------------------------------------------------

    def active_criteria(self) -> dict[str, CriterionConfig]:
        """Criteria that take part in scoring: built-in ones in :data:`CRITERIA` order, then
        generic ones in the order of the configuration.

        A criterion is active when ``enabled`` is true, and for ``social_mix`` also when
        ``social_mix_policy`` is not ``off``. Weights of 0 stay active (reported, no points).
        """
        generic = [k for k in self.criteria if k not in CRITERIA]
        out = {}
        for name in (*CRITERIA, *generic):
            crit = self.criteria.get(name)
            if crit is None or not crit.enabled:
                continue
            if name == "social_mix" and self.social_mix_policy == "off":
                continue
            out[name] = crit
        return out

    @property
    def weights(self) -> dict[str, float]:
        """Weights of the active criteria."""
        return {k: c.weight for k, c in self.active_criteria().items()}

    @property
    def hash(self) -> str:
        """First 12 hex characters of the SHA-256 of the canonical JSON of this config."""
        canonical = json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (round-trips through :meth:`from_dict`).

        The generic keys ``kind``, ``layer`` and ``filter`` appear only where set.
        """
        data = self.model_dump(mode="json")
        for crit in data["criteria"].values():
            for key in _GENERIC_KEYS:
                if crit.get(key) is None:
                    crit.pop(key, None)
        return data

    def to_yaml(self) -> str:
        """YAML text of this configuration (without the comments of the source file)."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "configuration") -> ScoringConfig:
        """Validate a mapping, raising :class:`ConfigError` that names ``source``."""
        if not isinstance(data, Mapping):
            msg = f"{source}: expected a mapping at the top level, got {type(data).__name__}"
            raise ConfigError(msg)
        return cls(**dict(data), _source=source)

    def with_updates(self, **changes: Any) -> ScoringConfig:
        """Return a validated copy with top-level keys replaced (e.g. ``name=...``)."""
        data = self.to_dict()
        data.update(
            {
                k: (v.model_dump(mode="json") if isinstance(v, BaseModel) else v)
                for k, v in changes.items()
            }
        )
        return ScoringConfig.from_dict(data, source=f"{self.name} (updated)")

    def with_weights(self, weights: Mapping[str, float]) -> ScoringConfig:
        """Return a validated copy with some criterion weights replaced (a scenario).

        Raises
        ------
        ConfigError
            For a criterion not in this configuration or a negative weight.
        """
        data = self.to_dict()
        unknown = [k for k in weights if k not in data["criteria"]]
        if unknown:
            msg = (
                f"with_weights: unknown criteria {unknown}; "
                f"this configuration has: {', '.join(data['criteria'])}"
            )
            raise ConfigError(msg)
        for k, w in weights.items():
            data["criteria"][k]["weight"] = w
        return ScoringConfig.from_dict(data, source=f"{self.name} (weights changed)")


# --- criterion checks (each returns its problems; all are reported at once) -------------


def _categorical_problems(name: str, crit: CriterionConfig, *, categorical: bool) -> list[str]:
    key = f"criteria.{name}"
    if categorical and (crit.table is None or crit.breakpoints is not None):
        return [
            f"{key}: categorical criterion needs a 'table' (category → utility) "
            "and no 'breakpoints'"
        ]
    if not categorical and (crit.breakpoints is None or crit.table is not None):
        return [f"{key}: numeric criterion needs 'breakpoints' ([x, u] pairs) and no 'table'"]
    return []


def _table_problems(name: str, crit: CriterionConfig) -> list[str]:
    vocab = {"zoning": ("zone", ZONE_CATEGORIES), "ownership": ("owner", OWNER_CATEGORIES)}
    if name not in vocab or crit.table is None:
        return []
    what, allowed = vocab[name]
    bad = sorted(set(crit.table) - set(allowed))
    if not bad:
        return []
    return [
        f"criteria.{name}.table: unknown {what} categories {bad}; allowed: {', '.join(allowed)}"
    ]


def _param_problem(pkey: str, pval: Any, spec: Any) -> str | None:
    if isinstance(spec, tuple) and pval not in spec:
        return f"{pkey}: {pval!r} is not allowed; allowed: {', '.join(spec)}"
    if spec is float and (
        isinstance(pval, bool)
        or not isinstance(pval, int | float)
        or not math.isfinite(pval)
        or pval <= 0
    ):
        return f"{pkey}: {pval!r} must be a positive number"
    if spec is str and not (isinstance(pval, str) and pval.strip()):
        return f"{pkey}: {pval!r} must be a non-empty text"
    if spec is dict and not (
        isinstance(pval, dict)
        and all(
            isinstance(v, int | float) and 0 <= v <= 1 and not isinstance(v, bool)
            for v in pval.values()
        )
    ):
        return f"{pkey}: {pval!r} must map keys to factors in 0..1"
    return None


def _params_problems(key: str, params: Mapping[str, Any], allowed: Mapping[str, Any]) -> list[str]:
    problems = []
    for pname, pval in params.items():
        pkey = f"{key}.params.{pname}"
        if pname not in allowed:
            problems.append(
                f"{pkey}: unknown parameter; allowed here: {', '.join(allowed) or '(none)'}"
            )
            continue
        problem = _param_problem(pkey, pval, allowed[pname])
        if problem:
            problems.append(problem)
    return problems


def _filter_problems(key: str, filters: Mapping[str, Any] | None) -> list[str]:
    def scalar(v: Any) -> bool:
        return isinstance(v, str | int | float) and not isinstance(v, bool)

    problems = []
    for column, value in (filters or {}).items():
        ok = scalar(value) or (
            isinstance(value, list) and bool(value) and all(scalar(v) for v in value)
        )
        if not ok:
            problems.append(
                f"{key}.filter.{column}: {value!r} must be a value or a list of values "
                "(text or numbers) of that layer column"
            )
    return problems


def _generic_problems(name: str, crit: CriterionConfig) -> list[str]:
    key = f"criteria.{name}"
    if crit.kind is None:
        return [
            f"{key}: unknown criterion {name!r}; built-in criteria are {', '.join(CRITERIA)}; "
            f"any other name must declare 'kind:' one of {', '.join(GENERIC_KINDS)} "
            "with 'layer:' (see docs/design.md, criterion registry)"
        ]
    if crit.kind not in GENERIC_KINDS:
        return [f"{key}.kind: unknown kind {crit.kind!r}; allowed: {', '.join(GENERIC_KINDS)}"]
    problems = []
    if crit.kind == "attribute":
        if crit.layer is not None or crit.filter is not None:
            problems.append(f"{key}: kind attribute reads a plot column; give no 'layer'/'filter'")
        if (crit.table is None) == (crit.breakpoints is None):
            problems.append(f"{key}: kind attribute needs either a 'table' or 'breakpoints'")
    else:
        if not (crit.layer and crit.layer.strip()):
            problems.append(
                f"{key}: kind {crit.kind} needs 'layer:' naming a context layer "
                "(e.g. one added with --layer NAME=PATH)"
            )
        problems += _categorical_problems(name, crit, categorical=False)
    for pname in _REQUIRED_KIND_PARAMS.get(crit.kind, ()):
        if pname not in crit.params:
            problems.append(f"{key}.params.{pname}: required for kind {crit.kind}")
    problems += _params_problems(key, crit.params, GENERIC_KINDS[crit.kind])
    problems += _filter_problems(key, crit.filter)
    return problems


def _criterion_problems(name: str, crit: CriterionConfig) -> list[str]:
    """Every problem of one criterion entry (built-in or generic)."""
    key = f"criteria.{name}"
    if name not in CRITERIA:
        problems = _generic_problems(name, crit)
    elif crit.kind is not None or crit.layer is not None or crit.filter is not None:
        return [
            f"{key}: built-in criterion {name!r} takes no 'kind'/'layer'/'filter'; "
            "give a generic criterion another name"
        ]
    else:
        problems = _categorical_problems(name, crit, categorical=name in CATEGORICAL_CRITERIA)
        problems += _table_problems(name, crit)
    if crit.breakpoints_by_zone is not None and name != "noise_buffer":
        problems.append(f"{key}.breakpoints_by_zone: only allowed for noise_buffer, not {name!r}")
    if name in CRITERIA:
        allowed = CRITERION_PARAMS.get(name, {})
        problems += [
            p.replace("allowed here:", f"allowed for {name}:")
            for p in _params_problems(key, crit.params, allowed)
        ]
    return problems


# --- error formatting ------------------------------------------------------------------

_ALLOWED_KEYS = {
    "top": tuple(ScoringConfig.model_fields),
    "filters": tuple(FilterConfig.model_fields),
    "criterion": tuple(CriterionConfig.model_fields),
}


def _format_errors(exc: pydantic.ValidationError, source: str) -> str:
    return format_validation_errors(exc, source, _ALLOWED_KEYS)


# --- loading ---------------------------------------------------------------------------


def _default_text() -> str:
    return (resources.files("handwerkgeo") / "configs" / "default.yaml").read_text("utf-8")


def load_config(path: str | os.PathLike[str] | None = None) -> ScoringConfig:
    """Load and validate a scoring configuration from YAML.

    Parameters
    ----------
    path
        A YAML file, or ``None`` for the packaged default (``configs/default.yaml``).

    Returns
    -------
    ScoringConfig

    Raises
    ------
    ConfigError
        If the file is missing, is not valid YAML, or any value is invalid; the message
        lists every problem with its key path, the value and what is allowed.

    Examples
    --------
    >>> load_config().name
    'default'
    """
    if path is None:
        text, source = _default_text(), "default.yaml (packaged)"
    else:
        p = Path(path)
        if not p.is_file():
            msg = f"scoring configuration {p} not found; give an existing YAML file"
            raise ConfigError(msg)
        text, source = p.read_text("utf-8"), str(p)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        msg = f"{source}: not valid YAML: {exc}"
        raise ConfigError(msg) from None
    cfg = ScoringConfig.from_dict(data if data is not None else {}, source=source)
    logger.info("scoring config %s loaded from %s (hash %s)", cfg.name, source, cfg.hash)
    return cfg


def default_config() -> ScoringConfig:
    """The packaged default configuration (``configs/default.yaml``)."""
    return load_config(None)
