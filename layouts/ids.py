"""Component ids, as constants: one spelling per id across layouts and callbacks."""

LANG = "lang-store"
LANG_TOGGLE = "lang-toggle"
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
WALL_MAP_SINK = "wall-map-sink"
#: the areas of the map whose colour or tooltip changed, painted into the drawn map in place
WALL_MAP_PAINT = "wall-map-paint"
WALL_MAP_PAINT_SINK = "wall-map-paint-sink"
WALL_MAP_LIVE = "wall-map-live"
WALL_SOUND = "wall-sound"
WALL_FULLSCREEN = "wall-fullscreen"
WALL_AREA_ERROR = "wall-area-error"


def kpi_value(key: str) -> str:
    """The id of one KPI tile's number."""
    return f"wall-kpi-{key}"


def kpi_base(key: str) -> str:
    """The id of one KPI tile's base: the counts its rate is of."""
    return f"wall-base-{key}"


def funnel(tier: str, part: str) -> str:
    """The id of one part (bar, open, overdue) of a tier's funnel row."""
    return f"wall-funnel-{tier}-{part}"


# the router: one Dash app, a page per path
URL = "url"
PAGE = "page"

# the leader's screens (领导驾驶舱)
LEADER_LANG = "leader-lang"
LEADER_LANG_TOGGLE = "leader-lang-toggle"
REPLICA_LAG = "replica-lag"
REPLICA_TICK = "replica-lag-tick"
FILTERS = "leader-filters"
#: the path of the page the router drew last
SHOWN = "shown-path"
F_AREA = "f-area"
F_TIER = "f-tier"
F_UNIT = "f-unit"
F_CATEGORY = "f-category"
F_CHANNEL = "f-channel"
F_STATUS = "f-status"
F_COLOUR = "f-colour"
F_DATES = "f-dates"
F_RESET = "f-reset"
F_ERRORS = "f-errors"
KPIS = "leader-kpis"
AREA_TABLE = "leader-areas"
UNIT_TABLE = "leader-units"
STUCK_GRID = "stuck-grid"
STUCK_COUNT = "stuck-count"
GRID_SINK = "stuck-grid-sink"
CASE_ID = "case-id"
CASE_HEADER = "case-header"
CASE_BODY = "case-body"
CASE_SEQ = "case-seq"
ACT_TEXT = "act-instruct-text"
ACT_INSTRUCT = "act-instruct"
ACT_UNIT = "act-reassign-unit"
ACT_REASSIGN_REASON = "act-reassign-reason"
ACT_REASSIGN = "act-reassign"
ACT_ESCALATE_REASON = "act-escalate-reason"
ACT_ESCALATE = "act-escalate"
ACT_LEAD = "act-consult-lead"
ACT_CO = "act-consult-co"
ACT_CONSULT_REASON = "act-consult-reason"
ACT_CONSULT = "act-consult"
ACT_RESULT = "act-result"
CHART_TIER = "chart-dwell-tier"
CHART_UNIT = "chart-dwell-unit"
CHART_SANKEY = "chart-sankey"
CHART_TREND = "chart-trend"
SIDEWAYS = "sideways-note"
ANALYSIS_WINDOW = "analysis-window"
RISK_BANDS = "risk-bands"
PERIOD_KIND = "period-kind"
PERIOD_DAY = "period-day"
ASSESS_TABLE = "assess-table"
ASSESS_TITLE = "assess-title"
ASSESS_CHART = "assess-chart"
#: the service halls' attendance in the assessment and in the periodic report
ASSESS_HALLS = "assess-halls"
REPORT_HALLS = "report-halls"
REPORT_TITLE = "report-title"
REPORT_BODY = "report-body"
REPORT_CSV = "report-csv"
REPORT_XLSX = "report-xlsx"
REPORT_PRINT = "report-print"
DOWNLOAD = "report-download"
PRINT_SINK = "print-sink"


def area_row(code: str) -> dict[str, str]:
    """A clickable row of the by-area table (pattern-matching id)."""
    return {"type": "area-row", "code": code}


def unit_row(code: str) -> dict[str, str]:
    return {"type": "unit-row", "code": code}


# the service-hall wall (便民服务中心监督), issue 12
HALLS = "halls"
HALLS_CLOCK = "halls-clock"
HALLS_LIVE = "halls-live"
HALLS_LANG_TOGGLE = "halls-lang-toggle"
HALLS_GRID = "halls-grid"
HALLS_ALERTS = "halls-alerts"
HALLS_SUMMARY = "halls-summary"
HALLS_ACK_WHO = "halls-ack-who"
HALLS_ACK_NOTE = "halls-ack-note"
HALLS_ACK_RESULT = "halls-ack-result"
HALLS_SEQ = "halls-seq"
#: the window cells and hall figures that changed, written in place by assets/halls.js
HALLS_CELLS = "halls-cells"
HALLS_CELLS_SINK = "halls-cells-sink"
#: pattern-matching ids of the acknowledge and resolve buttons: {"type": …, "alert": id}
HALL_ACK = "hall-ack"
HALL_RESOLVE = "hall-resolve"
