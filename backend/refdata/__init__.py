"""Reference data: the area tree, units, staff, the whistle list and the offline map.

Generate a synthetic city (``generate_city``) or bring a real one as plain files
(``write_city`` / ``load_city``). Nothing is loaded at import time.
"""

from backend.refdata.files import Problem, RefDataError, load_city, write_city
from backend.refdata.generator import CITY_KINDS, generate_city
from backend.refdata.model import Area, Category, CityData, Staff, Unit

__all__ = [
    "CITY_KINDS",
    "Area",
    "Category",
    "CityData",
    "Problem",
    "RefDataError",
    "Staff",
    "Unit",
    "generate_city",
    "load_city",
    "write_city",
]
