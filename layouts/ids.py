"""Component ids, as constants: one spelling per id across layouts and callbacks."""

LANG = "lang-store"
LANG_TOGGLE = "lang-toggle"
TITLE = "page-title"
KPI_ROW = "kpi-row"
STUCK_TABLE = "stuck-table"
STUCK_TITLE = "stuck-title"
REFRESH = "refresh-button"
AS_OF = "as-of"
NOTICE = "calendar-notice"

# the live wall (值班大屏)
WALL = "wall"
WALL_CITY = "wall-city"
WALL_CLOCK = "wall-clock"
WALL_LIVE = "wall-live"
WALL_PULSE = "wall-pulse"
WALL_MAP = "wall-map"
WALL_STUCK = "wall-stuck"
WALL_TICKER = "wall-ticker"
WALL_INTAKE = "wall-intake"
WALL_SINK = "wall-sink"


def kpi_value(key: str) -> str:
    """The id of one KPI tile's number."""
    return f"wall-kpi-{key}"


def funnel(tier: str, part: str) -> str:
    """The id of one part (bar, open, overdue) of a tier's funnel row."""
    return f"wall-funnel-{tier}-{part}"
