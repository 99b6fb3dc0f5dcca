"""The event catalogue: every activity Lianxin takes in, as pydantic v2 models.

An event on the wire::

    {"id": "optional idempotency key, ≤64 chars", "type": "study",
     "ts": "2026-11-27T09:30:00+08:00", "org": "ORG-CODE", "member": "M-CODE",
     "data": {"points": 5, "minutes": 20, "title": "..."}}

``EventIn`` checks the envelope; ``DATA_MODELS`` checks ``data`` per type.
``StoredEvent`` is what the store hands to the bus once it is durable: the
org and member resolved to their integer ids, the time in epoch milliseconds.
See docs/events.md for an example of each type.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]

MAX_EVENT_ID_LENGTH = 64
EARLIEST_TS = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
ISO_HINT = "use ISO 8601 with an offset, e.g. 2026-11-27T09:30:00+08:00"


def _iso_8601_with_offset(value: Any) -> Any:
    """``ts`` as the docs define it: an ISO 8601 string with a UTC offset, from 2000 on — no epoch numbers."""
    if value is None or isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date-time; {ISO_HINT}")
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise ValueError(f"{shown!r} is not a date-time; {ISO_HINT}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"ts needs a UTC offset, e.g. 2026-11-27T09:30:00+08:00 (got {value!r})")
    if parsed < EARLIEST_TS:
        raise ValueError(f"ts {parsed.isoformat()} is before 2000-01-01T00:00:00Z, the earliest time taken")
    return parsed


Timestamp = Annotated[dt.datetime, BeforeValidator(_iso_8601_with_offset)]
# Numbers are JSON numbers: no true/false, no "5" (pydantic's strict mode; a float still takes 3).
WholeNumber = Annotated[int, Field(strict=True)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class EventType(str, enum.Enum):
    study = "study"
    article_read = "article_read"
    like = "like"
    comment = "comment"
    share = "share"
    meeting_held = "meeting_held"
    meeting_attended = "meeting_attended"
    dues_paid = "dues_paid"
    volunteer = "volunteer"
    transfer_requested = "transfer_requested"
    transfer_approved = "transfer_approved"
    transfer_rejected = "transfer_rejected"
    transfer_completed = "transfer_completed"
    recruit_applied = "recruit_applied"
    recruit_activist = "recruit_activist"
    recruit_development_target = "recruit_development_target"
    recruit_probationary = "recruit_probationary"
    recruit_full = "recruit_full"
    login = "login"
    notice = "notice"


class MeetingKind(str, enum.Enum):
    """三会一课, 主题党日 and 组织生活会."""

    branch_general = "branch_general"  # 支部党员大会, quarterly
    branch_committee = "branch_committee"  # 支部委员会, monthly
    group = "group"  # 党小组会, monthly
    party_lecture = "party_lecture"  # 党课, quarterly
    themed_day = "themed_day"  # 主题党日, monthly
    life_meeting = "life_meeting"  # 组织生活会, yearly


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StudyData(_Data):
    points: WholeNumber = Field(ge=0, le=1000)
    minutes: WholeNumber = Field(default=0, ge=0, le=1440)
    title: Title


class ArticleReadData(_Data):
    title: Title
    article: Code | None = None


class InteractionData(_Data):
    """like / comment / share of an article or post."""

    title: Title | None = None
    article: Code | None = None


class MeetingHeldData(_Data):
    kind: MeetingKind
    attendees: WholeNumber = Field(ge=0, le=100_000)
    title: Title | None = None


class MeetingAttendedData(_Data):
    kind: MeetingKind
    meeting: Code | None = None


class DuesPaidData(_Data):
    amount: Number = Field(gt=0, le=1_000_000)
    month: Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class VolunteerData(_Data):
    hours: Number = Field(gt=0, le=24)
    title: Title | None = None


class TransferData(_Data):
    """组织关系转接: one transfer moves through requested → approved → completed (or rejected)."""

    transfer: Code
    from_org: Code
    to_org: Code
    reason: Title | None = None


class RecruitData(_Data):
    """A recruitment step; ``name`` is only for a new applicant not yet on the roll."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None


class LoginData(_Data):
    device: Annotated[str, StringConstraints(max_length=40)] | None = None


class NoticeLevel(str, enum.Enum):
    info = "info"
    warning = "warning"
    urgent = "urgent"


class NoticeData(_Data):
    """A message to every screen in the organisation's subtree, shown until it expires."""

    title: Title
    level: NoticeLevel = NoticeLevel.info
    body: Annotated[str, StringConstraints(max_length=1000)] | None = None
    ttl_s: WholeNumber = Field(default=3600, ge=10, le=30 * 86400)


DATA_MODELS: dict[EventType, type[_Data]] = {
    EventType.study: StudyData,
    EventType.article_read: ArticleReadData,
    EventType.like: InteractionData,
    EventType.comment: InteractionData,
    EventType.share: InteractionData,
    EventType.meeting_held: MeetingHeldData,
    EventType.meeting_attended: MeetingAttendedData,
    EventType.dues_paid: DuesPaidData,
    EventType.volunteer: VolunteerData,
    EventType.transfer_requested: TransferData,
    EventType.transfer_approved: TransferData,
    EventType.transfer_rejected: TransferData,
    EventType.transfer_completed: TransferData,
    EventType.recruit_applied: RecruitData,
    EventType.recruit_activist: RecruitData,
    EventType.recruit_development_target: RecruitData,
    EventType.recruit_probationary: RecruitData,
    EventType.recruit_full: RecruitData,
    EventType.login: LoginData,
    EventType.notice: NoticeData,
}

# Types that are about one person: the member field is required.
MEMBER_REQUIRED: frozenset[EventType] = frozenset(
    {
        EventType.study,
        EventType.article_read,
        EventType.meeting_attended,
        EventType.dues_paid,
        EventType.volunteer,
        EventType.transfer_requested,
        EventType.transfer_approved,
        EventType.transfer_rejected,
        EventType.transfer_completed,
        EventType.recruit_activist,
        EventType.recruit_development_target,
        EventType.recruit_probationary,
        EventType.recruit_full,
        EventType.login,
    }
)

RECRUITMENT_STEPS: tuple[EventType, ...] = (
    EventType.recruit_applied,
    EventType.recruit_activist,
    EventType.recruit_development_target,
    EventType.recruit_probationary,
    EventType.recruit_full,
)


class EventIn(BaseModel):
    """The envelope of one event as a producer sends it (before ``data`` is checked)."""

    model_config = ConfigDict(extra="forbid")

    id: Code | None = None
    type: EventType
    ts: Timestamp | None = None
    org: Code
    member: Code | None = None
    data: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event after it is durably stored: what the bus carries to consumers."""

    seq: int
    event_id: str
    type: str
    ts_ms: int
    org_id: int
    member_id: int | None
    data: dict[str, Any] = field(default_factory=dict)

