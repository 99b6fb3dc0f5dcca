"""The definitions every KPI is computed by, shared by the live aggregator and
the independent recomputation (dashboard/live/recompute.py).

Only names, thresholds and band edges live here — each side derives its
numbers from them in its own way, so a wrong calculation in one is caught by
the other. The meaning of each KPI is written down in docs/aggregates.md.
"""

from __future__ import annotations

from typing import Final

PIPELINE_STAGES: Final = ("applicant", "activist", "development_target", "probationary", "full")
PARTY_STAGES: Final = frozenset({"probationary", "full"})

GENDERS: Final = ("M", "F")

# (label, lowest age, highest age) — the bands of the national statistics bulletin;
# age is the current local year minus the birth year.
AGE_BANDS: Final = (
    ("≤30", 0, 30),
    ("31–35", 31, 35),
    ("36–40", 36, 40),
    ("41–45", 41, 45),
    ("46–50", 46, 50),
    ("51–55", 51, 55),
    ("56–60", 56, 60),
    ("≥61", 61, 1000),
)

# Spellings of the Han majority in the members table; every other value is a minority.
HAN_VALUES: Final = frozenset({"han", "Han", "汉", "汉族"})
ETHNICITY_GROUPS: Final = ("han", "minority")

SECRETARY_POST: Final = "secretary"

# 三会一课: what a branch must hold in each period. The 党小组会 is held by a branch's
# 党小组, so it is required only of a branch that has at least one (GROUP_MEETING, GROUP_KIND).
MONTHLY_MEETINGS: Final = ("branch_committee", "group")
GROUP_MEETING: Final = "group"
GROUP_KIND: Final = "group"
QUARTERLY_MEETINGS: Final = ("branch_general", "party_lecture")
THEMED_DAY: Final = "themed_day"
BRANCH_KIND: Final = "branch"

FEW_MEMBERS_BELOW: Final = 3  # a branch needs at least 3 full members
LOST_CONTACT_DAYS: Final = 180  # 失联: no activity on any of the last 180 local days
TRANSFER_OVERDUE_DAYS: Final = 30
ACTIVE_WINDOW_MINUTES: Final = 15  # active_15m: the current minute and the 14 before it
RATE_WINDOW_SECONDS: Final = 60  # events_per_min: the current second and the 59 before it
TREND_MINUTES: Final = 60  # events_trend: one count per minute, oldest first
TREND_DAYS: Final = 30  # events_daily: one count per local day, oldest first, today last
TOP_STUDY_LIMIT: Final = 10

# ``daily``: one series per name, TREND_DAYS counts per local day, oldest first, today (partial) last.
# Flows are counted by the event's organisation: study points, 三会一课 meetings held (the four
# kinds of THREE_MEETING_KINDS), themed days held, dues payments, transfers requested, new
# probationary members (recruit_probationary), probationary members made full (recruit_full).
# The marks are distinct per day: party members with any event that day (by their current
# organisation and stage, like active_today), organisations with an event of their own that day,
# branches with an event anywhere in them that day.
DAILY_FLOWS: Final = ("study_points", "meetings", "themed_days", "dues", "transfers", "joined", "became_full")
DAILY_MARKS: Final = ("active", "active_orgs", "active_branches")
DAILY_SERIES: Final = DAILY_FLOWS + DAILY_MARKS
THREE_MEETING_KINDS: Final = frozenset({"branch_general", "branch_committee", "group", "party_lecture"})
DAILY_FLOW_TYPES: Final = {"dues_paid": "dues", "transfer_requested": "transfers", "recruit_probationary": "joined", "recruit_full": "became_full"}

TRANSFER_TYPES: Final = frozenset(
    {"transfer_requested", "transfer_approved", "transfer_rejected", "transfer_completed"}
)
TRANSFER_CLOSING_TYPES: Final = frozenset({"transfer_rejected", "transfer_completed"})
RECRUIT_STAGE: Final = {
    "recruit_applied": "applicant",
    "recruit_activist": "activist",
    "recruit_development_target": "development_target",
    "recruit_probationary": "probationary",
    "recruit_full": "full",
}


def fraction(part: int, whole: int) -> float | None:
    """A share rounded for display; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None
