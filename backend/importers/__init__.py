"""Importers of historical cases from real civic-data exports (``gridwatch import``)."""

from __future__ import annotations

from backend.importers.common import Importer
from backend.importers.la311 import LA311
from backend.importers.nyc311 import NYC311
from backend.importers.open311json import Open311Json

FORMATS: dict[str, type[Importer]] = {"la311": LA311, "nyc311": NYC311, "open311": Open311Json}
