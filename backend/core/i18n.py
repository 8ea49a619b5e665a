"""The one translation table: every user-facing string, Chinese first, English beside it."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.core.i18n_halls import HALL_TEXT

TEXT: dict[str, tuple[str, str]] = {
    "app_title": ("网格化社会治理指挥中心", "Grid governance operations centre"),
    "received_today": ("今日受理", "Received today"),
    "open": ("在办", "Open"),
    "closed_today": ("今日办结", "Closed today"),
    "close_rate": ("办结率", "Close rate"),
    "on_time_rate": ("按时办结率", "On-time rate"),
    "satisfaction_rate": ("满意率", "Satisfaction"),
    "overdue": ("超期", "Overdue"),
    "tier_grid": ("网格", "Grid"),
    "tier_township": ("乡镇", "Township"),
    "tier_department": ("部门", "Department"),
    "tier_county": ("县级", "County"),
    "col_code": ("编号", "Case"),
    "col_category": ("类别", "Category"),
    "col_unit": ("承办单位", "Unit"),
    "col_tier": ("层级", "Tier"),
    "col_in_stage": ("本环节用时", "In stage"),
    "col_left": ("剩余/超期", "Left / overdue"),
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
    "funnel_title": ("层级分布（在办 / 超期件）", "Tiers (open / overdue cases)"),
    "intake_title": ("近24小时受理（按渠道）", "Intake, last 24 hours, by channel"),
    "map_title": ("网格在办与超期件分布", "Open and overdue cases by area"),
    "stuck_units_title": ("积压最久的承办单位", "Units where cases wait longest"),
    "ticker_title": ("实时动态", "Just now"),
    "col_mean_wait": ("平均滞留", "Mean wait"),
    "legend_none": ("无在办", "None open"),
    "legend_open": ("有在办", "Open"),
    "legend_busy": ("积压", "Busy"),
    # the wall's figures, their bases and what each counts (issue 10: one block, kept together)
    "legend_overdue_cases": ("有超期件", "Has overdue cases"),
    "overdue_cases_open": ("在办超期件", "Open overdue"),
    "overdue_cases_short": ("超期件", "Overdue"),
    "went_overdue_by_tier": ("按超期层级", "by tier overdue at"),
    "of_which_past_due_now": ("其中已过当前时限", "past their deadline now:"),
    "base_cases": ("件", "cases"),
    "base_ratings": ("条评价", "ratings"),
    "base_reported_today": ("含当日受理", "of today's"),
    "base_awaiting_triage": ("其中待分派", "untriaged"),
    "base_since_midnight": ("自今日 0 时", "since 00:00"),
    "def_received_today": (
        "今日 0 时起受理的工单，重复反映合并为一件。",
        "Cases reported since 00:00 today; repeat reports of one matter count once.",
    ),
    "def_open": (
        "尚未办结的全部工单，不论何日受理。",
        "Every case still being handled, whatever day it was reported.",
    ),
    "def_closed_today": (
        "今日办结的全部工单，含往日受理的；办结率只计今日受理的工单，所以二者可以不同。",
        "Cases completed today, including those reported earlier; the close rate counts "
        "today's reports only, so the two can differ.",
    ),
    "def_close_rate": (
        "今日受理工单中已办结的 ÷ 今日受理工单（不含撤销）。下方为件数。",
        "Of the cases reported today (less cancelled), the share completed; the counts below.",
    ),
    "def_on_time_rate": (
        "今日受理且已办结的工单中，在时限内办结且从未超期的 ÷ 已办结。下方为件数。",
        "Of today's reports completed, the share completed by the deadline and never "
        "overdue at any tier; the counts below.",
    ),
    "def_satisfaction_rate": (
        "今日受理工单收到的评价中“满意”的 ÷ 全部评价。评价少时比率波动大，请看下方条数。",
        "Of the ratings given to today's reports, the share satisfied; with few ratings the "
        "rate jumps, so mind the count below.",
    ),
    "def_overdue_cases": (
        "超期件：尚未办结、曾在某一层级超期（自动升级后仍计）或已过当前时限的工单。"
        "按超期发生的层级计数，在两个层级超期的计入两处。",
        "Open cases that went overdue at a tier (still counted after auto-escalation) or are "
        "past their present deadline, by the tier where they went overdue; a case overdue at "
        "two tiers counts at both.",
    ),
    "def_funnel": (
        "在办：当前所在层级的在办工单；超期件：其中曾超期或已过当前时限的。",
        "Open: cases now at the tier; overdue cases: those of them that went overdue at any "
        "tier or are past their present deadline.",
    ),
    "def_map": (
        "蓝色深浅按在办量（相对全市中位数）；红色：有在办超期件。点击网格打开该区域。",
        "Blue by open load (against the city's median); red: open overdue cases. Click an "
        "area to open it.",
    ),
    "def_stuck": (
        "按在办工单在本环节累计滞留时间排序；超期件同上。点击单位打开其工单。",
        "Ranked by the time open cases have waited in their present stage, summed; overdue "
        "cases as above. Click a unit to open its cases.",
    ),
    "def_ticker": (
        "最新的受理、升级、超期与办结，最新在上；紧急、重大受理与超期闪烁。点击打开工单。",
        "The latest reports, escalations, overdue cases and completions, newest first; urgent "
        "and major reports and overdue cases flash. Click to open the case.",
    ),
    "map_tip": (
        "{name}（{code}）在办 {open} 件，超期件 {overdue} 件",
        "{name} ({code}): {open} open, {overdue} overdue",
    ),
    "calendar_badge_provisional": ("{years} 日历暂定", "{years} calendar provisional"),
    "calendar_badge_fallback": ("{years} 无法定日历", "No {years} calendar"),
    "sound_on": ("提示音：开", "Sound: on"),
    "sound_off": ("提示音：关", "Sound: off"),
    "fullscreen": ("全屏", "Full screen"),
    "wall_area_unknown": (
        "没有代码为“{area}”的区域。请使用区县或乡镇（街道）代码，例如 /?area={example}。",
        'No area has the code "{area}". Use a county or township code, e.g. /?area={example}.',
    ),
    "wall_area_level": (
        "“{area}”是{level}，区域大屏按区县或乡镇（街道）显示，例如 /?area={example}。",
        '"{area}" is a {level}; an area wall shows a county or a township, e.g. /?area={example}.',
    ),
    "wall_back_to_city": ("返回全市大屏", "Back to the city wall"),
    "wall_level_community": ("社区（村）", "community"),
    "wall_level_grid": ("网格", "grid"),
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
    "rating_basic": ("基本满意", "Fairly satisfied"),
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
    "qr_copy_link": ("复制链接", "Copy the link"),
    "qr_copied": ("已复制", "Copied"),
    "qr_result": ("办理结果", "What was done"),
    "qr_result_at": ("办结时间", "Resolved at"),
    # signing in (/login) and the gate
    "login_title": ("工作人员登录", "Staff sign-in"),
    "login_username": ("用户名", "User name"),
    "login_password": ("密码", "Password"),
    "login_submit": ("登录", "Sign in"),
    "login_hint": ("忘记密码请联系系统管理员", "Forgot the password? Ask the administrator"),
    "login_bad": ("用户名或密码错误", "Wrong user name or password"),
    "login_missing": ("请填写用户名和密码", "Enter the user name and the password"),
    "login_locked": (
        "连续输错密码次数过多，账号已暂时锁定，请15分钟后再试或联系管理员",
        "Too many wrong passwords: the account is locked for 15 minutes (or ask the administrator)",
    ),
    "login_inactive": (
        "该账号已停用，请联系系统管理员",
        "This account is disabled: ask the administrator",
    ),
    "login_too_many": ("登录尝试过于频繁，请稍后再试", "Too many attempts: try again later"),
    "login_signed_out": ("您已安全退出", "You are signed out"),
    "sso_button": ("统一身份认证登录", "Sign in with the unified identity service"),
    "sso_off": ("未配置统一身份认证", "Single sign-on is not set up here"),
    "sso_unreachable": (
        "暂时无法连接统一身份认证平台，请稍后再试或使用账号密码登录",
        "The identity service cannot be reached: try later, or sign in with a password",
    ),
    "sso_state": (
        "登录已过期或来源不明，请重新登录",
        "The sign-in expired or did not start here: please sign in again",
    ),
    "sso_token": (
        "统一身份认证的凭证无效，请重新登录",
        "The identity service's token was not valid",
    ),
    "sso_denied": ("统一身份认证未通过", "The identity service did not sign you in"),
    "sso_unlinked": (
        "您的统一身份认证账号尚未开通本系统权限，请联系系统管理员",
        "Your identity is not linked to an account here: ask the administrator",
    ),
    "acct_sso_subject": (
        "统一身份认证标识无效或已被其他账号使用",
        "the single sign-on subject is empty, too long or linked to another account",
    ),
    "wall_area_outside": (
        "区域 {area} 不在您的管辖范围内，大屏只显示您所辖区域。",
        "Area {area} is outside your own: the wall shows only the area you are responsible for.",
    ),
    "wall_area_too_small": (
        "大屏按县（区）或乡镇（街道）显示，您的账号所辖区域更小，请在工作台查看。",
        "The wall shows a county or a township; your area is smaller: use the workbench.",
    ),
    "gate_forbidden_title": ("没有权限", "Not allowed"),
    "gate_forbidden": (
        "您的账号没有查看此页面的权限。",
        "Your account may not open this page.",
    ),
    "gate_switch_user": ("换一个账号登录", "Sign in as someone else"),
    # accounts: refusals (the admin page in the person's language; the CLI in English)
    "acct_username_form": (
        "用户名为2至64位字母、数字或 . _ @ -",
        "2 to 64 letters, digits or . _ @ -",
    ),
    "acct_username_taken": ("用户名 {name} 已存在", "{name!r} exists already"),
    "acct_role": ("角色须为：{roles}", "one of {roles}"),
    "acct_password_short": ("密码至少{n}位", "at least {n} characters"),
    "acct_password_long": ("密码至多200位", "at most 200 characters"),
    "acct_area": ("没有区域 {code}", "no area {code!r}"),
    "acct_units_unknown": ("没有单位 {codes}", "unknown unit {codes}"),
    "acct_units_needed": ("承办人至少要有一个单位", "a handler needs at least one unit"),
    "acct_display_name": ("显示名至多64个字", "at most 64 characters"),
    "acct_no_user": ("没有用户 {name}", "no user {name!r}"),
    "logout": ("退出", "Sign out"),
    "role_duty_officer": ("值班员", "Duty officer"),
    "role_leader": ("领导", "Leader"),
    "role_handler": ("承办人", "Handler"),
    "role_hall_supervisor": ("效能督查", "Hall supervisor"),
    "role_admin": ("系统管理员", "Administrator"),
    "admin_people": ("人员与角色", "People and roles"),
    "admin_audit": ("审计日志", "Audit log"),
    "admin_to_wall": ("值班大屏", "The wall"),
    "admin_fix": ("请按提示修改后重新提交", "Please correct the marked fields"),
    "admin_display_name": ("姓名", "Name"),
    "admin_role": ("角色", "Role"),
    "admin_area": ("区域", "Area"),
    "admin_area_code": ("区域编码", "Area code"),
    "admin_area_hint": ("留空为全市", "empty: the whole city"),
    "admin_units": ("单位", "Units"),
    "admin_units_codes": ("单位编码（承办人，逗号分隔）", "Unit codes (handlers, comma-separated)"),
    "admin_state": ("状态", "State"),
    "admin_city": ("全市", "City"),
    "admin_active": ("启用", "Active"),
    "admin_disabled": ("已停用", "Disabled"),
    "admin_reset": ("重置密码", "Reset password"),
    "admin_disable": ("停用", "Disable"),
    "admin_enable": ("启用", "Enable"),
    "admin_new": ("新建账号", "New account"),
    "admin_create": ("创建", "Create"),
    "admin_password_once": (
        "初始密码只显示一次，请当面或电话告知本人。",
        "The first password is shown once: give it to the person directly.",
    ),
    "admin_created": (
        "已创建 {name}，初始密码：{password}",
        "{name} created; first password: {password}",
    ),
    "admin_was_reset": (
        "{name} 的密码已重置为：{password}（其登录已全部退出）",
        "{name}'s password is now {password} (their sessions ended)",
    ),
    "admin_was_disabled": ("{name} 已停用，其登录已全部退出", "{name} disabled; sessions ended"),
    "admin_was_enabled": ("{name} 已启用", "{name} enabled"),
    "admin_not_self": ("不能停用自己的账号", "You cannot disable your own account"),
    "audit_actor": ("操作人", "Actor"),
    "audit_action": ("操作", "Action"),
    "audit_all": ("全部", "All"),
    "audit_filter": ("筛选", "Filter"),
    "audit_latest": ("最近 {n} 条", "Latest {n}"),
    "audit_at": ("时间", "Time"),
    "audit_target": ("对象", "Target"),
    "audit_ip": ("地址", "Address"),
    "audit_detail": ("详情", "Detail"),
    "audit_login": ("登录", "Signed in"),
    "audit_login_refused": ("登录被拒", "Sign-in refused"),
    "audit_logout": ("退出", "Signed out"),
    "audit_user_created": ("创建账号", "Account made"),
    "audit_password_reset": ("重置密码", "Password reset"),
    "audit_user_disabled": ("停用账号", "Account disabled"),
    "audit_user_enabled": ("启用账号", "Account enabled"),
    "audit_export": ("导出报表", "Report downloaded"),
    "audit_key_created": ("创建密钥", "API key made"),
    "audit_key_revoked": ("吊销密钥", "API key revoked"),
    "act_not_allowed": (
        "您的账号只能查看，不能对事项进行操作。",
        "Your account may look but not act on cases.",
    ),
    # finding a case again (/t)
    "find_link": ("已反映过？凭编号查询进度", "Reported before? Find your case"),
    "find_title": ("查询办理进度", "Find your case"),
    "find_hint": (
        "请输入事项编号和反映时所留电话的后四位。",
        "Enter the case number and the last four digits of the phone you left.",
    ),
    "find_phone4": ("电话后四位", "Last four digits of your phone"),
    "find_submit": ("查询", "Find"),
    "find_error_code": (
        "请填写正确的事项编号，如 GW2026112300000042",
        "Enter a case number such as GW2026112300000042",
    ),
    "find_error_phone4": ("请填写电话号码的后四位数字", "Enter the last four digits of the phone"),
    "find_not_found": (
        "未找到：请核对事项编号和电话后四位（反映时未留电话的事项无法查询）。",
        "Not found: check the case number and the digits (a report left without a phone "
        "cannot be found this way).",
    ),
    "find_found": ("已找到您的事项", "Your case"),
    "find_new_link": (
        "已为您生成新的查询链接，请收藏；原链接已失效。",
        "Here is a new link to your case; keep it. The old link no longer works.",
    ),
    # 一格一码 posters (/posters/<township>)
    "poster_title": ("一格一码 二维码张贴", "QR posters, one per grid"),
    "poster_count": ("共 {n} 个网格", "{n} grids"),
    "poster_print_hint": (
        "A4 纵向打印，每页 6 张，沿虚线裁开",
        "print on A4 portrait, six to a page, cut along the dashes",
    ),
    "poster_print": ("打印", "Print"),
    "poster_none": ("该区域没有网格。", "This area has no grids."),
    "poster_call": (
        "扫码反映身边问题 · 随时查询办理进度",
        "Scan to report a problem and follow it",
    ),
    "poster_grid_code": ("网格编码", "Grid code"),
    "poster_qr_alt": ("网格 {code} 的二维码", "QR code of grid {code}"),
    "poster_area_not_found": (
        "没有这个区域，请核对乡镇（街道）编码。",
        "There is no such area: check the township's code.",
    ),
    "poster_wrong_level": (
        "{name}的网格太多，请按乡镇（街道）或社区打印。",
        "{name} has too many grids: print by township or community.",
    ),
    "qs_received": ("已受理，等待分拨", "Received, being routed"),
    "qs_receiving": ("已受理，等待分拨", "Received, being routed"),
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
    "track_ev_reported": ("已受理您的反映", "Your report was received"),
    "track_ev_dispatched": ("已派遣至{unit}", "Sent to {unit}"),
    "track_ev_accepted": ("{unit}已签收", "{unit} signed for it"),
    "track_ev_started": ("开始办理", "Work started"),
    "track_ev_paused": ("暂停办理，等待补充材料", "Paused, waiting for more information"),
    "track_ev_resumed": ("继续办理", "Work resumed"),
    "track_ev_resolved": ("已办结", "Resolved"),
    "track_ev_rated": ("评价：{rating}", "Rated: {rating}"),
    "track_ev_revisited": ("回访：{rating}", "Follow-up call: {rating}"),
    "track_ev_reopened": ("重新办理", "Reopened"),
    "track_ev_closed": ("已归档", "Filed"),
    "track_ev_cancelled": ("已撤销", "Withdrawn"),
    "track_ev_escalated": ("提级至{unit}办理", "Escalated to {unit}"),
    "track_ev_consultation": ("多部门会商办理", "Several departments are handling it together"),
    "track_ev_reassigned": ("转至{unit}办理", "Passed to {unit}"),
    "track_ev_returned": ("退回{unit}重新分派", "Sent back to {unit} to be routed again"),
    "track_ev_duplicate_attached": ("又有群众反映此问题", "Someone else reported it too"),
    # the handler's workbench
    "wb_title": ("承办人工作台", "Handler's workbench"),
    "wb_nav_cases": ("我的事项", "My cases"),
    "wb_nav_patrol": ("巡查上报", "Patrol report"),
    "wb_nav_me": ("我的记录", "My record"),
    "wb_units": ("所属单位", "My units"),
    "wb_open_count": ("在办 {n} 件", "{n} open"),
    "wb_no_cases": ("暂无待办事项。", "Nothing to handle now."),
    "wb_no_deadline": ("暂停计时", "Clock stopped"),
    "wb_left": ("剩余 {t}", "{t} left"),
    "wb_place": ("地点", "Place"),
    "wb_due": ("办理时限", "Deadline"),
    "wb_reporter": ("反映人", "Reporter"),
    "wb_what_citizen_said": ("群众反映", "What was reported"),
    "wb_photo": ("照片", "Photo"),
    "wb_result_photos": ("办理结果照片", "Photos of the result"),
    "wb_actions": ("办理", "Actions"),
    "wb_result": ("办理结果", "What was done"),
    "wb_photos_opt": ("照片（可选，最多 3 张）", "Photos (optional, up to 3)"),
    "wb_reason": ("理由", "Reason"),
    "wb_co_unit": ("协办部门", "Co-responsible department"),
    "wb_timeline": ("办理经过", "History"),
    "wb_back": ("返回我的事项", "Back to my cases"),
    "wb_act_accept": ("签收", "Accept"),
    "wb_act_start": ("开始办理", "Start work"),
    "wb_act_resume": ("恢复办理", "Resume"),
    "wb_act_resolve": ("办结", "Resolve"),
    "wb_act_pause": ("等待群众补充", "Wait for the citizen"),
    "wb_act_request_escalation": ("申请提级", "Ask for escalation"),
    "wb_act_consult": ("申请会商", "Ask for a consultation"),
    "wb_act_return": ("退回（非本单位事项）", "Return (not ours)"),
    "wb_done_accept": ("已签收。", "Accepted."),
    "wb_done_start": ("已开始办理。", "Work started."),
    "wb_done_resume": ("已恢复办理。", "Resumed."),
    "wb_done_resolve": (
        "已办结，等待群众评价。",
        "Resolved; the citizen will be asked to rate it.",
    ),
    "wb_done_pause": ("已暂停计时，等待群众补充。", "Clock stopped while the citizen answers."),
    "wb_done_request_escalation": ("已提级办理。", "Escalated."),
    "wb_done_consult": ("已发起会商。", "Consultation started."),
    "wb_done_return": ("已退回乡镇（街道）重新分派。", "Sent back to the township to be routed."),
    "wb_done_patrol": ("巡查上报已提交。", "Patrol report sent."),
    "wb_refused": (
        "此事项现为「{status}」，不能{action}。",
        "This case is {status}: it cannot be given '{action}'.",
    ),
    "wb_why_return_self": (
        "事项已在乡镇（街道）中心，请改派而非退回。",
        "The case is at the township centre already: reassign it instead.",
    ),
    "wb_why_top_tier": ("事项已在县级，不能再提级。", "The case is at the county tier already."),
    "wb_why_no_grid": (
        "事项尚无网格，无法退回。",
        "The case has no grid: there is nobody to return it to.",
    ),
    "wb_invalid": ("填写有误：{fields}", "Please check: {fields}"),
    "wb_conflict": (
        "事项刚被他人更改，请刷新后重试。",
        "Someone changed the case just now: reload and try again.",
    ),
    "wb_need_text": (
        "请填写内容（最多 1000 字）。",
        "Please write the text (at most 1000 characters).",
    ),
    "wb_no_such_action": ("没有这项操作。", "No such action."),
    "wb_no_photo": ("没有这张照片。", "No such photo."),
    "wb_bad_encoding": ("提交的文字编码有误（须为 UTF-8）。", "The text sent is not valid UTF-8."),
    "wb_bad_characters": ("提交的文字含有控制字符。", "The text sent contains control characters."),
    "wb_patrol_title": ("巡查上报", "Patrol report"),
    "wb_pick": ("请选择", "Choose"),
    "wb_grid": ("所在网格", "Grid"),
    "wb_patrol_text": ("问题描述", "What you found"),
    "wb_location": ("位置（可选）", "Location (optional)"),
    "wb_locate": ("获取当前位置", "Use my location"),
    "wb_locating": ("正在定位…", "Locating…"),
    "wb_located": ("已定位", "Located"),
    "wb_locate_failed": ("无法获取位置，可不填。", "No location: you may send without it."),
    "wb_patrol_send": ("提交上报", "Send report"),
    "wb_fix_fields": ("请修改标出的内容。", "Please correct the marked fields."),
    "wb_error_description": ("请描述问题（1–{n} 字）。", "Describe the matter (1–{n} characters)."),
    "wb_error_grid": ("请选择您负责的网格。", "Choose one of your grids."),
    "wb_error_where": (
        "位置无效或不在本市范围内。",
        "The location is invalid or outside this city.",
    ),
    "wb_me_title": ("我的记录", "My record"),
    "wb_unit_figures": ("本单位本月情况", "My units this month"),
    "wb_closed_month": ("本月办结", "Closed this month"),
    "wb_my_history": ("我的办理记录", "What I did"),
    "wb_nothing_yet": ("暂无记录。", "Nothing yet."),
    "audit_personal_view": ("查看个人信息", "Personal data viewed"),
    # the leader's drill-down (领导驾驶舱), issue 4
    "leader_title": ("领导驾驶舱", "Leader drill-down"),
    # the leader desk reads a streaming replica (issue 14): how far behind it is
    "replica_lag": ("只读副本延迟 {s} 秒", "read replica lag {s} s"),
    "replica_lag_unknown": ("只读副本无响应", "read replica not answering"),
    "replica_lag_tip": (
        "本页数据读自数据库只读副本，比主库晚这么久；超过 {warn} 秒标为警示",
        "This page reads a read-only replica of the database, this far behind the primary; "
        "over {warn} s it is marked as a warning",
    ),
    "nav_overview": ("总览", "Overview"),
    "nav_bottlenecks": ("堵点分析", "Bottlenecks"),
    "nav_risk": ("超期风险", "Overdue risk"),
    "nav_assessment": ("双向考核", "Assessment"),
    "nav_reports": ("定期报告", "Reports"),
    "nav_wall": ("值班大屏", "Duty wall"),
    "page_not_found": ("页面不存在", "No such page"),
    "f_area": ("区域", "Area"),
    "f_tier": ("层级", "Tier"),
    "f_unit": ("承办单位", "Unit"),
    "f_category": ("类别", "Category"),
    "f_channel": ("渠道", "Channel"),
    "f_status": ("状态", "Status"),
    "f_colour": ("时限", "Deadline"),
    "f_dates": ("受理日期", "Reported"),
    "f_from": ("起", "From"),
    "f_to": ("止", "To"),
    "f_all": ("全部", "All"),
    "f_reset": ("清除筛选", "Clear filters"),
    "bad_link": (
        "链接中有无法识别的筛选条件，已忽略：{fields}",
        "Filters in the link not understood, ignored: {fields}",
    ),
    "bad_filters": ("筛选条件有误", "Filters not applied"),
    "untriaged": ("待分拨", "Awaiting triage"),
    "status_received": ("待分拨", "Received"),
    "status_dispatched": ("待签收", "Dispatched"),
    "status_accepted": ("已签收", "Accepted"),
    "status_in_progress": ("办理中", "In progress"),
    "status_paused": ("待群众回复", "Waiting for citizen"),
    "status_resolved": ("已办结", "Resolved"),
    "status_rated": ("已评价", "Rated"),
    "status_closed": ("已归档", "Closed"),
    "status_cancelled": ("已撤销", "Cancelled"),
    "minutes": ("{n} 分钟", "{n} min"),
    "kpi_open": ("在办", "Open"),
    "kpi_overdue": ("当前超期", "Overdue now"),
    "kpi_reported": ("受理", "Reported"),
    "kpi_median_close": ("办结用时中位数", "Median time to close"),
    "kpi_window": (
        "受理日期 {frm} 至 {to} 的办理情况；在办与超期为当前数",
        "Cases reported {frm} to {to}; open and overdue are as of now",
    ),
    "by_area": ("各区域在办（点击下钻）", "Open by area (click to drill down)"),
    "by_unit": ("各承办单位在办（点击筛选）", "Open by unit (click to filter)"),
    "click_to_filter": ("点击按此筛选", "Click to filter by this"),
    "col_area": ("区域", "Area"),
    "overdue_share": ("超期占比", "Overdue share"),
    "stuck_table": ("滞留事项（点击编号查看全过程）", "Stuck cases (click a case for its history)"),
    "col_status": ("状态", "Status"),
    "col_holder": ("承办人", "Handler"),
    "col_township": ("乡镇（街道）", "Township"),
    "col_overdue_tiers": ("超期层级", "Overdue at"),
    "col_risk": ("超期风险", "Risk"),
    "col_reported": ("受理时间", "Reported"),
    "col_deadline": ("本环节时限", "Stage deadline"),
    "n_cases": ("共 {n} 件", "{n} cases"),
    "loading": ("加载中…", "Loading…"),
    "no_rows": ("暂无数据", "Nothing to show"),
    "back_to_list": ("返回列表", "Back to the list"),
    "description": ("群众诉求", "What was reported"),
    "timeline": ("全过程记录", "Timeline"),
    "stages": ("各环节用时", "Stages"),
    "col_no": ("序", "#"),
    "col_from": ("开始", "From"),
    "col_until": ("结束", "Until"),
    "col_dwell": ("用时", "Dwell"),
    "col_ended": ("结束方式", "Ended by"),
    "col_rem_warn": ("提醒/预警", "Reminders / warnings"),
    "col_overdue_at": ("超期时间", "Went overdue"),
    "still_open": ("办理中", "still open"),
    "end_completed": ("办结", "completed"),
    "end_overdue": ("超期自动升级", "overdue, moved up"),
    "end_escalated": ("人工升级", "escalated"),
    "end_reassigned": ("改派", "reassigned"),
    "end_consultation": ("转会商", "to consultation"),
    "end_cancelled": ("撤销", "cancelled"),
    "end_open": ("在办", "open"),
    "dwell_by_tier": ("各层级用时", "Dwell time by tier"),
    "units_held": ("经手单位", "Units that held it"),
    "reminders": ("提醒", "Reminders"),
    "warnings": ("预警", "Warnings"),
    "revisits": ("回访", "Revisits"),
    "escalations": ("升级", "Escalations"),
    "ratings": ("评价与回访", "Ratings and revisits"),
    "none_yet": ("暂无", "None yet"),
    "rating_None": ("—", "—"),
    "ev_reported": ("受理", "Reported"),
    "ev_dispatched": ("分拨", "Dispatched"),
    "ev_accepted": ("签收", "Accepted"),
    "ev_started": ("开始办理", "Work started"),
    "ev_paused": ("等待群众", "Waiting for citizen"),
    "ev_resumed": ("恢复办理", "Resumed"),
    "ev_resolved": ("办结", "Resolved"),
    "ev_rated": ("群众评价", "Rated"),
    "ev_revisited": ("回访", "Revisit"),
    "ev_reopened": ("重新办理", "Reopened"),
    "ev_closed": ("归档", "Closed"),
    "ev_cancelled": ("撤销", "Cancelled"),
    "ev_escalated": ("升级", "Escalated"),
    "ev_consultation": ("会商", "Consultation"),
    "ev_reassigned": ("改派", "Reassigned"),
    "ev_returned": ("退回", "Returned"),
    "ev_instructed": ("领导批示", "Leader's instruction"),
    "ev_reminded": ("到期提醒", "Reminder"),
    "ev_warned": ("超期预警", "Warning"),
    "ev_overdue": ("超期", "Overdue"),
    "ev_leader_notified": ("报告领导", "Leader notified"),
    "ev_duplicate_attached": ("合并重复件", "Duplicate merged"),
    "case_not_found": ("没有这件工单", "No such case"),
    "leader_actions": ("领导督办", "Leader's actions"),
    "act_instruct_t": ("批示", "Instruct"),
    "act_instruct_ph": ("批示内容", "The instruction"),
    "act_instruct": ("批示", "Send instruction"),
    "act_reassign_t": ("改派", "Reassign"),
    "act_reassign": ("改派", "Reassign"),
    "act_pick_unit": ("选择承办单位", "Choose a unit"),
    "act_reason_ph": ("理由", "Reason"),
    "act_escalate_t": ("升级", "Escalate"),
    "act_escalate": ("升级一级", "Escalate one tier"),
    "act_consult_t": ("召集会商", "Convene a consultation"),
    "act_consult": ("召集会商", "Convene"),
    "consult_lead": ("牵头单位", "Lead unit"),
    "consult_co": ("协办单位", "Co-responsible units"),
    "act_refused": ("未执行：", "Not done:"),
    "act_invalid": ("请补充：", "Please complete:"),
    "act_done_instruct": ("批示已记录并推送", "Instruction recorded and sent"),
    "act_done_reassign": ("已改派", "Reassigned"),
    "act_done_escalate": ("已升级", "Escalated"),
    "act_done_consult": ("会商已发起", "Consultation convened"),
    "field_text": ("批示内容", "instruction"),
    "field_unit": ("改派单位", "unit"),
    "field_reason": ("理由", "reason"),
    "field_action": ("操作", "action"),
    "dwell_note": (
        "各环节用时：从交办到办结、升级、改派或撤销；按受理日期与筛选条件统计已结束的环节。"
        "箱体为四分位数，须线为第 5 与第 95 百分位。",
        "Dwell time of a stage: from being handed to a unit until completed, escalated, "
        "reassigned or cancelled; finished stages of the cases reported in the filters. "
        "Boxes are quartiles, whiskers the 5th and 95th percentiles.",
    ),
    "dwell_by_unit_top": (
        "用时最长的承办单位（中位数）",
        "Units where stages last longest (median)",
    ),
    "hours_axis": ("用时（对数刻度）", "time (log scale)"),
    "tier_flows": ("层级流转", "Flows between tiers"),
    "node_intake": ("受理", "Reported"),
    "node_reopened": ("重新办理", "Reopened"),
    "node_completed": ("办结", "Completed"),
    "node_cancelled": ("撤销", "Cancelled"),
    "node_open": ("在办", "Open"),
    "sideways_note": (
        "另有 {n} 次平级或向下改派未画出。",
        "{n} handovers to the same or a lower tier are not drawn.",
    ),
    "overdue_trend": ("超期趋势（按区域、受理周）", "Overdue by area and report week"),
    "overdue_count": ("超期次数", "times overdue"),
    "report_week": ("受理周", "report week"),
    "risk_note": (
        "超期风险：一件在办事项本环节超期的概率，按以往相似环节在用去同样比例时限时仍在办、"
        "最终超期的比例估计（近 120 天）。同单位同类事项的经验最具体，件数少时向同层级同类、"
        "同单位、同层级和全市的经验收缩，所以件数少不会得出 0% 或 100%。“风险依据”列出所依据的"
        "范围和件数。至少每五分钟更新一次；刚升级或改派的事项在下次更新前显示“待评估”。",
        "Overdue risk: the chance that an open case misses its present deadline: of the "
        "similar past stages still open at the same share of their allowance (last 120 days), "
        "the share that went overdue. The same unit and category is the most specific; with "
        "few of them the estimate is shrunk towards the same category at the tier, the unit, "
        "the tier and the city, so thin evidence never gives 0% or 100%. 'Based on' names the "
        "group and how many stages. Updated at least every five minutes; a case just moved up or "
        "reassigned shows 'not scored yet' until then.",
    ),
    "risk_table": ("在办事项（按超期风险排序）", "Open cases by overdue risk"),
    "risk_very": ("极高风险 ≥80%", "Very high ≥80%"),
    "risk_high": ("高风险 50–80%", "High 50–80%"),
    "risk_mid": ("中风险 20–50%", "Medium 20–50%"),
    "risk_low": ("低风险 <20%", "Low <20%"),
    "risk_none": ("待评估或无时限", "Not scored yet or no deadline"),
    "period_daily": ("日报", "Daily"),
    "period_dekad": ("旬报", "Ten-day"),
    "period_monthly": ("月报", "Monthly"),
    "dekad_1": ("上旬", "1st–10th"),
    "dekad_2": ("中旬", "11th–20th"),
    "dekad_3": ("下旬", "21st–end"),
    "title_daily": ("{day} 日报", "Daily report, {day}"),
    "title_dekad": ("{y}年{m}月{part}旬报", "Ten-day report, {y}-{m:02d}, {part}"),
    "title_monthly": ("{y}年{m}月月报", "Monthly report, {y}-{m:02d}"),
    "assess_title": ("双向考核：{period}", "Assessment: {period}"),
    "assess_as_of": ("（数据截至 {as_of}）", " (as of {as_of})"),
    "assess_formula": (
        "得分 = {formula}（各项为比率，满分 100）",
        "Score = {formula} (each a rate; 100 at best)",
    ),
    "w_close_rate": ("办结率", "close rate"),
    "w_on_time_rate": ("按时办结率", "on-time rate"),
    "w_satisfaction_rate": ("满意率", "satisfaction"),
    "w_no_escalation": ("(1−升级率)", "(1 − escalation rate)"),
    "assess_ranking": ("考核排名", "Ranking"),
    "assess_change": ("本期与上期得分", "This period and the last"),
    "col_rank": ("名次", "Rank"),
    "col_change": ("变化", "Change"),
    "col_score": ("得分", "Score"),
    "col_score_change": ("较上期", "vs last"),
    "col_escalation_rate": ("升级率", "Escalation rate"),
    "too_few": ("件数不足", "too few"),
    "prev_period": ("上期", "Last period"),
    "this_period": ("本期", "This period"),
    "print": ("打印", "Print"),
    "report_meta": (
        "统计口径：{frm} 至 {to} 受理的事项，截至 {as_of} 的办理情况。",
        "Cases reported {frm} to {to}, as they stood at {as_of}.",
    ),
    "sec_total": ("合计", "Total"),
    "sec_by_tier": ("按层级", "By tier"),
    "sec_by_channel": ("按渠道", "By channel"),
    "sec_by_category": ("按类别", "By category"),
    "sec_by_unit": ("按承办单位", "By unit"),
    "col_group": ("分组", "Group"),
    "unassigned": ("未分拨", "Not assigned"),
    "fig_cases_total": ("受理", "Reported"),
    "fig_cancelled": ("撤销", "Cancelled"),
    "fig_closed": ("办结", "Closed"),
    "fig_close_rate": ("办结率", "Close rate"),
    "fig_on_time_rate": ("按时办结率", "On-time rate"),
    "fig_overdue_open": ("超期在办", "Overdue open"),
    "fig_median_hours_to_close": ("办结用时中位数（小时）", "Median hours to close"),
    "fig_satisfaction_rate": ("满意率", "Satisfaction"),
    # --- issue 10 (wt10b): overdue risk, what each probability rests on ---
    "col_risk_basis": ("风险依据", "Based on"),
    "risk_basis_n": ("{basis} {n} 件", "{basis}, {n} stages"),
    "risk_basis_past_due": ("已超过时限", "past its deadline"),
    "basis_unit+category": ("同单位同类", "same unit and category"),
    "basis_tier+category": ("同层级同类", "same tier and category"),
    "basis_unit": ("同单位", "same unit"),
    "basis_tier": ("同层级", "same tier"),
    "basis_city": ("全市", "whole city"),
    "risk_pending": ("待评估", "not scored yet"),
    "risk_basis_tip": (
        "以往相似环节（{basis}）在用去同样比例时限时仍在办的有 {n} 件，按其中最终超期的"
        "比例估计，并向更大范围的经验收缩。",
        "{n} similar past stages ({basis}) were still open at the same share of their "
        "allowance; the estimate is the share of them that went overdue, shrunk towards the "
        "wider groups'.",
    ),
    # --- issue 10 (wt10b): who did it, why, and what the engine refused, in words ---
    "actor_clock": ("系统时钟", "system clock"),
    "actor_sim_channel": ("模拟{who}", "simulated {who}"),
    "actor_sim_unit": ("模拟承办人（{unit}）", "simulated handler ({unit})"),
    "actor_leader_web": ("领导（驾驶舱）", "leader (desk)"),
    "actor_citizen_qr": ("群众（扫码上报）", "citizen (QR code)"),
    "actor_api": ("接口：{client}", "integration: {client}"),
    "actor_user": ("用户 {user}", "user {user}"),
    "actor_person": ("{name}（{unit}）", "{name} ({unit})"),
    "actor_unknown": ("其他（{code}）", "other ({code})"),
    "channel_who_grid_worker": ("网格员", "grid worker"),
    "channel_who_hotline": ("12345热线", "12345 hotline"),
    "channel_who_qr": ("扫码群众", "QR reporter"),
    "channel_who_wechat": ("微信群", "WeChat group"),
    "channel_who_walk_in": ("来访群众", "walk-in citizen"),
    "channel_who_app": ("APP用户", "app user"),
    "channel_who_open311": ("Open311 接口", "Open311 client"),
    "why_triage_local": ("分拨：就地办理", "triage: handled where it arises"),
    "why_triage_major": ("分拨：重大事项，直接上报", "triage: major matter, straight up"),
    "why_imported": (
        "导入：按来源系统指定的单位办理",
        "imported: handled by the unit the source named",
    ),
    "why_manual_triage": ("人工分拨", "manual triage"),
    "why_closed_source": ("来源系统已办结", "closed in the source system"),
    "why_auto_escalation": ("{tier}超期，自动升级", "overdue at {tier}, moved up automatically"),
    "why_top_tier": ("已在最高层级超期", "overdue at the top tier"),
    "why_unsatisfied": ("群众不满意", "citizen unsatisfied"),
    "why_revisit_unsatisfied": ("回访：群众不满意", "revisit: citizen unsatisfied"),
    "refuse_dispatch": ("只有待分拨的事项才能分拨", "only a case awaiting triage is dispatched"),
    "refuse_accept": ("只有已分拨的事项才能签收", "only a dispatched case is signed for"),
    "refuse_start": ("请先签收再办理", "accept the case before starting work"),
    "refuse_pause": ("只有办理中的事项才能等待群众", "only a case being handled can wait"),
    "refuse_resume": ("事项未暂停", "the case is not paused"),
    "refuse_resolve": ("请先签收再办结", "accept the case before resolving it"),
    "refuse_rate": ("只有已办结的事项才能评价", "only a resolved case is rated"),
    "refuse_revisit": (
        "只有已办结或已评价的事项才能回访",
        "only a resolved or rated case is revisited",
    ),
    "refuse_close": ("只有已办结或已评价的事项才能归档", "only a resolved or rated case is closed"),
    "refuse_cancel": ("已办结的事项不能撤销", "a completed case is not cancelled"),
    "refuse_attach": ("重复件只能合并到在办事项", "a duplicate is attached to an open case only"),
    "refuse_escalate": ("只有办理中的事项才能升级", "only a case being handled is escalated"),
    "refuse_return": ("只有办理中的事项才能退回", "only a case being handled is returned"),
    "refuse_return_no_grid": (
        "该事项没有所属网格，无法确定退回给谁",
        "the case has no grid: nobody to return to",
    ),
    "refuse_return_township": (
        "事项已在乡镇（街道）综治中心，请由中心改派",
        "the township centre reassigns the case instead",
    ),
    "refuse_consult": (
        "只有办理中的事项才能召集会商",
        "only a case being handled goes to consultation",
    ),
    "refuse_reassign": ("只有办理中的事项才能改派", "only a case being handled is reassigned"),
    "refuse_county": ("该事项已在县级，无法再升级", "the case is already at the county tier"),
    "refuse_no_grid": ("该事项尚未分拨到网格，请先分拨", "the case has no grid yet: dispatch it"),
    "refuse_same_unit": ("该事项已由这个单位承办", "the case is already with that unit"),
    "refuse_finished": ("该事项已归档或撤销", "the case is finished"),
    "refuse_imported_only": ("只有导入的记录可以这样办结", "only imported records"),
    "refuse_already_closed": ("该事项已办结或撤销", "the case is closed or cancelled already"),
    "refuse_other": (
        "当前状态（{status}）下不能执行此操作",
        "not possible while the case is {status}",
    ),
    "invalid_text": ("请填写批示内容", "write the instruction"),
    "invalid_unit": ("请从列表中选择改派单位", "choose the unit from the list"),
    "invalid_reason": ("请填写理由", "give a reason"),
    "invalid_lead": ("请从列表中选择牵头单位", "choose the lead unit from the list"),
    "invalid_co_units": (
        "请从列表中选择至少一个协办单位",
        "choose at least one co-responsible unit",
    ),
    "invalid_co_lead": (
        "牵头单位不能同时是协办单位",
        "the lead unit is not also a co-responsible unit",
    ),
    "invalid_too_long": ("{field}过长，最多 {n} 字", "{field} is too long: at most {n} characters"),
    "invalid_field": ("{field}有误，请检查", "check {field}"),
    "invalid_case": ("工单编号有误", "not a case number"),
    "act_failed": ("未执行：系统暂时无法处理，请稍后再试", "Not done: please try again shortly"),
    # --- issue 10 (wt10b): the leader desk ---
    "col_deadline_state": ("时限状态", "Deadline"),
    "day_md": ("{m}月{d}日", "{d} {mon}"),
    "week_of": ("{day}当周", "week of {day}"),
    "clear_dates": ("清除日期", "Clear dates"),
    "pick_day": ("选择日期", "Choose a day"),
    "bad_column_filter": (
        "列筛选条件有误（时长与风险请填数字），请修改",
        "A column filter is not understood (hours and risk take a number)",
    ),
    "case_channel": ("渠道", "Channel"),
    "case_reports": ("反映人次", "Reports"),
    "case_reports_n": ("共 {n} 人反映", "{n} people reported it"),
    "case_photos": ("群众上传的照片", "Photos from the citizen"),
    "case_photo_alt": ("现场照片 {n}", "photo {n}"),
    "photo_not_found": ("没有这张照片", "No such photo"),
    "assess_rules": (
        "得分相同的单位名次相同；受理不足 {min} 件的单位列出但不排名。得分按受理件数向全区平均"
        "得分收缩（相当于另加 {k} 件全区平均水平的事项），件数少的单位不会仅凭几件事项排到最前。"
        "较上期为与上一考核期得分之差。",
        "Units with equal scores share a rank; units with fewer than {min} cases are listed, "
        "not ranked. A score is shrunk towards the area's average by the unit's number of "
        "cases (as if {k} cases at the area's rates were added), so a unit does not top the "
        "table on a handful of cases. 'vs last' is the change from the previous period's score.",
    ),
    # the leader's XLSX workbook (backend/drill/export.py)
    "xl_sheet_summary": ("汇总", "Summary"),
    "xl_sheet_table": ("明细", "Details"),
    "xl_period": ("统计期间", "Period"),
    "xl_period_range": ("{frm} 至 {to}", "{frm} to {to}"),
    "xl_as_of": ("数据截至（北京时间）", "Figures as of (local time)"),
    "xl_scope": ("范围", "Scope"),
    "xl_scope_city": ("全市", "Whole city"),
    "xl_figure": ("指标", "Figure"),
    "xl_value": ("数值", "Value"),
    "xl_base": ("基数", "Base"),
    "xl_base_close_rate": (
        "应办结 {n} 件（受理减撤销）",
        "of {n} to close (reported less cancelled)",
    ),
    "xl_base_on_time_rate": ("已办结 {n} 件", "of {n} closed"),
    "xl_col_section": ("分组", "Group"),
    "xl_col_key": ("代码", "Code"),
    "xl_col_name": ("名称", "Name"),
    "analysis_window": ("受理日期 {frm} 至 {to}。", "Reported {frm} to {to}."),
    # issue 14: times and names a client sends, checked at the edge (API answers, per field)
    "time_iso": ("应为 ISO 8601 时间", "an ISO 8601 time"),
    "time_offset": ("时间须带时区", "needs a timezone offset"),
    "time_range": ("时间须在 {first} 至 {last} 年之间", "a time between {first} and {last}"),
    "time_future": (
        "时间不能晚于当前时间（允许误差 {seconds} 秒）",
        "not in the future (a clock skew of {seconds} s is allowed)",
    ),
    "unit_unknown": ("没有这个承办单位：{unit}", "unknown unit code {unit}"),
    "text_at_most": ("至多 {n} 个字", "a text of at most {n} characters"),
    "reporter_too_long": (
        "姓名、电话和邮箱合计至多 {n} 个字",
        "name, phone and email together: at most {n} characters",
    ),
    "dependency_busy": (
        "系统繁忙（数据库或消息服务暂时无响应），请稍后重试",
        "busy: the database or Redis did not answer in time; retry shortly",
    ),
    "redis_not_durable": (
        "Redis 可能丢失已确认的命令，gridwatch 不启动：{problem}",
        "Redis could lose commands it has acknowledged, so gridwatch will not start: {problem}",
    ),
    "redis_no_aof": (
        "appendonly 为 {value}，请以 --appendonly yes --appendfsync always 启动 Redis"
        "（或 CONFIG SET appendonly yes）",
        "appendonly is {value}; start Redis with --appendonly yes --appendfsync always "
        "(or CONFIG SET appendonly yes)",
    ),
    "redis_weak_fsync": (
        "appendfsync 为 {value}，须为 always（everysec 在磁盘繁忙时会先应答、后写入）",
        "appendfsync is {value}; it must be always (everysec answers before it writes when "
        "the disk is busy)",
    ),
    "redis_not_replicated": (
        "{ms} 毫秒内只有 {got} 个副本（需要 {wanted} 个）确认了写入：未确认，请重试",
        "only {got} of {wanted} replicas confirmed the write within {ms} ms: not acknowledged, "
        "retry",
    ),
    "redis_replica_not_durable": (
        "副本 {replica}：{problem}",
        "replica {replica}: {problem}",
    ),
    "redis_config_hidden": (
        "无法读取 Redis 配置（{error}）；仅当服务商保证 AOF 持久化时设置 "
        "GRIDWATCH_REDIS_PERSISTENCE=trust",
        "its configuration cannot be read ({error}); set GRIDWATCH_REDIS_PERSISTENCE=trust "
        "only if the provider guarantees AOF persistence",
    ),
    "address_nul": ("地址中含有 NUL 字符", "the address holds a NUL character"),
    "id_too_large": ("编号过大", "not an id: too large"),
    "units_more": (
        "屏幕显示受理最多的 {shown} 个单位（共 {n} 个），全部单位见 CSV / XLSX。",
        "The {shown} units with most cases of {n}; the CSV and XLSX hold them all.",
    ),
    # gridwatch import / sync (the command line)
    "import_date_format": ("日期格式 {how}", "dates {how}"),
    "import_date_ambiguous": (
        "{column}：样本中没有日或月大于 12 的值，无法判断月日顺序，按 {order} 读取；"
        "如不对，请用 --date-format 指定",
        "{column}: no value in the sample shows whether the month or the day comes first; "
        "read as {order} (the source's own convention); use --date-format if that is wrong",
    ),
    "import_date_other": (
        "{column}：{n} 个值不是该列的格式，按其他格式读取",
        "{column}: {n} value(s) not in the column's format, read by another format",
    ),
    "import_counts": (
        "读取 {rows} 行；导入 {imported}；此前已导入 {already}；跳过（问题行见上）{skipped}",
        "rows read: {rows}; imported: {imported}; already imported: {already}; "
        "skipped (bad rows, listed above): {skipped}",
    ),
    "import_closed": (
        "已办结 {closed}；已撤销 {cancelled}",
        "closed: {closed}; cancelled: {cancelled}",
    ),
    "import_close_proxy": (
        "已办结但无办结时间、以 {column} 作为办结时间的：{n}",
        "closed with no close date, closed at their {column} instead: {n}",
    ),
    "import_close_unknown": (
        "已办结但完全没有办结时间的（计入办结，不计入办结用时）：{n}",
        "closed with no close date at all (counted closed, left out of the time-to-close "
        "figures): {n}",
    ),
    "import_no_coordinates": (
        "没有可用坐标（按地址定位）的行：{n}",
        "rows without usable coordinates (located by address): {n}",
    ),
    "import_default_category": (
        "映射文件中没有的诉求类型，归入其默认类别：{n} 行：{top}",
        "request types not in the mapping file, given its default category: {n} rows: {top}",
    ),
    "import_triage": (
        "无法确定类别或地点、转入人工分拨（待分拨）的行：{n}；此前已转入的：{again}",
        "rows the text parser was not sure of, left in the triage queue: {n}; "
        "there already: {again}",
    ),
    "import_table_needs_mapping": (
        "--format table 需要 --mapping 文件，说明各列对应哪个字段",
        "--format table needs --mapping FILE.yaml naming the columns",
    ),
    "import_bad_tz": (
        "--tz {tz} 不是时区（例如 Asia/Shanghai）",
        "--tz {tz} is not a time zone (e.g. America/New_York)",
    ),
    "import_bad_date_format": (
        "--date-format 须为 {families} 之一，或 strptime 格式（如 %Y/%m/%d %H:%M）",
        "--date-format must be one of {families}, or a strptime pattern (e.g. %Y/%m/%d %H:%M)",
    ),
    "import_error": ("错误：{message}", "error: {message}"),
    "import_bad_format": (
        "--format 须为 {formats} 之一，不能是 {fmt}",
        "--format must be one of {formats}, not {fmt}",
    ),
    "import_no_file": ("{path}：没有这个文件", "{path}: no such file"),
    "import_progress": ("正在导入 {name}", "importing {name}"),
    "import_rate": ("{rows} 行 · 每秒 {rate} 行", "{rows} rows · {rate} rows/s"),
    "import_mapping_unreadable": (
        "无法读取映射文件：{error}",
        "cannot read the mapping file: {error}",
    ),
    "import_mapping_not_mapping": (
        "{name} 须为“来源值 → 本系统值”的映射",
        "{name} must be a mapping of source value → ours",
    ),
    "import_unknown_categories": ("未知的类别代码：{codes}", "unknown category code(s): {codes}"),
    "import_unknown_channels": ("未知的渠道：{channels}", "unknown channel(s): {channels}"),
    "import_missing_columns": (
        "缺少列 {columns}（这是 {source} 的导出文件吗？）",
        "missing column(s) {columns} (is this a {source} export?)",
    ),
    "import_sheet_empty": ("第一个工作表是空的", "the first sheet is empty"),
    "import_file_empty": ("文件是空的", "the file is empty"),
    "import_bad_header": ("无法读取表头：{error}", "cannot read the header: {error}"),
    "import_bad_csv": ("CSV 无法读取：{error}", "unreadable CSV: {error}"),
    "import_mapping_not_yaml": ("映射文件须为 YAML 映射", "a mapping file is a YAML mapping"),
    "import_table_needs_columns": (
        "--format table 的映射文件须有 columns 一节",
        "--format table needs a 'columns' section",
    ),
    "import_table_unknown_fields": (
        "columns 中有未知字段：{fields}（已知字段：{known}）",
        "unknown field(s) in columns: {fields} (known: {known})",
    ),
    "import_table_missing_fields": ("columns 须指明 {fields}", "columns must name {fields}"),
    "import_table_not_mappings": (
        "status_values 和 ratings 须为映射",
        "status_values and ratings are mappings",
    ),
    "import_table_bad_ratings": (
        "ratings 的值须为 {valid} 之一：{bad}",
        "ratings must be one of {valid}: {bad}",
    ),
    "import_not_xlsx": (
        "不是 Excel .xlsx 工作簿（{error}）",
        "not an Excel .xlsx workbook ({error})",
    ),
    "import_no_sheet": ("工作簿中没有工作表", "the workbook has no sheet"),
    "import_bad_sheet": (
        "工作表不是可读的 XML（{error}）",
        "the sheet is not readable XML ({error})",
    ),
    "import_json_open_array": ("JSON 数组没有结束", "the array is not closed"),
    "import_bad_json": (
        "不是有效的 JSON（{error}）；其后内容不再读取",
        "not valid JSON ({error}); the rest is not read",
    ),
    "import_worker_out_of_order": (
        "导入进程 {k} 送来第 {number} 块，应为第 {chunk} 块",
        "worker {k} sent chunk {number} where {chunk} was due",
    ),
    "sync_http": (
        "{url}：HTTP {status}：{body}",
        "{url}: HTTP {status}: {body}",
    ),
    "sync_not_json": ("{url}：返回的不是 JSON", "{url}: the answer is not JSON"),
    "sync_not_list": (
        "{url}：返回的不是服务请求列表",
        "{url}: the answer is not a list of service requests",
    ),
    "sync_no_answer": (
        "{url}：尝试 {n} 次均无应答（{last}）",
        "{url}: no answer after {n} attempts ({last})",
    ),
    "sync_no_since": (
        "未给出 --since，此前也没有同步过这个地址，无从接续",
        "no --since given and no earlier sync of this URL to continue",
    ),
    "import_worker_silent": (
        "导入进程 {k} 未报告原因即已停止",
        "import worker {k} stopped without a word",
    ),
    "import_worker_failed": ("导入进程 {k}：{error}", "import worker {k}: {error}"),
    "import_worker_unexpected": (
        "导入进程 {k} 送来 {got}，应为 {due}",
        "import worker {k} sent {got} where {due} was due",
    ),
    "import_row_about": ("{name}：{problem}", "{name}: {problem}"),
    "import_row_nul": ("{name}：含有 NUL 字符，不是文本", "{name}: a NUL character is not text"),
    "import_row_empty": ("{name} 为空", "{name} is empty"),
    "import_row_not_a_date": ("不是日期时间：{text}", "not a date and time: {text}"),
    "import_row_year": (
        "年份 {year} 不在 2000–2099 之间：{text}",
        "year {year} is outside 2000–2099: {text}",
    ),
    "import_row_no_place": (
        "没有地址也没有坐标，无法定位",
        "no address and no coordinates: cannot place it",
    ),
    "import_row_not_object": (
        "服务请求须为 JSON 对象",
        "a service request must be a JSON object",
    ),
    "import_row_no_id": ("缺少 service_request_id", "service_request_id is missing"),
    "import_row_no_time": ("缺少 requested_datetime", "requested_datetime is missing"),
    "import_row_unmapped": (
        "诉求类型 {type} 不在映射文件中，映射文件也未指定 default_category",
        "request type {type} is not in the mapping file and it names no default_category",
    ),
    "sync_bad_url": ("{url} 不是 http(s) 地址", "{url} is not an http(s) URL"),
    "sync_bad_since": (
        "--since {since} 不是日期时间（例如 2024-01-01 或 2024-01-01T00:00:00+08:00）",
        "--since {since} is not a date and time (e.g. 2024-01-01 or 2024-01-01T00:00:00Z)",
    ),
    "sync_resume": (
        "已同步至 {cursor}；再次运行同一命令即从此处继续",
        "synced up to {cursor}; run the same command again to continue from there",
    ),
    "sync_summary": (
        "时间窗 {windows} 个；收到 {received} 件；新增或更新 {imported} 件；已有 {already} 件；"
        "跳过 {skipped} 件；已同步至 {cursor}",
        "windows: {windows}; requests received: {received}; new or changed: {imported}; "
        "already here: {already}; skipped: {skipped}; synced up to {cursor}",
    ),
}
TEXT.update(HALL_TEXT)


def t(key: str, lang: str = "zh", **kw: object) -> str:
    """Look up ``key`` in ``lang`` (zh default); unknown keys show themselves, visibly."""
    pair = TEXT.get(key)
    if pair is None:
        return f"[{key}]"
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**kw) if kw else text


@dataclass(frozen=True, slots=True)
class Said:
    """Words for a person, kept until the language is known: a key of the table and the
    values it names. A value may be Said itself (a row's problem inside the line about
    the row), rendered in the same language."""

    key: str
    values: dict[str, object] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        kw = {k: v.text(lang) if isinstance(v, Said) else v for k, v in self.values.items()}
        return t(self.key, lang, **kw)


def said(key: str, **values: object) -> Said:
    return Said(key, values)


class SaidError(Exception):
    """An error whose words for a person are ``said``, rendered by ``text`` once the
    language is known; ``str()`` is the English."""

    def __init__(self, key: str, **values: object) -> None:
        self.said = Said(key, values)
        super().__init__(self.said.text("en"))

    def text(self, lang: str = "en") -> str:
        return self.said.text(lang)


def duration(seconds: float, lang: str = "zh") -> str:
    """A short human duration: hours below two days, days above."""
    s = abs(seconds)
    if s < 48 * 3600:
        return t("hours", lang, n=f"{s / 3600:.1f}")
    return t("days", lang, n=f"{s / 86400:.1f}")


#: the engine's own words (the API's 409 and 422 answers, the reasons it records) → the key that
#: says them to a person; anything else was typed by a person and is shown as it is
MESSAGES: dict[str, str] = {
    "triage: handled where it arises": "why_triage_local",
    "triage: major matter, straight up": "why_triage_major",
    "imported: handled by the unit the source system named": "why_imported",
    "manual triage": "why_manual_triage",
    "closed in the source system": "why_closed_source",
    "overdue at the top tier": "why_top_tier",
    "citizen unsatisfied": "why_unsatisfied",
    "revisit: citizen unsatisfied": "why_revisit_unsatisfied",
    "only a case awaiting triage is dispatched": "refuse_dispatch",
    "only a dispatched case is signed for": "refuse_accept",
    "accept the case before starting work": "refuse_start",
    "only a case being handled can wait for the citizen": "refuse_pause",
    "the case is not paused": "refuse_resume",
    "accept the case before resolving it": "refuse_resolve",
    "only a resolved case is rated": "refuse_rate",
    "only a resolved or rated case is revisited": "refuse_revisit",
    "only a resolved or rated case is closed": "refuse_close",
    "a completed case is not cancelled": "refuse_cancel",
    "a duplicate report is attached to an open case only": "refuse_attach",
    "only a case being handled is escalated": "refuse_escalate",
    "only a case being handled is returned": "refuse_return",
    "the case has no grid: nobody to return to": "refuse_return_no_grid",
    "the township centre reassigns the case instead": "refuse_return_township",
    "only a case being handled goes to consultation": "refuse_consult",
    "only a case being handled is reassigned": "refuse_reassign",
    "the case is already at the county tier": "refuse_county",
    "the case has no grid yet: dispatch it": "refuse_no_grid",
    "the case is already with that unit": "refuse_same_unit",
    "the case is finished": "refuse_finished",
    "only imported records": "refuse_imported_only",
    "the case is closed or cancelled already": "refuse_already_closed",
}
AUTO_ESCALATION = "auto-escalation: overdue at "


def message(text: str | None, lang: str = "zh") -> str:
    """A reason the engine recorded or answered with, in ``lang``; a person's own words (a
    leader's instruction, a handler's note) pass through unchanged."""
    if not text:
        return ""
    key = MESSAGES.get(text)
    if key is not None:
        return t(key, lang)
    if text.startswith(AUTO_ESCALATION):
        tier = text[len(AUTO_ESCALATION) :]
        return t("why_auto_escalation", lang, tier=t(f"tier_{tier}", lang))
    return text
