"""Filing with the upper level (A4, G6, R1), shared by the processes that file.

The parent organisation's filing desk (``upper_receiver``) receives the filing; the root
organisation files with an authority outside the service, whose name and reference
number are recorded instead (DESIGN.md, Conventions). A ``file`` trigger routes on
:func:`has_upper_level` and refuses, at the root, with :func:`outside_authority_named`.
"""

from __future__ import annotations

from workflow.core.declare import Ctx, Field, Schema
from workflow.core.declare import Text as T

OUTSIDE_AUTHORITY = (
    Field("authority", "str", T("备案机关（仅最高一级组织）", "Filing authority (top level only)"),
          required=False),
    Field("reference", "str", T("备案文号（仅最高一级组织）", "Filing reference (top level only)"),
          required=False),
)
FILING = Schema(OUTSIDE_AUTHORITY)


def has_upper_level(ctx: Ctx) -> bool:
    """A4, G6: there is a parent organisation to file with (else the filing goes outside)."""
    return bool(ctx.data.get("_parent"))


def outside_authority_named(ctx: Ctx) -> T | None:
    """A4, G6 at the root: the filing goes to an authority outside the service, on record."""
    if ctx.data.get("_parent") or (ctx.payload.get("authority") and ctx.payload.get("reference")):
        return None
    return T("请填写备案机关和备案文号", "Name the authority and the filing reference")


def record_filing(ctx: Ctx) -> dict:
    """A4, G6: filed today with the parent, or with the outside authority named."""
    filing = {"on": ctx.today.isoformat(), "to": ctx.data.get("_parent")}
    filing |= {k: ctx.payload[k] for k in ("authority", "reference") if ctx.payload.get(k)}
    return {"filing": filing}


def record_filing_received(ctx: Ctx) -> dict:
    """A4, G6: the upper level's filing desk confirms receipt."""
    return {"filing": ctx.data["filing"] | {"received_by": ctx.actor,
                                            "received_on": ctx.today.isoformat()}}
