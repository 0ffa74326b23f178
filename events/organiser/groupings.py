"""The catalogue's groupings as organisers keep them: topics, partners, series, campaigns.

Topics shape the public site (its topic pages and feeds), so only admins create or change
them; any organiser may manage series, campaigns and partners. ``by`` is the organiser
acting (None: the command line or demo data); their change is written to the audit log.
Each grouping has one validator, shared by its create and its update.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.audit import service as audit
from events.audit.service import Actor
from events.catalog.errors import PartnerNotFound
from events.catalog.models import Campaign, Partner, Series, Topic
from events.catalog.slugs import slugify, unique_slug
from events.clock import Clock
from events.errors import Forbidden, InvalidInput
from events.organiser.models import Organiser


def _valid_url(url: str) -> bool:
    return not url or re.match(r"^https?://[^\s/]+\.[^\s]+$", url) is not None


def _admin_only(by: Organiser | None) -> None:
    if by is not None and not by.is_admin:
        raise Forbidden("Only admins can create or change topics.")


def _refuse(errors: dict[str, str]) -> None:
    if errors:
        raise InvalidInput(errors)


def topic_values(
    *,
    name: str,
    summary: str = "",
    description: str = "",
    advice: str = "",
    featured: bool = False,
    sort_order: int = 0,
) -> dict[str, Any]:
    """A topic's fields, checked; InvalidInput names each that is wrong."""
    name = name.strip()
    _refuse({"name": "Enter the topic's name."} if not name else {})
    return {
        "name": name,
        "summary": summary,
        "description": description,
        "advice": advice,
        "featured": featured,
        "sort_order": sort_order,
    }


def partner_values(*, name: str, url: str = "", description: str = "") -> dict[str, Any]:
    errors: dict[str, str] = {}
    name, url = name.strip(), url.strip()
    if not name:
        errors["name"] = "Enter the organisation's name."
    if not _valid_url(url):
        errors["url"] = "Enter a web address starting https://, or leave it blank."
    _refuse(errors)
    return {"name": name, "url": url, "description": description}


def series_values(*, title: str, summary: str = "", description: str = "") -> dict[str, Any]:
    title = title.strip()
    _refuse({"title": "Enter the series title."} if not title else {})
    return {"title": title, "summary": summary, "description": description}


def campaign_values(
    *,
    title: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None = None,
    summary: str = "",
    description: str = "",
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Enter the campaign title."
    if starts_on is None:
        errors["starts_on"] = "Enter the day the campaign starts."
    elif ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = "The campaign must end on or after the day it starts."
    _refuse(errors)
    return {
        "title": title.strip(),
        "summary": summary,
        "description": description,
        "starts_on": starts_on,
        "ends_on": ends_on or starts_on,
    }


async def _log(
    session: AsyncSession,
    clock: Clock,
    by: Organiser | None,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    slug: str = "",
) -> None:
    old, new = audit.changes(before, after)
    if by is not None and new:
        if slug:  # which row: the log has no column for topics, series and the like
            old, new = {"slug": slug, **old}, {"slug": slug, **new}
        await audit.record(session, clock, Actor.of(by), action, before=old, after=new)


def _assign(row: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Set ``values`` on ``row``; returns what they were."""
    before = {key: getattr(row, key) for key in values}
    for key, value in values.items():
        setattr(row, key, value)
    return before


async def create_topic(
    session: AsyncSession,
    clock: Clock,
    *,
    name: str,
    slug: str | None = None,
    by: Organiser | None = None,
    **fields: Any,
) -> Topic:
    _admin_only(by)
    values = topic_values(name=name, **fields)
    topic = Topic(slug=await unique_slug(session, Topic, slug or slugify(values["name"])), **values)
    session.add(topic)
    await session.flush()
    await _log(session, clock, by, "topic.created", {}, {"topic": topic.slug, "name": topic.name})
    return topic


async def update_topic(
    session: AsyncSession,
    clock: Clock,
    *,
    topic: Topic,
    name: str,
    by: Organiser | None = None,
    **fields: Any,
) -> Topic:
    """Change a topic; its web address stays the same so links and feeds keep working."""
    _admin_only(by)
    values = topic_values(name=name, **fields)
    before = _assign(topic, values)
    await session.flush()
    await _log(session, clock, by, "topic.updated", before, values, slug=topic.slug)
    return topic


async def create_partner(
    session: AsyncSession,
    clock: Clock,
    *,
    name: str,
    by: Organiser | None = None,
    **fields: Any,
) -> Partner:
    values = partner_values(name=name, **fields)
    partner = Partner(slug=await unique_slug(session, Partner, slugify(values["name"])), **values)
    session.add(partner)
    await session.flush()
    await _log(session, clock, by, "partner.created", {}, {"partner": partner.slug})
    return partner


async def update_partner(
    session: AsyncSession,
    clock: Clock,
    *,
    partner: Partner,
    name: str,
    by: Organiser | None = None,
    **fields: Any,
) -> Partner:
    values = partner_values(name=name, **fields)
    before = _assign(partner, values)
    await session.flush()
    await _log(session, clock, by, "partner.updated", before, values, slug=partner.slug)
    return partner


async def create_series(
    session: AsyncSession,
    clock: Clock,
    *,
    title: str,
    partners: Sequence[Partner] = (),
    slug: str | None = None,
    by: Organiser | None = None,
    **fields: Any,
) -> Series:
    values = series_values(title=title, **fields)
    series = Series(
        slug=await unique_slug(session, Series, slug or slugify(values["title"])),
        partners=list(partners),
        **values,
    )
    session.add(series)
    await session.flush()
    await _log(session, clock, by, "series.created", {}, {"series": series.slug})
    return series


async def update_series(
    session: AsyncSession,
    clock: Clock,
    *,
    series: Series,
    title: str,
    partners: Sequence[Partner] = (),
    by: Organiser | None = None,
    **fields: Any,
) -> Series:
    """Change a series (``series.partners`` must be loaded)."""
    values = series_values(title=title, **fields)
    before = {**_assign(series, values), "partners": sorted(p.slug for p in series.partners)}
    series.partners = list(partners)
    after = {**values, "partners": sorted(p.slug for p in partners)}
    await session.flush()
    await _log(session, clock, by, "series.updated", before, after, slug=series.slug)
    return series


async def create_campaign(
    session: AsyncSession,
    clock: Clock,
    *,
    title: str,
    starts_on: dt.date,
    slug: str | None = None,
    by: Organiser | None = None,
    **fields: Any,
) -> Campaign:
    values = campaign_values(title=title, starts_on=starts_on, **fields)
    campaign = Campaign(
        slug=await unique_slug(session, Campaign, slug or slugify(values["title"])), **values
    )
    session.add(campaign)
    await session.flush()
    await _log(session, clock, by, "campaign.created", {}, {"campaign": campaign.slug})
    return campaign


async def update_campaign(
    session: AsyncSession,
    clock: Clock,
    *,
    campaign: Campaign,
    title: str,
    starts_on: dt.date,
    by: Organiser | None = None,
    **fields: Any,
) -> Campaign:
    values = campaign_values(title=title, starts_on=starts_on, **fields)
    before = _assign(campaign, values)
    await session.flush()
    await _log(session, clock, by, "campaign.updated", before, values, slug=campaign.slug)
    return campaign


async def partners(session: AsyncSession) -> Sequence[Partner]:
    return (await session.execute(select(Partner).order_by(Partner.name))).scalars().all()


async def partner_by_slug(session: AsyncSession, slug: str) -> Partner:
    found = (
        await session.execute(select(Partner).where(Partner.slug == slug))
    ).scalar_one_or_none()
    if found is None:
        raise PartnerNotFound()
    return found


async def partners_by_slug(session: AsyncSession, slugs: Sequence[str]) -> list[Partner]:
    if not slugs:
        return []
    found = list((await session.execute(select(Partner).where(Partner.slug.in_(slugs)))).scalars())
    if len(found) != len(set(slugs)):
        raise InvalidInput({"partners": "Choose partner organisations from the list."})
    return sorted(found, key=lambda p: p.name)
