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
    # --- intake: the QR page (码上办) and the citizen's tracking page (issue 5) ---
    "qr_title": ("码上办", "Report by QR code"),
    "qr_switch": ("English", "中文"),
    "qr_footer": ("网格化社会治理 · 码上办", "Grid governance · report by QR code"),
    "qr_fix_errors": ("请按提示修改后重新提交", "Please correct the marked fields"),
    "qr_your_grid": ("所在网格", "Your grid"),
    "qr_category": ("问题类型", "Type of problem"),
    "qr_category_unsure": ("不清楚，请帮我判断", "Not sure: let the centre decide"),
    "qr_description": ("问题描述", "What is the problem?"),
    "qr_description_hint": (
        "请写明具体位置和情况，例如：5栋楼下垃圾桶满了两天没人清运",
        "Say where exactly and what is wrong, e.g. the bins by block 5 have been full for two days",
    ),
    "qr_photo": ("现场照片", "Photos"),
    "qr_optional": ("选填", "optional"),
    "qr_photo_hint": (
        "最多3张，每张不超过5MB（JPEG、PNG、WebP、HEIC）",
        "Up to 3, 5 MB each (JPEG, PNG, WebP, HEIC)",
    ),
    "qr_name": ("您的称呼", "Your name"),
    "qr_phone": ("联系电话", "Phone"),
    "qr_submit": ("提交", "Send"),
    "qr_deadline_hint": (
        "受理后原则上5个工作日内办结，可凭进度链接查看办理情况并评价。",
        "Matters are due within 5 working days; follow the case and rate it from your link.",
    ),
    "qr_sent": ("已提交，感谢您的反映", "Sent: thank you"),
    "qr_keep_link": (
        "请保存本页链接，随时查看办理进度并评价：",
        "Keep this page's link to follow the case and rate the result:",
    ),
    "qr_progress": ("办理进度", "Progress"),
    "qr_case_no": ("事项编号", "Case number"),
    "qr_status": ("当前状态", "Status"),
    "qr_place": ("地点", "Place"),
    "qr_unit": ("承办单位", "Handled by"),
    "qr_deadline": ("办理时限", "Due by"),
    "qr_reports": ("反映人数", "Reports"),
    "qr_reports_n": ("共{n}人反映此问题", "{n} people reported this"),
    "qr_your_rating": ("您的评价", "Your rating"),
    "qr_rate_title": ("请对办理结果进行评价", "How was it handled?"),
    "rating_satisfied": ("满意", "Satisfied"),
    "rating_basic": ("基本满意", "Fair"),
    "rating_unsatisfied": ("不满意", "Unsatisfied"),
    "qr_comment": ("意见建议", "Comment"),
    "qr_rate_submit": ("提交评价", "Send rating"),
    "qr_timeline": ("办理记录", "Timeline"),
    "qr_your_report": ("您反映的问题", "Your report"),
    "qr_not_found_title": ("页面不存在", "Not found"),
    "qr_grid_not_found": (
        "二维码对应的网格不存在，请核对后重试。",
        "This QR code names no grid of the city.",
    ),
    "qr_track_not_found": (
        "没有找到这条反映，请核对链接是否完整。",
        "No report behind this link; check that it is complete.",
    ),
    "qr_too_many": ("提交过于频繁，请稍后再试。", "Too many submissions; please try again later."),
    "qr_triage_note": (
        "您的反映正在由指挥中心人工分拨，请稍后刷新查看。",
        "The centre is sorting your report by hand; check back soon.",
    ),
    "qr_awaiting_note": (
        "正在确定所在网格，确定后立即派遣。",
        "The centre is finding the grid; it is sent on as soon as that is settled.",
    ),
    "qr_rejected_note": ("经核实不予受理：{reason}", "Not taken up: {reason}"),
    "qr_rate_refused": ("该事项当前不能评价。", "This case cannot be rated now."),
    "qr_error_description": (
        "请填写问题描述（不超过1000字）",
        "Describe the problem (at most 1000 characters)",
    ),
    "qr_error_phone": ("请填写正确的电话号码", "Enter a valid phone number"),
    "qr_error_photo": (
        "照片须为JPEG、PNG、WebP或HEIC格式，最多3张，每张不超过5MB",
        "Photos must be JPEG, PNG, WebP or HEIC; at most 3, 5 MB each",
    ),
    "qr_error_category": ("请选择问题类型", "Choose a type of problem"),
    "qs_received": ("已受理，等待分拨", "Received, being routed"),
    "qs_triage": ("正在分拨", "Being sorted by the centre"),
    "qs_deciding": ("正在分拨", "Being sorted by the centre"),
    "qs_dispatched": ("已派遣", "Sent to the responsible unit"),
    "qs_accepted": ("已签收", "Signed for"),
    "qs_in_progress": ("办理中", "Being handled"),
    "qs_paused": ("等待补充", "Waiting for more information"),
    "qs_resolved": ("已办结，请评价", "Resolved: please rate"),
    "qs_rated": ("已评价", "Rated"),
    "qs_closed": ("已办结", "Closed"),
    "qs_cancelled": ("已撤销", "Withdrawn"),
    "qs_rejected": ("不予受理", "Not taken up"),
    "ev_reported": ("已受理您的反映", "Your report was received"),
    "ev_dispatched": ("已派遣至{unit}", "Sent to {unit}"),
    "ev_accepted": ("{unit}已签收", "{unit} signed for it"),
    "ev_started": ("开始办理", "Work started"),
    "ev_paused": ("暂停办理，等待补充材料", "Paused, waiting for more information"),
    "ev_resumed": ("继续办理", "Work resumed"),
    "ev_resolved": ("已办结", "Resolved"),
    "ev_rated": ("评价：{rating}", "Rated: {rating}"),
    "ev_revisited": ("回访：{rating}", "Follow-up call: {rating}"),
    "ev_reopened": ("重新办理", "Reopened"),
    "ev_closed": ("已归档", "Filed"),
    "ev_cancelled": ("已撤销", "Withdrawn"),
    "ev_escalated": ("提级至{unit}办理", "Escalated to {unit}"),
    "ev_consultation": ("多部门会商办理", "Several departments are handling it together"),
    "ev_reassigned": ("转至{unit}办理", "Passed to {unit}"),
    "ev_duplicate_attached": ("又有群众反映此问题", "Someone else reported it too"),
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
