"""Tables. The case row is a projection of its events; events are never updated (AU1).

Times in rows are aware UTC datetimes (SQLModel stores them as UTC on both databases);
event times are the hashed ISO strings themselves.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: the largest id a row can have: a larger number names nothing
MAX_ID = 2**63 - 1


def as_id(text: object) -> int | None:
    """``text`` as a row id (ASCII digits, 1 to ``MAX_ID``), or None."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        return None
    return int(text) if 0 < int(text) <= MAX_ID else None


def _pk() -> Field:
    return Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))


class Org(SQLModel, table=True):
    """An organisation in the tree; ``path`` is ``/id/id/…/`` so a subtree is a prefix."""

    __tablename__ = "orgs"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    type: str = Field(default="branch", max_length=32)
    parent_id: int | None = Field(default=None, foreign_key="orgs.id", index=True)
    path: str = Field(default="/", max_length=1000, index=True)
    settings: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        sa.Index("ix_cases_org_state", "org_id", "state", "id"),
        sa.Index("ix_cases_org_id", "org_id", "id"),
        sa.Index("ix_cases_org_due", "org_id", "due_at", "id"),
        sa.Index("ix_cases_state_due", "state", "due_at"),
        sa.Index("ix_cases_kind_state", "kind", "state"),
    )
    id: int | None = _pk()
    kind: str = Field(max_length=64)
    def_version: int
    org_id: int = Field(foreign_key="orgs.id")
    code: str | None = Field(default=None, max_length=64, unique=True)
    title: str = Field(default="", max_length=500)
    state: str = Field(max_length=64)
    data: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))
    version: int = 0
    seq: int = 0
    head_hash: str = Field(default="", max_length=64)
    due_at: dt.datetime | None = None
    due_date: dt.date | None = None
    due_provisional: bool = False
    due_explain: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    assignee: str | None = Field(default=None, max_length=64, index=True)
    created_at: dt.datetime
    updated_at: dt.datetime


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (sa.UniqueConstraint("case_id", "seq", name="uq_events_case_seq"),)
    id: int | None = _pk()
    case_id: int = Field(sa_column=sa.Column(BigId, sa.ForeignKey("cases.id"), nullable=False))
    seq: int
    kind: str = Field(max_length=64)
    def_version: int
    org: str = Field(max_length=64, index=True)
    trigger: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str = Field(max_length=64)
    actor: str = Field(max_length=200)
    at: str = Field(max_length=32, index=True)
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    payload_digest: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Timer(SQLModel, table=True):
    __tablename__ = "timers"
    __table_args__ = (sa.Index("ix_timers_status_due", "status", "due_at"),)
    id: int | None = _pk()
    case_id: int = Field(sa_column=sa.Column(BigId, sa.ForeignKey("cases.id"), nullable=False,
                                             index=True))
    name: str = Field(max_length=64)
    trigger: str = Field(max_length=64)
    due_at: dt.datetime
    due_date: dt.date | None = None
    status: str = Field(default="pending", max_length=16)
    provisional: bool = False
    started_seq: int
    fired_seq: int | None = None
    basis: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))
    note: str | None = Field(default=None, max_length=500)


class Checkpoint(SQLModel, table=True):
    """One organisation's checkpoint (AU3): its own case heads and ledger head, chained to
    its previous checkpoint and signed with its key. ``seq`` is global (one counter for all
    organisations); ``org`` NULL marks the single global chain written before per-
    organisation checkpoints (still verified as one chain)."""

    __tablename__ = "checkpoints"
    id: int | None = _pk()
    seq: int = Field(unique=True)
    at: str = Field(max_length=32)
    heads: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    heads_digest: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    org: str | None = Field(default=None, max_length=64, index=True)
    key_id: str | None = Field(default=None, max_length=16)
    signature: str | None = Field(default=None, max_length=128)


class CheckpointCopy(SQLModel, table=True):
    """The upper level's copy of a checkpoint, filed when it is written and countersigned
    with the upper level's key: its witness that history was not rewritten (AU3)."""

    __tablename__ = "checkpoint_copies"
    __table_args__ = (
        sa.UniqueConstraint("holder", "seq", name="uq_checkpoint_copies_holder_seq"),
    )
    id: int | None = _pk()
    holder: str = Field(max_length=64, index=True)
    org: str = Field(max_length=64, index=True)
    seq: int
    at: str = Field(max_length=32)
    heads: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    heads_digest: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    key_id: str | None = Field(default=None, max_length=16)
    signature: str | None = Field(default=None, max_length=128)
    witness_key_id: str | None = Field(default=None, max_length=16)
    witness_signature: str | None = Field(default=None, max_length=128)


class LedgerEvent(SQLModel, table=True):
    """An event of an organisation's own ledger stream (key changes): the engine's
    ``ledger`` kind, hash-chained exactly like a case's events with ``case_id`` null."""

    __tablename__ = "ledger_events"
    __table_args__ = (sa.UniqueConstraint("org", "seq", name="uq_ledger_events_org_seq"),)
    id: int | None = _pk()
    org: str = Field(max_length=64)
    seq: int
    kind: str = Field(max_length=64)
    def_version: int
    trigger: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str = Field(max_length=64)
    actor: str = Field(max_length=200)
    at: str = Field(max_length=32)
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    payload_digest: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class CalendarDay(SQLModel, table=True):
    """An imported official day (``org_id`` NULL) or an organisation's override."""

    __tablename__ = "calendar_days"
    __table_args__ = (sa.UniqueConstraint("org_id", "day", name="uq_calendar_org_day"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int | None = Field(default=None, foreign_key="orgs.id", index=True)
    day: dt.date = Field(index=True)
    workday: bool
    reason: str = Field(default="", max_length=200)


class Lock(SQLModel, table=True):
    """A lease: only the holder of ``clock`` fires timers (several web workers may run)."""

    __tablename__ = "locks"
    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(default="", max_length=200)
    expires_at: dt.datetime


class Definition(SQLModel, table=True):
    """Fingerprint of each process version ever run: a changed machine needs a new version."""

    __tablename__ = "definitions"
    kind: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    fingerprint: str = Field(max_length=64)
    recorded_at: dt.datetime


class User(SQLModel, table=True):
    """An officer, member or auditor; applicants and the public need no account."""

    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=100)
    password_hash: str = Field(default="", max_length=300)
    active: bool = True
    lang: str = Field(default="zh", max_length=8)
    created_at: dt.datetime
    #: bumped to end every web session of the user at once (logout, a new password, a
    #: revocation, disabling); a session carries the generation it was opened in
    session_gen: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False,
                                                           server_default="0"))


class Grant(SQLModel, table=True):
    """A role a person holds at one organisation (G15)."""

    __tablename__ = "grants"
    __table_args__ = (sa.UniqueConstraint("user_id", "org_id", "role", name="uq_grant"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    org_id: int = Field(foreign_key="orgs.id", index=True)
    role: str = Field(max_length=32)


class ApiToken(SQLModel, table=True):
    """Stored as a SHA-256 digest: a leaked database does not leak working tokens."""

    __tablename__ = "api_tokens"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    digest: str = Field(max_length=64, unique=True)
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class AccessCode(SQLModel, table=True):
    """The secret that, with the tracking code, opens a case to whoever started it."""

    __tablename__ = "access_codes"
    case_id: int = Field(sa_column=sa.Column(BigId, sa.ForeignKey("cases.id"), primary_key=True))
    digest: str = Field(max_length=300)
    created_at: dt.datetime


class Attachment(SQLModel, table=True):
    """An uploaded file: its bytes are in the file store under ``sha256``. ``event_seq`` is
    the event of ``case_id`` that took it into a payload (None until then: an upload that
    no event references is removed after a day)."""

    __tablename__ = "attachments"
    __table_args__ = (sa.Index("ix_attachments_unreferenced", "event_seq", "uploaded_at"),)
    id: int | None = _pk()
    case_id: int | None = Field(default=None, sa_column=sa.Column(
        BigId, sa.ForeignKey("cases.id"), nullable=True, index=True))
    sha256: str = Field(max_length=64, index=True)
    size: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    media_type: str = Field(max_length=100)
    name: str = Field(max_length=255)
    uploaded_by: str = Field(max_length=200)
    uploaded_at: dt.datetime
    event_seq: int | None = None
    field: str | None = Field(default=None, max_length=64)


class Receipt(SQLModel, table=True):
    """A receipt for something a person sent without an account (a comment, a
    registration): its number, the event that recorded it and the salted hash of the
    access code shown once, never the code itself."""

    __tablename__ = "receipts"
    id: int | None = _pk()
    case_id: int = Field(sa_column=sa.Column(BigId, sa.ForeignKey("cases.id"), nullable=False,
                                             index=True))
    number: str = Field(max_length=32, unique=True)
    seq: int | None = None
    digest: str = Field(max_length=300)
    created_at: dt.datetime


class SealedValue(SQLModel, table=True):
    """A personal value sealed for one case (an ID number, O4): AES-GCM ciphertext (nonce
    first, base64) bound to the case and to ``digest``, the keyed hash the event carries
    instead of the value (``workflow.people.sealed``)."""

    __tablename__ = "sealed_values"
    __table_args__ = (sa.UniqueConstraint("case_id", "digest"),)
    id: int | None = _pk()
    case_id: int = Field(sa_column=sa.Column(BigId, sa.ForeignKey("cases.id"), nullable=False))
    digest: str = Field(max_length=64)
    key_id: str = Field(max_length=16)
    sealed: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: dt.datetime


class NotifyCursor(SQLModel, table=True):
    """How far the notification dispatcher has read the event log (the outbox): the id of
    the last event it turned into messages, advanced in the same transaction as them."""

    __tablename__ = "notify_cursor"
    name: str = Field(primary_key=True, max_length=32)
    event_id: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    updated_at: dt.datetime


class NotifyMessage(SQLModel, table=True):
    """One message to one recipient over one channel. ``source`` names what caused it
    (``event:<id>``, ``alert:…``, ``digest:…``): the unique (source, recipient, channel)
    makes a second dispatch of the same event add nothing. ``params`` holds what the
    template needs and never an ID number or a phone; ``address`` is where it goes (an
    e-mail address or a webhook URL), empty for in-app."""

    __tablename__ = "notify_messages"
    __table_args__ = (
        sa.UniqueConstraint("source", "recipient", "channel", name="uq_notify_message"),
        sa.Index("ix_notify_messages_due", "status", "next_at"),
        sa.Index("ix_notify_messages_inbox", "recipient", "channel", "read_at"),
    )
    id: int | None = _pk()
    source: str = Field(max_length=80)
    recipient: str = Field(max_length=200)
    channel: str = Field(max_length=16)
    kind: str = Field(max_length=32)
    case_id: int | None = Field(default=None, sa_column=sa.Column(BigId, nullable=True))
    org: str = Field(default="", max_length=64)
    lang: str = Field(default="zh", max_length=8)
    urgent: bool = False
    params: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))
    address: str = Field(default="", max_length=1000)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_at: dt.datetime
    error: str | None = Field(default=None, max_length=500)
    created_at: dt.datetime
    sent_at: dt.datetime | None = None
    read_at: dt.datetime | None = None


class NotifyPreference(SQLModel, table=True):
    """A user's choices: channels per kind of message (JSON), a daily digest, an e-mail
    address and a webhook for work chat."""

    __tablename__ = "notify_preferences"
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    channels: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))
    digest: bool = False
    email: str = Field(default="", max_length=254)
    webhook: str = Field(default="", max_length=1000)
    webhook_secret: str = Field(default="", max_length=200)
    updated_at: dt.datetime


class Generation(SQLModel, table=True):
    """A value that database triggers replace (at random) with every change of a table
    (``orgs``: the organisation tree and its settings), so every process keeps what it
    read of that table until the value changes, whoever changed it (another worker, SQL)."""

    __tablename__ = "generations"
    name: str = Field(primary_key=True, max_length=64)
    n: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False))



class StatsCursor(SQLModel, table=True):
    """How far the statistics projection has read the event log (G14): the last event id
    it took, and the ids below it not yet seen (a transaction that had not committed
    then, on PostgreSQL), each with when it was first missed."""

    __tablename__ = "stats_cursor"
    name: str = Field(primary_key=True, max_length=32)
    position: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False))
    gaps: str = Field(default="[]", sa_column=sa.Column(sa.Text, nullable=False))


class StatsCase(SQLModel, table=True):
    """One case's facts for the statistics (G14): the marks its events gave the last time
    it was read, so that a new event changes the counters by the difference only."""

    __tablename__ = "stats_cases"
    case_id: int = Field(sa_column=sa.Column(BigId, sa.ForeignKey("cases.id"), primary_key=True))
    kind: str = Field(max_length=64)
    org_id: int = Field(foreign_key="orgs.id", index=True)
    seq: int
    marks: str = Field(default="[]", sa_column=sa.Column(sa.Text, nullable=False))


class StatsCount(SQLModel, table=True):
    """A counter of the statistics (G14): for one organisation alone (``subtree`` false)
    or with everything below it (true), one process, one day (``grain`` ``d``, period
    ``YYYY-MM-DD``) or month (``m``, ``YYYY-MM``), one figure, part and applicant kind;
    ``bucket`` is the working days of a days figure (0 otherwise). A period's figures are
    whole months plus the days at its edges."""

    __tablename__ = "stats_counts"
    org_id: int = Field(primary_key=True)
    subtree: bool = Field(primary_key=True)
    grain: str = Field(primary_key=True, max_length=1)
    kind: str = Field(primary_key=True, max_length=64)
    period: str = Field(primary_key=True, max_length=10)
    figure: str = Field(primary_key=True, max_length=64)
    part: str = Field(primary_key=True, max_length=64)
    who: str = Field(primary_key=True, max_length=16)
    bucket: int = Field(primary_key=True)
    n: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False))


# The tables as SQLAlchemy Core sees them, for queries: one name each, beside the models.
orgs, cases, events, timers = Org.__table__, Case.__table__, Event.__table__, Timer.__table__
checkpoints, copies = Checkpoint.__table__, CheckpointCopy.__table__
ledger_events, days, locks = LedgerEvent.__table__, CalendarDay.__table__, Lock.__table__
definitions = Definition.__table__
users, grants, tokens = User.__table__, Grant.__table__, ApiToken.__table__
access_codes, attachments = AccessCode.__table__, Attachment.__table__
receipts, sealed_values = Receipt.__table__, SealedValue.__table__
notify_cursor, notify_messages = NotifyCursor.__table__, NotifyMessage.__table__
notify_preferences = NotifyPreference.__table__


generations = Generation.__table__

stats_cursor, stats_cases = StatsCursor.__table__, StatsCase.__table__
stats_counts = StatsCount.__table__
