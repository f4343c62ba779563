"""The scoring configuration: criteria, weights, utility functions, zoning table, hard filters.

A configuration is a YAML file loaded into a frozen, validated pydantic model,
:class:`ScoringConfig`. The packaged default, ``handwerkgeo/configs/default.yaml``, explains
every number it holds. A bad file raises :class:`~handwerkgeo.errors.ConfigError` naming
*every* problem at once with its key path (``criteria.transit.breakpoints[1]``), the bad
value and what is allowed.

Each criterion has either ``breakpoints`` (numeric criteria: a piecewise linear utility
through ``[x, u]`` points, clamped outside) or a ``table`` (categorical criteria:
category → utility). Criterion names are fixed (:data:`CRITERIA`); zone categories come from
the vocabulary in ``docs/design.md`` (:data:`ZONE_CATEGORIES`).

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

from handwerkgeo.errors import ConfigError

__all__ = [
    "CATEGORICAL_CRITERIA",
    "CRITERIA",
    "CRITERION_PARAMS",
    "ZONE_CATEGORIES",
    "CriterionConfig",
    "FilterConfig",
    "ScoringConfig",
    "default_config",
    "load_config",
]

logger = logging.getLogger(__name__)

#: The criteria a configuration may name, in the order they are reported.
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

Breakpoints = tuple[tuple[float, float], ...]


def _check_breakpoints(value: Breakpoints | None) -> Breakpoints | None:
    if value is None:
        return None
    if len(value) < 2:
        msg = f"need at least two [x, u] points, got {len(value)}: {list(value)}"
        raise ValueError(msg)
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
        raise ValueError("\n".join(problems))
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CriterionConfig(_Frozen):
    """One criterion: weight, utility function, labels and data source."""

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
            raise ValueError(msg)
        problems: list[str] = []
        for zone, bp in value.items():
            try:
                _check_breakpoints(bp)
            except ValueError as exc:
                problems.extend(f"{zone}{line}" for line in str(exc).split("\n"))
        if problems:
            raise ValueError("\n".join(f".{p}" if p[0].isalpha() else p for p in problems))
        return value

    @field_validator("table")
    @classmethod
    def _check_table(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        bad = {k: v for k, v in value.items() if not (math.isfinite(v) and 0.0 <= v <= 1.0)}
        if bad:
            msg = f"utilities must lie in 0..1, got {bad}"
            raise ValueError(msg)
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

    @field_validator("excluded_zones")
    @classmethod
    def _check_zones(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [z for z in value if z not in ZONE_CATEGORIES]
        if bad:
            msg = f"unknown zone categories {bad}; allowed: {', '.join(ZONE_CATEGORIES)}"
            raise ValueError(msg)
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
            key = f"criteria.{name}"
            if name not in CRITERIA:
                problems.append(
                    f"{key}: unknown criterion {name!r}; allowed criteria: {', '.join(CRITERIA)}"
                )
                continue
            if name in CATEGORICAL_CRITERIA:
                if crit.table is None or crit.breakpoints is not None:
                    problems.append(
                        f"{key}: categorical criterion needs a 'table' (category → utility) "
                        "and no 'breakpoints'"
                    )
            elif crit.breakpoints is None or crit.table is not None:
                problems.append(
                    f"{key}: numeric criterion needs 'breakpoints' ([x, u] pairs) and no 'table'"
                )
            if name == "zoning" and crit.table is not None:
                bad = sorted(set(crit.table) - set(ZONE_CATEGORIES))
                if bad:
                    problems.append(
                        f"{key}.table: unknown zone categories {bad}; "
                        f"allowed: {', '.join(ZONE_CATEGORIES)}"
                    )
            if name == "ownership" and crit.table is not None:
                bad = sorted(set(crit.table) - set(OWNER_CATEGORIES))
                if bad:
                    problems.append(
                        f"{key}.table: unknown owner categories {bad}; "
                        f"allowed: {', '.join(OWNER_CATEGORIES)}"
                    )
            if crit.breakpoints_by_zone is not None and name != "noise_buffer":
                problems.append(
                    f"{key}.breakpoints_by_zone: only allowed for noise_buffer, not {name!r}"
                )
            allowed = CRITERION_PARAMS.get(name, {})
            for pname, pval in crit.params.items():
                pkey = f"{key}.params.{pname}"
                if pname not in allowed:
                    problems.append(
                        f"{pkey}: unknown parameter; allowed for {name}: "
                        f"{', '.join(allowed) or '(none)'}"
                    )
                    continue
                spec = allowed[pname]
                if isinstance(spec, tuple) and pval not in spec:
                    problems.append(f"{pkey}: {pval!r} is not allowed; allowed: {', '.join(spec)}")
                elif spec is float and (
                    isinstance(pval, bool)
                    or not isinstance(pval, int | float)
                    or not math.isfinite(pval)
                    or pval <= 0
                ):
                    problems.append(f"{pkey}: {pval!r} must be a positive number")
                elif spec is dict and not (
                    isinstance(pval, dict)
                    and all(
                        isinstance(v, int | float) and 0 <= v <= 1 and not isinstance(v, bool)
                        for v in pval.values()
                    )
                ):
                    problems.append(f"{pkey}: {pval!r} must map keys to factors in 0..1")
        if not problems:
            total = sum(c.weight for c in self.active_criteria().values())
            if not total > 0:
                problems.append(
                    "criteria: the weights of the enabled criteria sum to 0; "
                    "give at least one enabled criterion a positive weight"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # --- derived views --------------------------------------------------------------

    def active_criteria(self) -> dict[str, CriterionConfig]:
        """Criteria that take part in scoring, in :data:`CRITERIA` order.

        A criterion is active when ``enabled`` is true, and for ``social_mix`` also when
        ``social_mix_policy`` is not ``off``. Weights of 0 stay active (reported, no points).
        """
        out = {}
        for name in CRITERIA:
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
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (round-trips through :meth:`from_dict`)."""
        return self.model_dump(mode="json")

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


# --- error formatting ------------------------------------------------------------------

_ALLOWED_KEYS = {
    "top": tuple(ScoringConfig.model_fields),
    "filters": tuple(FilterConfig.model_fields),
    "criterion": tuple(CriterionConfig.model_fields),
}


def _loc_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _format_errors(exc: pydantic.ValidationError, source: str) -> str:
    lines: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = _loc_path(loc)
        kind = err["type"]
        msg = str(err["msg"]).removeprefix("Value error, ")
        if kind == "extra_forbidden":
            if len(loc) == 1:
                allowed = _ALLOWED_KEYS["top"]
            elif loc[0] == "filters":
                allowed = _ALLOWED_KEYS["filters"]
            else:
                allowed = _ALLOWED_KEYS["criterion"]
            lines.append(f"{path}: unknown key (a typo?); allowed keys here: {', '.join(allowed)}")
            continue
        if kind == "missing":
            lines.append(f"{path}: required key is missing")
            continue
        if kind == "value_error":
            # our own messages already show the bad value; one line per problem
            for line in msg.split("\n"):
                if not loc:
                    lines.append(line)
                elif line.startswith(("[", ".")):
                    lines.append(f"{path}{line}")
                else:
                    lines.append(f"{path}: {line}")
            continue
        shown = repr(err.get("input"))
        if len(shown) > 100:
            shown = shown[:97] + "..."
        lines.append(f"{path}: {msg} (got {shown})")
    body = "\n".join(f"  - {line}" for line in lines)
    return f"{source}: {len(lines)} problem(s) in the scoring configuration:\n{body}"


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
