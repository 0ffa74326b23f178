"""iCalendar objects (RFC 5545) and iTIP invites (RFC 5546), built with ``icalendar``.

A pure leaf: events and plain values in, bytes out; no session, no I/O, no clock (the
caller passes every instant). Serialised per event, so a feed is the concatenation of
VEVENTs that the caller may keep between requests (see ``calendar/service.py``).

Time zones: an event's times are written with ``TZID`` and a ``VTIMEZONE`` generated here
from the zone's ``zoneinfo`` transitions, as one yearly ``RRULE`` each way (the form Google
Calendar writes and Outlook reads; Outlook ignores ``RDATE`` and some parsers keep only the
first date of a list). A zone whose transitions one yearly rule cannot describe in the
event's year is written in UTC instead, which every client reads right.

Privacy: ``vevent(..., joining_url=None)`` is the public form. Only the private feed and
invites pass a registrant's personal joining link; the platform's own link
(``Event.joining_url``) is never read here. Even then it is written only where
``offers_joining`` holds (an online or hybrid event that is on), in the description, the
location of an online event and an RFC 7986 ``CONFERENCE`` property.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
    vUri,
)
from icalendar import Event as VEvent

from events.catalog.models import Event, EventFormat, EventStatus
from events.config import SITE_NAME
from events.kit.addresses import UnusableAddress, mailto
from events.kit.markdown import markdown_text

PRODID = "-//National Education Union//events//EN"
# The zone rule is read around this year, then checked year by year both ways.
PIVOT_YEAR = 2026
FIRST_YEAR, LAST_YEAR = 1970, 2100
DEFAULT_REFRESH = dt.timedelta(hours=1)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_UTC = dt.UTC

Method = Literal["REQUEST", "CANCEL"]


@dataclass(frozen=True)
class EventView:
    """Plain values for one event; ``from_event`` adapts a catalogue ``Event`` row."""

    uid: str
    slug: str
    title: str
    summary: str
    description: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str
    all_day: bool
    venue_name: str
    venue_address: str
    town: str
    postcode: str
    organiser_name: str
    organiser_email: str
    ical_sequence: int
    updated_at: dt.datetime
    cancelled: bool
    online: bool
    # In person and online at once: its places come with a personal joining link too.
    hybrid: bool = False

    @classmethod
    def from_event(cls, event: Event) -> EventView:
        return cls(
            uid=event.uid,
            slug=event.slug,
            title=event.title,
            summary=event.summary,
            description=event.description,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            timezone=event.timezone,
            all_day=event.all_day,
            venue_name=event.venue_name,
            venue_address=event.venue_address,
            town=event.town,
            postcode=event.postcode,
            organiser_name=event.organiser_name,
            organiser_email=event.organiser_email,
            ical_sequence=event.ical_sequence,
            updated_at=event.updated_at,
            cancelled=event.status == EventStatus.cancelled,
            online=event.format == EventFormat.online,
            hybrid=event.format == EventFormat.hybrid,
        )


# ------------------------------------------------------------------------------ text


def clean_text(value: str) -> str:
    """One newline convention and no control characters: icalendar then escapes ``\\n``,
    commas, semicolons and backslashes, so no text can start a property of its own."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def about_text(event: EventView) -> list[str]:
    """The event's summary (plain text, at most one blank line in a row) and its description
    (Markdown, read as plain text: ``kit/markdown.py``), leaving out the empty ones."""
    summary = _BLANK_RUNS.sub("\n\n", clean_text(event.summary)).strip()
    description = markdown_text(clean_text(event.description))
    return [text for text in (summary, description) if text.strip()]


def param_text(value: str) -> str:
    """A person's name for a ``CN`` parameter: one line, and no character that needs RFC
    6868 caret encoding, which Outlook shows as written (``^'`` for a double quote).
    Straight double quotes become curly ones (opening after a space or at the start,
    closing elsewhere) and a caret a modifier circumflex; ``icalendar`` quotes a value with
    commas, semicolons or colons, which every client reads."""
    flat = clean_text(value).replace("\n", " ").replace("\t", " ").replace("^", "\u02c6")
    out = []
    for index, char in enumerate(flat):
        if char == '"':
            opening = index == 0 or flat[index - 1] in " ([{\u2018"
            char = "\u201c" if opening else "\u201d"
        out.append(char)
    return "".join(out).strip()


def calendar_name(value: str) -> str:
    """A name for ``NAME`` and ``X-WR-CALNAME``: one line, without commas or semicolons
    (clients disagree on how those are escaped there)."""
    flat = re.sub(r"\s+", " ", clean_text(value).replace(",", " ").replace(";", " "))
    return flat.strip() or SITE_NAME


def calendar_title(site: str, subject: str = "") -> str:
    """What a calendar is called in people's calendar apps: the site's name ("Union
    events"), then what it holds: "Union events: SEND" for a topic feed, the series', the
    campaign's or the event's title for theirs."""
    site = site.strip() or SITE_NAME
    subject = subject.strip()
    return f"{site}: {subject}" if subject else site


def private_calendar_title(site: str) -> str:
    """The name of a registrant's private feed: "My union events" (a first word written
    as a name, like "Union", is lower-cased after "My"; "NEU events" stays as it is)."""
    site = site.strip() or SITE_NAME
    first, _space, rest = site.partition(" ")
    if first[:1].isupper() and first[1:].islower():
        first = first.lower()
    return " ".join(filter(None, ["My", first, rest]))


# ------------------------------------------------------------------------ time zones


@dataclass(frozen=True)
class Onset:
    """One yearly change: from ``offset_from`` to ``offset_to`` on the ``byday`` weekday of
    ``month`` at ``local_time`` (wall clock before the change)."""

    month: int
    byday: str  # "-1SU", "2SU" ...
    local_time: dt.time
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str


@dataclass(frozen=True)
class ZoneRule:
    zone: str
    standard: Onset
    daylight: Onset | None
    first_year: int
    last_year: int

    def covers(self, moment: dt.datetime) -> bool:
        if self.daylight is None:
            return moment.astimezone(ZoneInfo(self.zone)).utcoffset() == self.standard.offset_to
        return self.first_year <= moment.astimezone(ZoneInfo(self.zone)).year <= self.last_year


_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _transitions(zone: str, year: int) -> list[tuple[dt.datetime, dt.timedelta, dt.timedelta]]:
    """(instant in UTC, offset before, offset after) of each change of offset in ``year``."""
    tz = ZoneInfo(zone)
    found = []
    start = dt.datetime(year, 1, 1, tzinfo=_UTC) - dt.timedelta(days=1)
    previous = start
    before = previous.astimezone(tz).utcoffset()
    for day in range(1, 369):
        moment = start + dt.timedelta(days=day)
        after = moment.astimezone(tz).utcoffset()
        if after != before:
            # Bisect on whole seconds: changes fall on whole minutes.
            low, high = int(previous.timestamp()), int(moment.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if dt.datetime.fromtimestamp(middle, _UTC).astimezone(tz).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            change = dt.datetime.fromtimestamp(high, _UTC)
            if change.astimezone(tz).year == year and before is not None and after is not None:
                found.append((change, before, after))
            before = after
        previous = moment
    return found


def _onset(zone: str, instant: dt.datetime, before: dt.timedelta, after: dt.timedelta) -> Onset:
    local = (instant + before).replace(tzinfo=None)
    last_day = pycalendar.monthrange(local.year, local.month)[1]
    weekday = _DAYS[local.weekday()]
    byday = f"-1{weekday}" if local.day + 7 > last_day else f"{(local.day - 1) // 7 + 1}{weekday}"
    name = (instant + dt.timedelta(seconds=1)).astimezone(ZoneInfo(zone)).tzname() or ""
    return Onset(local.month, byday, local.time(), before, after, name)


def _year_matches(zone: str, year: int, onsets: Sequence[Onset]) -> bool:
    actual = _transitions(zone, year)
    if len(actual) != len(onsets):
        return False
    expected = {(o.month, o.byday, o.local_time, o.offset_from, o.offset_to) for o in onsets}
    found = set()
    for instant, before, after in actual:
        onset = _onset(zone, instant, before, after)
        found.add((onset.month, onset.byday, onset.local_time, before, after))
    return found == expected


@lru_cache(maxsize=64)
def zone_rule(zone: str) -> ZoneRule:
    """The zone's current yearly rule and the years it holds for."""
    changes = _transitions(zone, PIVOT_YEAR)
    tz = ZoneInfo(zone)
    if len(changes) != 2:
        offset = dt.datetime(PIVOT_YEAR, 1, 1, tzinfo=_UTC).astimezone(tz).utcoffset()
        assert offset is not None
        name = dt.datetime(PIVOT_YEAR, 1, 1, tzinfo=_UTC).astimezone(tz).tzname() or ""
        fixed = Onset(1, "", dt.time(0), offset, offset, name)
        return ZoneRule(zone, fixed, None, FIRST_YEAR, LAST_YEAR)
    onsets = [_onset(zone, *change) for change in changes]
    # Daylight is the onset that moves the clocks forward (for Europe/Dublin's negative
    # "winter time" too, the forward change is what clients call daylight).
    forward = max(onsets, key=lambda o: o.offset_to - o.offset_from)
    backward = next(o for o in onsets if o is not forward)
    first = PIVOT_YEAR
    while first > FIRST_YEAR and _year_matches(zone, first - 1, onsets):
        first -= 1
    last = PIVOT_YEAR
    while last < LAST_YEAR and _year_matches(zone, last + 1, onsets):
        last += 1
    return ZoneRule(zone, backward, forward, first, last)


def _first_date(year: int, onset: Onset) -> dt.datetime:
    weekday = _DAYS.index(onset.byday[-2:])
    ordinal = int(onset.byday[:-2])
    days = [
        d
        for d in range(1, pycalendar.monthrange(year, onset.month)[1] + 1)
        if dt.date(year, onset.month, d).weekday() == weekday
    ]
    return dt.datetime.combine(
        dt.date(year, onset.month, days[ordinal - 1 if ordinal > 0 else -1]), onset.local_time
    )


def _zone_component(
    rule: ZoneRule, onset: Onset, daylight: bool
) -> TimezoneStandard | TimezoneDaylight:
    part: TimezoneStandard | TimezoneDaylight = (
        TimezoneDaylight() if daylight else TimezoneStandard()
    )
    if onset.byday:
        part.add("dtstart", _first_date(rule.first_year, onset))
        part.add("rrule", {"freq": "yearly", "bymonth": onset.month, "byday": onset.byday})
    else:
        # Floating local time, as RFC 5545 requires of a VTIMEZONE DTSTART.
        part.add("dtstart", dt.datetime(FIRST_YEAR, 1, 1))  # noqa: DTZ001
    part.add("tzoffsetfrom", onset.offset_from)
    part.add("tzoffsetto", onset.offset_to)
    if onset.name:
        part.add("tzname", onset.name)
    return part


@lru_cache(maxsize=64)
def vtimezone(zone: str) -> bytes:
    """The zone's VTIMEZONE, one yearly RRULE each way (or one fixed STANDARD)."""
    rule = zone_rule(zone)
    component = Timezone()
    component.add("tzid", zone)
    component.add_component(_zone_component(rule, rule.standard, daylight=False))
    if rule.daylight is not None:
        component.add_component(_zone_component(rule, rule.daylight, daylight=True))
    return bytes(component.to_ical())


# ---------------------------------------------------------------------------- events


def _local_date(moment: dt.datetime, zone: str) -> dt.date:
    return moment.astimezone(ZoneInfo(zone)).date()


def all_day_dates(event: EventView) -> tuple[dt.date, dt.date]:
    """An all-day event's first day and the day after its last one, in its own zone: the
    end is exclusive, as DTEND of a VALUE=DATE event (RFC 5545 3.6.1) and Google's and
    Outlook's add-to-calendar links take it. At least one day."""
    first = _local_date(event.starts_at, event.timezone)
    local_end = event.ends_at.astimezone(ZoneInfo(event.timezone))
    last = (
        local_end.date()
        if local_end.time() == dt.time(0)
        else local_end.date() + dt.timedelta(days=1)
    )
    return first, max(last, first + dt.timedelta(days=1))


def _add_times(component: VEvent, event: EventView) -> None:
    if event.all_day:
        first, after_last = all_day_dates(event)
        component.add("dtstart", first)
        component.add("dtend", after_last)
        return
    if uses_zone(event) is not None:
        tz = ZoneInfo(event.timezone)
        component.add("dtstart", event.starts_at.astimezone(tz))
        component.add("dtend", event.ends_at.astimezone(tz))
    else:
        component.add("dtstart", event.starts_at.astimezone(_UTC))
        component.add("dtend", event.ends_at.astimezone(_UTC))


def uses_zone(event: EventView) -> str | None:
    """The TZID the event's VEVENT refers to, if any (the feed adds its VTIMEZONE)."""
    if event.all_day:
        return None
    rule = zone_rule(event.timezone)
    if rule.daylight is None and not rule.standard.offset_to:
        return None  # UTC by another name: written with "Z"
    moments = (event.starts_at, event.ends_at)
    if all(rule.covers(m) and not _ambiguous(m, event.timezone) for m in moments):
        return event.timezone
    return None


def _ambiguous(moment: dt.datetime, zone: str) -> bool:
    """A wall time that happens twice (the hour repeated when clocks go back): a TZID time
    means the first, so such an instant is written in UTC."""
    local = moment.astimezone(ZoneInfo(zone))
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def _location(event: EventView) -> str:
    if event.online:
        return "Online"
    parts = [
        event.venue_name,
        event.venue_address,
        " ".join(filter(None, [event.town, event.postcode])),
    ]
    return ", ".join(clean_text(p).replace("\n", ", ") for p in parts if p.strip())


# ---------------------------------------------------------------------- joining link

CONFERENCE_LABEL = "Join online"


def offers_joining(event: EventView) -> bool:
    """Whether a registrant's copy of the event may carry their personal joining link: an
    online or hybrid event that is on (issue 13 item 7). The caller answers for the place
    being confirmed; an in-person event never carries one, whatever link it holds."""
    return (event.online or event.hybrid) and not event.cancelled


def _add_joining(component: VEvent, joining_url: str) -> None:
    """RFC 7986 ``CONFERENCE``: the personal joining link as a video call, which Apple
    Calendar, Thunderbird and others offer as a "Join" button."""
    component.add(
        "conference",
        vUri(joining_url),
        parameters={"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": CONFERENCE_LABEL},
    )


def _vevent(
    event: EventView,
    *,
    page_url: str,
    stamp: dt.datetime,
    sequence: int,
    joining_url: str | None,
    cancelled: bool,
    mark_cancelled: bool = False,
) -> VEvent:
    """The VEVENT both forms share. No management link ever goes in (a calendar is shared,
    forwarded and synced to other devices; the link that can cancel a place stays in the
    email body and the person's pages): only the public page and, for the registrant's own
    copies, the personal joining link.

    ``mark_cancelled`` (downloads and feeds): a cancelled event also says so in its title
    and stops showing as busy, since Outlook subscriptions ignore ``STATUS`` (an iTIP
    ``CANCEL`` removes the entry instead, and clients title it themselves)."""
    if not offers_joining(event) or cancelled:
        joining_url = None
    component = VEvent()
    component.add("uid", event.uid)
    component.add("dtstamp", stamp.astimezone(_UTC))
    component.add("sequence", sequence)
    _add_times(component, event)
    shown_cancelled = cancelled and mark_cancelled
    title = clean_text(event.title)
    component.add("summary", f"Cancelled: {title}" if shown_cancelled else title)
    lines = about_text(event)
    if shown_cancelled:
        lines.insert(0, "This event has been cancelled.")
    if joining_url:
        lines.insert(0, f"Join online (your personal link): {joining_url}")
    lines.append(f"Details: {page_url}")
    component.add("description", "\n\n".join(lines))
    location = _location(event)
    if joining_url and event.online:
        location = f"Online: {joining_url}"
    if location:
        component.add("location", location)
    if joining_url:
        _add_joining(component, joining_url)
    component.add("url", page_url)
    component.add("last-modified", event.updated_at.astimezone(_UTC))
    component.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    busy = not event.all_day and not shown_cancelled
    component.add("transp", "OPAQUE" if busy else "TRANSPARENT")
    return component


def vevent(
    event: EventView,
    *,
    page_url: str,
    joining_url: str | None = None,
) -> bytes:
    """One event as a VEVENT for a download or a feed. DTSTAMP is the event's last change,
    so the bytes depend only on the event (and can be kept until it changes). Public unless
    a personal ``joining_url`` is passed (private feed only). A cancelled event keeps
    ``STATUS:CANCELLED``, is titled "Cancelled: ..." and is free time."""
    component = _vevent(
        event,
        page_url=page_url,
        stamp=event.updated_at,
        sequence=event.ical_sequence,
        joining_url=joining_url,
        cancelled=event.cancelled,
        mark_cancelled=True,
    )
    return bytes(component.to_ical())


def _calendar_head(
    *, name: str | None, method: Method | None, refresh: dt.timedelta | None
) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method is not None:
        cal.add("method", method)
    else:
        cal.add("method", "PUBLISH")
    if name is not None:
        cal.calendar_name = calendar_name(name)  # NAME (RFC 7986) and X-WR-CALNAME
    if refresh is not None:
        cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(refresh))
    return cal


def _assemble(head: Calendar, zones: Iterable[str], parts: Iterable[bytes]) -> bytes:
    opening = bytes(head.to_ical())
    end = b"END:VCALENDAR\r\n"
    assert opening.endswith(end)
    body = [opening[: -len(end)]]
    body.extend(vtimezone(zone) for zone in sorted(set(zones)))
    body.extend(parts)
    body.append(end)
    return b"".join(body)


def feed(
    name: str,
    parts: Iterable[tuple[bytes, str | None]],
    *,
    refresh: dt.timedelta = DEFAULT_REFRESH,
) -> bytes:
    """A subscribable calendar from serialised VEVENTs, each with the zone it refers to."""
    items = list(parts)
    zones = [zone for _, zone in items if zone is not None]
    head = _calendar_head(name=name, method=None, refresh=refresh)
    return _assemble(head, zones, (part for part, _ in items))


def private_feed(name: str, parts: Iterable[tuple[bytes, str | None]], *, zone: str) -> bytes:
    """A registrant's own calendar (``/c/{token}.ics``). With no events left (every place
    cancelled, or the link's registration erased) it is still a valid calendar, which
    subscribed apps mirror by dropping the events they showed: it then holds the VTIMEZONE
    of ``zone`` (the app's own), because RFC 5545 3.6 wants at least one component in a
    VCALENDAR and strict readers refuse one without."""
    items = list(parts)
    if items:
        return feed(name, items)
    head = _calendar_head(name=name, method=None, refresh=DEFAULT_REFRESH)
    return _assemble(head, [zone], [])


def wrap(parts: Iterable[tuple[bytes, str | None]], *, name: str) -> bytes:
    """Serialised VEVENTs as a whole calendar (a download), named like a feed."""
    items = list(parts)
    zones = [zone for _, zone in items if zone is not None]
    head = _calendar_head(name=name, method=None, refresh=None)
    return _assemble(head, zones, (part for part, _ in items))


def download(event: EventView, *, page_url: str, site: str = SITE_NAME) -> bytes:
    """A single public event as a whole calendar (the ``.ics`` download), named
    "<site>: <event title>"."""
    part = (vevent(event, page_url=page_url), uses_zone(event))
    return wrap([part], name=calendar_title(site, event.title))


def _mailto(address: str) -> str:
    try:
        return mailto(address)
    except UnusableAddress:
        return f"mailto:{quote(address.strip(), safe='@')}"


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str


def invite(
    event: EventView,
    attendee: Attendee,
    method: Method,
    *,
    stamp: dt.datetime,
    page_url: str,
    joining_url: str | None,
    sequence: int | None = None,
) -> bytes:
    """An iTIP object for one registrant (RFC 5546): ``REQUEST`` for a confirmed place (or
    its update: same UID, the event's higher SEQUENCE), ``CANCEL`` when the event or the
    place is cancelled. ``sequence`` defaults to the event's; a cancelled place of an event
    that goes on passes ``event.ical_sequence + 1``. ``joining_url`` is the registrant's
    personal link, never the platform's; the management link is never put in (it belongs
    in the email body)."""
    cancelled = method == "CANCEL"
    component = _vevent(
        event,
        page_url=page_url,
        stamp=stamp,
        sequence=event.ical_sequence if sequence is None else sequence,
        joining_url=None if cancelled else joining_url,
        cancelled=cancelled,
    )
    # mailto: URIs (RFC 6068): a UTF-8 mailbox name percent-encoded, the domain as IDNA
    # A-labels (events.kit.addresses.mailto says why).
    organizer = vCalAddress(_mailto(event.organiser_email or "events@localhost"))
    organizer.params["CN"] = param_text(event.organiser_name) or SITE_NAME
    component.add("organizer", organizer)
    address = vCalAddress(_mailto(attendee.email))
    address.params["CN"] = param_text(attendee.name)
    address.params["ROLE"] = "REQ-PARTICIPANT"
    address.params["PARTSTAT"] = "DECLINED" if cancelled else "ACCEPTED"
    address.params["RSVP"] = "FALSE"
    component.add("attendee", address)
    zone = uses_zone(event)
    head = _calendar_head(name=None, method=method, refresh=None)
    return _assemble(head, [zone] if zone else [], [bytes(component.to_ical())])
