# handwerkgeo — two commands do all set-up on a fresh machine:
#   make demo   score the example plots and the whole city on the Düsseldorf data
#   make test   run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HWG := $(VENV)/bin/handwerkgeo
# Where the Düsseldorf data mirror is; without it `data fetch` downloads from the public sources.
HANDWERKGEO_DATA_MIRROR ?= $(if $(wildcard ../shared/data/duesseldorf),$(abspath ../shared/data/duesseldorf),)
export HANDWERKGEO_DATA_MIRROR

.PHONY: demo test lint sysdeps data bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,maps,osm,notebooks,scale,postgis]"
	touch $@

# System packages the tests use: Debian chromium (map tests; never a downloaded browser),
# gdal-bin (ogrinfo on the site register), poppler-utils (pdftotext on the site-profile
# PDFs), PostgreSQL 15 + PostGIS (the register's PostGIS backend; the tests start a
# throwaway cluster themselves) and libreoffice-calc-nogui (soffice: the score workbook
# printed to PDF, page count). Installed only when missing.
# python3-qgis + qgis-providers: Debian's QGIS 3.22 loads the styled GeoPackages
# (tests/test_gpkg_styles.py; about 90 s and ~230 packages to install).
sysdeps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v ogrinfo >/dev/null 2>&1 || missing="$$missing gdal-bin"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || missing="$$missing python3-qgis qgis-providers"; \
	test -x /usr/lib/postgresql/15/bin/initdb || missing="$$missing postgresql-15"; \
	test -f /usr/share/postgresql/15/extension/postgis.control || missing="$$missing postgis postgresql-15-postgis-3"; \
	command -v soffice >/dev/null 2>&1 || missing="$$missing libreoffice-calc-nogui"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else \
	    echo "please install:$$missing (tests needing them are skipped)"; exit 0; fi; \
	  echo "installing system packages:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

data: $(VENV)/.installed
	$(HWG) data fetch

demo: $(VENV)/.installed data
	$(HWG) demo --out outputs

test: $(VENV)/.installed sysdeps
	$(VENV)/bin/ruff check src tests benchmarks notebooks
	$(VENV)/bin/ruff format --check src tests benchmarks notebooks
	$(VENV)/bin/mypy src
	$(PY) -m pytest

bench: $(VENV)/.installed data
	$(PY) benchmarks/bench_scoring.py

clean:
	rm -rf $(VENV) outputs .pytest_cache .ruff_cache .hypothesis
