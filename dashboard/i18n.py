"""The one translation table: every user-facing string, Chinese first, English beside it."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "app_title": ("网格化社会治理指挥中心", "Grid governance operations centre"),
    "received_today": ("今日受理", "Received today"),
    "open": ("在办", "Open"),
    "closed_today": ("今日办结", "Closed today"),
    "close_rate": ("办结率", "Close rate"),
    "on_time_rate": ("按时办结率", "On-time rate"),
    "satisfaction_rate": ("满意率", "Satisfaction"),
    "overdue": ("超期", "Overdue"),
    "awaiting_triage": ("待分拨", "Awaiting triage"),
    "tier_grid": ("网格", "Grid"),
    "tier_township": ("乡镇", "Township"),
    "tier_department": ("部门", "Department"),
    "tier_county": ("县级", "County"),
    "stuck_title": ("滞留最久的在办事项", "Open cases stuck longest"),
    "col_code": ("编号", "Case"),
    "col_category": ("类别", "Category"),
    "col_unit": ("承办单位", "Unit"),
    "col_tier": ("层级", "Tier"),
    "col_in_stage": ("本环节用时", "In stage"),
    "col_left": ("剩余/超期", "Left / overdue"),
    "col_colour": ("状态", "State"),
    "refresh": ("刷新", "Refresh"),
    "as_of": ("数据时间", "As of"),
    "language": ("English", "中文"),
    "calendar_fallback": (
        "{years} 年法定节假日数据缺失，工作日暂按周一至周五计算",
        "No statutory calendar for {years}: working days are Monday–Friday",
    ),
    "calendar_provisional": (
        "{years} 年工作日历为暂定版本，以国务院正式安排为准",
        "The {years} working-day calendar is provisional until the official arrangement",
    ),
    "colour_green": ("正常", "On time"),
    "colour_yellow": ("提醒", "Reminded"),
    "colour_orange": ("预警", "Warned"),
    "colour_red": ("超期", "Overdue"),
    "hours": ("{n} 小时", "{n} h"),
    "days": ("{n} 天", "{n} d"),
    "overdue_by": ("超期 {t}", "overdue {t}"),
    # the live wall (值班大屏)
    "wall_title": ("网格化社会治理指挥中心", "grid governance operations centre"),
    "live": ("实时", "Live"),
    "seconds_ago": ("秒前更新", "s since last change"),
    "reconnecting": ("正在重新连接…", "Reconnecting…"),
    "funnel_title": ("层级分布（在办 / 超期）", "Tiers (open / overdue)"),
    "intake_title": ("近24小时受理（按渠道）", "Intake, last 24 hours, by channel"),
    "map_title": ("网格在办与超期分布", "Open and overdue cases by area"),
    "stuck_units_title": ("积压最久的承办单位", "Units where cases wait longest"),
    "ticker_title": ("实时动态", "Just now"),
    "col_mean_wait": ("平均滞留", "Mean wait"),
    "overdue_now": ("当前超期（按层级）", "Overdue now, by tier"),
    "legend_none": ("无在办", "None open"),
    "legend_open": ("有在办", "Open"),
    "legend_busy": ("积压", "Busy"),
    "legend_overdue": ("有超期", "Overdue"),
    "event_new": ("新受理", "New"),
    "event_escalated": ("升级", "Escalated"),
    "event_overdue": ("超期", "Overdue"),
    "event_closed": ("办结", "Closed"),
    "channel_grid_worker": ("网格员巡查", "Grid patrol"),
    "channel_hotline": ("12345热线", "12345 hotline"),
    "channel_qr": ("扫码上报", "QR code"),
    "channel_wechat": ("微信群", "WeChat group"),
    "channel_walk_in": ("来访", "Walk-in"),
    "channel_app": ("APP", "App"),
    "channel_open311": ("Open311", "Open311"),
}

LANGS = ("zh", "en")


def t(key: str, lang: str = "zh", **kw: object) -> str:
    """Look up ``key`` in ``lang`` (zh default); unknown keys show themselves, visibly."""
    pair = TEXT.get(key)
    if pair is None:
        return f"[{key}]"
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**kw) if kw else text


def duration(seconds: float, lang: str = "zh") -> str:
    """A short human duration: hours below two days, days above."""
    s = abs(seconds)
    if s < 48 * 3600:
        return t("hours", lang, n=f"{s / 3600:.1f}")
    return t("days", lang, n=f"{s / 86400:.1f}")
