"""The source manifest: every public data layer, its files, checksums, licence and origin.

The manifest ``handwerkgeo/data/sources.yaml`` lists each layer the toolkit reads with its
publisher, licence, attribution, public location and the sha256 of each file;
:func:`load_manifest` reads and validates it into frozen :class:`Manifest` objects.
:mod:`handwerkgeo.fetch` fetches the files it lists.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path, PurePosixPath

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from handwerkgeo.crs_names import resolve_crs
from handwerkgeo.errors import ConfigError, DataSourceError, NoCrsError

__all__ = ["FileEntry", "Layer", "Manifest", "load_manifest"]


class FileEntry(BaseModel):
    """One file of a layer: where it goes, its checksum and (optionally) its own URL."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: str | None = None
    records: str | None = None

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        p = PurePosixPath(value)
        if p.is_absolute() or ".." in p.parts or not p.parts:
            msg = f"file path {value!r} must be relative and stay inside raw/"
            raise ConfigError(msg)  # a ValueError: pydantic reports it with the manifest
        return value


class Layer(BaseModel):
    """A data layer of the manifest (one or more files from one public source)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    publisher: str
    url: str | None
    landing_page: str
    licence: str
    licence_url: str | None = None
    attribution: str
    crs: str | None = None
    files: tuple[FileEntry, ...] = Field(min_length=1)

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, value: str | None) -> str | None:
        """The declared CRS in any spelling of :func:`handwerkgeo.crs_names.resolve_crs`."""
        if value is not None:
            try:
                resolve_crs(value)
            except NoCrsError as exc:
                msg = f"crs {value!r}: {exc}"
                raise ConfigError(msg) from exc  # a ValueError: reported with the manifest
        return value

    def download_url(self, entry: FileEntry) -> str | None:
        """The direct download URL of ``entry``, or ``None`` when only a landing page is known."""
        if entry.url is not None:
            return entry.url
        return self.url if len(self.files) == 1 else None


class Manifest(BaseModel):
    """The source manifest: layers by name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    layers: dict[str, Layer]

    def layer(self, name: str) -> Layer:
        """Return the layer ``name`` or raise :class:`DataSourceError` listing the known ones."""
        try:
            return self.layers[name]
        except KeyError:
            msg = (
                f"unknown data layer {name!r}; the source manifest knows: {', '.join(self.layers)}"
            )
            raise DataSourceError(msg) from None


def load_manifest(path: str | os.PathLike[str] | None = None) -> Manifest:
    """Load and validate the source manifest.

    Parameters
    ----------
    path
        A manifest YAML file; ``None`` reads the one shipped with the package
        (``handwerkgeo/data/sources.yaml``).

    Returns
    -------
    Manifest
        Frozen, validated manifest.

    Raises
    ------
    DataSourceError
        If the file cannot be read or does not follow the manifest schema.

    Examples
    --------
    >>> m = load_manifest()
    >>> m.layer("stadtteile").licence
    'dl-de/zero-2.0'
    """
    if path is None:
        text = resources.files("handwerkgeo").joinpath("data/sources.yaml").read_text("utf-8")
        where = "handwerkgeo/data/sources.yaml"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            msg = f"cannot read the source manifest {path}: {exc}"
            raise DataSourceError(msg) from exc
        where = str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        msg = f"source manifest {where} is not valid YAML: {exc}"
        raise DataSourceError(msg) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("layers"), dict):
        msg = f"source manifest {where} must be a mapping with a 'layers' mapping"
        raise DataSourceError(msg)
    layers = {
        name: {**(spec or {}), "name": name} if isinstance(spec, dict) else spec
        for name, spec in raw["layers"].items()
    }
    try:
        manifest = Manifest.model_validate({**raw, "layers": layers})
    except ValidationError as exc:
        msg = f"source manifest {where} is invalid:\n{exc}"
        raise DataSourceError(msg) from exc
    seen: dict[str, str] = {}
    for layer in manifest.layers.values():
        for entry in layer.files:
            if entry.path in seen:
                msg = (
                    f"source manifest {where}: file {entry.path} is listed by both "
                    f"{seen[entry.path]!r} and {layer.name!r}"
                )
                raise DataSourceError(msg)
            seen[entry.path] = layer.name
    return manifest
