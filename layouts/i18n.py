"""Every interface string, one catalogue per language; number formatting per language.

Chinese (zh) is the default; ``?lang=en`` switches. A key missing from a
catalogue falls back to Chinese, then to the key itself, so a page never breaks
on a missing translation.
"""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

ZH: dict[str, str] = {
    "app.title": "连心 · 数字党建指挥中心",
    "app.subtitle": "数字党建指挥中心",
    "conn.connecting": "连接中",
    "conn.live": "实时",
    "conn.reconnecting": "重连中",
    "conn.stale": "数据滞后",
    "conn.static": "静态",
    "kpi.members": "党员总数",
    "kpi.organisations": "基层组织",
    "kpi.branches": "党支部",
    "kpi.active_today": "今日活跃党员",
    "kpi.active_15m": "15分钟活跃",
    "kpi.events_today": "今日活动",
    "kpi.events_per_min": "每分钟活动",
    "kpi.study_points_today": "今日学习积分",
    "kpi.three_meetings": "三会一课完成率",
    "kpi.themed_day": "主题党日完成率",
    "kpi.dues_rate": "本月党费收缴率",
    "kpi.transfers_in_flight": "转接办理中",
    "kpi.transfers_overdue": "转接超期",
    "kpi.lost_contact": "失联党员",
    "panel.map": "活跃地图",
    "panel.topology": "组织拓扑",
    "panel.structure": "党员结构",
    "panel.gender": "性别",
    "panel.age": "年龄",
    "panel.education": "学历",
    "panel.occupation": "职业",
    "panel.ethnicity": "民族",
    "panel.status": "正式 / 预备",
    "panel.leaderboard": "今日学习积分榜",
    "panel.pipeline": "发展党员",
    "panel.feed": "实时动态",
    "panel.alerts": "预警与通知",
    "panel.progress": "组织生活",
    "feed.waiting": "等待实时数据……",
    "alerts.none": "暂无预警",
    "alerts.few_members": "正式党员不足3人的支部",
    "alerts.no_secretary": "未配备书记的支部",
    "alerts.no_meeting": "本期未开展组织生活的支部",
    "alerts.transfers_overdue": "超期未办结的组织关系转接",
    "leaderboard.empty": "今日暂无学习积分",
    "gender.M": "男",
    "gender.F": "女",
    "status.full": "正式党员",
    "status.probationary": "预备党员",
    "ethnicity.han": "汉族",
    "ethnicity.minority": "少数民族",
    "education.postgraduate": "研究生",
    "education.bachelor": "大学本科",
    "education.college": "大专",
    "education.secondary": "高中/中专",
    "education.primary_or_below": "初中及以下",
    "occupation.worker": "工人",
    "occupation.farmer": "农牧渔民",
    "occupation.professional": "专业技术人员",
    "occupation.manager": "企事业管理人员",
    "occupation.party_government": "党政机关工作人员",
    "occupation.student": "学生",
    "occupation.other": "其他职业",
    "occupation.retired": "离退休人员",
    "pipeline.applicant": "入党申请人",
    "pipeline.activist": "积极分子",
    "pipeline.development_target": "发展对象",
    "pipeline.probationary": "预备党员",
    "pipeline.full": "正式党员",
    "event.study": "学习",
    "event.article_read": "阅读文章",
    "event.like": "点赞",
    "event.comment": "评论",
    "event.share": "分享",
    "event.meeting_held": "召开会议",
    "event.meeting_attended": "参加会议",
    "event.dues_paid": "交纳党费",
    "event.volunteer": "志愿服务",
    "event.transfer_requested": "申请转接组织关系",
    "event.transfer_approved": "转接已审批",
    "event.transfer_rejected": "转接被退回",
    "event.transfer_completed": "转接完成",
    "event.recruit_applied": "递交入党申请",
    "event.recruit_activist": "确定为积极分子",
    "event.recruit_development_target": "列为发展对象",
    "event.recruit_probationary": "接收为预备党员",
    "event.recruit_full": "转为正式党员",
    "event.login": "登录",
    "notice.info": "通知",
    "notice.warning": "提醒",
    "notice.urgent": "紧急",
    "unit.people": "人",
    "unit.orgs": "个",
    "unit.points": "分",
    "error.unknown_org": "未找到组织",
    "error.no_data": "数据库中还没有组织。请先运行 python -m dashboard seed。",
}

EN: dict[str, str] = {
    "app.title": "Lianxin · Party Building Command Centre",
    "app.subtitle": "Party Building Command Centre",
    "conn.connecting": "Connecting",
    "conn.live": "Live",
    "conn.reconnecting": "Reconnecting",
    "conn.stale": "Stale",
    "conn.static": "Static",
    "kpi.members": "Members",
    "kpi.organisations": "Organisations",
    "kpi.branches": "Branches",
    "kpi.active_today": "Active today",
    "kpi.active_15m": "Active, 15 min",
    "kpi.events_today": "Activities today",
    "kpi.events_per_min": "Activities / min",
    "kpi.study_points_today": "Study points today",
    "kpi.three_meetings": "Three meetings & a lecture",
    "kpi.themed_day": "Themed party day",
    "kpi.dues_rate": "Dues collected",
    "kpi.transfers_in_flight": "Transfers in flight",
    "kpi.transfers_overdue": "Transfers overdue",
    "kpi.lost_contact": "Out of contact",
    "panel.map": "Activity map",
    "panel.topology": "Organisation topology",
    "panel.structure": "Membership",
    "panel.gender": "Gender",
    "panel.age": "Age",
    "panel.education": "Education",
    "panel.occupation": "Occupation",
    "panel.ethnicity": "Ethnicity",
    "panel.status": "Full / probationary",
    "panel.leaderboard": "Study points today",
    "panel.pipeline": "Recruitment",
    "panel.feed": "Live feed",
    "panel.alerts": "Alerts and notices",
    "panel.progress": "Organisational life",
    "feed.waiting": "Waiting for live data…",
    "alerts.none": "No alerts",
    "alerts.few_members": "Branches with fewer than 3 full members",
    "alerts.no_secretary": "Branches without a secretary",
    "alerts.no_meeting": "Branches with no meeting this period",
    "alerts.transfers_overdue": "Transfers overdue",
    "leaderboard.empty": "No study points yet today",
    "gender.M": "Men",
    "gender.F": "Women",
    "status.full": "Full members",
    "status.probationary": "Probationary",
    "ethnicity.han": "Han",
    "ethnicity.minority": "Minorities",
    "education.postgraduate": "Postgraduate",
    "education.bachelor": "Bachelor",
    "education.college": "College",
    "education.secondary": "Secondary",
    "education.primary_or_below": "Primary or below",
    "occupation.worker": "Workers",
    "occupation.farmer": "Farmers, herders, fishers",
    "occupation.professional": "Professionals",
    "occupation.manager": "Managers",
    "occupation.party_government": "Party & government staff",
    "occupation.student": "Students",
    "occupation.other": "Other",
    "occupation.retired": "Retired",
    "pipeline.applicant": "Applicants",
    "pipeline.activist": "Activists",
    "pipeline.development_target": "Development targets",
    "pipeline.probationary": "Probationary",
    "pipeline.full": "Full members",
    "event.study": "studied",
    "event.article_read": "read",
    "event.like": "liked",
    "event.comment": "commented",
    "event.share": "shared",
    "event.meeting_held": "held a meeting",
    "event.meeting_attended": "attended a meeting",
    "event.dues_paid": "paid dues",
    "event.volunteer": "volunteered",
    "event.transfer_requested": "transfer requested",
    "event.transfer_approved": "transfer approved",
    "event.transfer_rejected": "transfer rejected",
    "event.transfer_completed": "transfer completed",
    "event.recruit_applied": "applied to join",
    "event.recruit_activist": "became an activist",
    "event.recruit_development_target": "became a development target",
    "event.recruit_probationary": "admitted as probationary",
    "event.recruit_full": "became a full member",
    "event.login": "logged in",
    "notice.info": "Notice",
    "notice.warning": "Warning",
    "notice.urgent": "Urgent",
    "unit.people": "",
    "unit.orgs": "",
    "unit.points": "pts",
    "error.unknown_org": "Organisation not found",
    "error.no_data": "No organisation in the database yet. Run python -m dashboard seed first.",
}

CATALOGUES: dict[str, dict[str, str]] = {"zh": ZH, "en": EN}


def normalise_lang(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG) -> str:
    """The string for ``key`` in ``lang`` (falling back to Chinese, then the key)."""
    return CATALOGUES.get(lang, ZH).get(key) or ZH.get(key) or key


CLIENT_PREFIXES = ("event.", "notice.", "conn.", "alerts.", "unit.", "leaderboard.")


def client_labels(lang: str) -> dict[str, str]:
    """The strings the page's own scripts need (feed, alerts, connection state)."""
    return {k: t(k, lang) for k in ZH if k.startswith(CLIENT_PREFIXES)}


def fmt_count(n: float | int | None, lang: str = DEFAULT_LANG) -> str:
    """A count as a person reads it: 1,234,567 in English, 123.5万 in Chinese for large numbers."""
    if n is None:
        return "—"
    if lang == "zh" and abs(n) >= 100_000:
        if abs(n) >= 100_000_000:
            return f"{n / 100_000_000:.2f}亿"
        return f"{n / 10_000:.1f}万"
    return f"{int(round(n)):,}"


def fmt_percent(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"
