"""Demo data for ``events seed-demo`` and ``events serve --demo``.

It has the shape SPEC.md's seeds describe: a featured SEND topic with advice, a webinar
series on small group interventions run with nasen, a "SEND National Crisis" campaign day
with local events in every English region and Wales, and single webinars, meetings, a
training day and a conference for class teachers, SENCOs, specialist practitioners and
leaders in mainstream, special, alternative provision, early years and post-16 settings.

Everything goes through the services an organiser and a member use: events through the
catalogue and the lifecycle, places through registration (see "People and their places"),
so the pages, the console, exports and counts agree. Dates are counted from
``clock.now()`` and times are local wall-clock times in ``zone``, so the demo is alive
whenever it is loaded: a past event's registrations are made with a clock set before it.
People, contacts and joining links are fictional (example.org); the partner is real.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events import lifecycle
from events.audit.models import ActorKind
from events.audit.service import Actor
from events.catalog.fields import EventInput
from events.catalog.models import Event, EventFormat, EventKind, Partner, Topic
from events.catalog.slugs import slugify
from events.clock import Clock, FrozenClock
from events.kit.signing import Signer
from events.mail.models import OutboxMessage, OutboxStatus
from events.organiser import attendance, groupings
from events.registration import service as registration
from events.registration.errors import EventFull
from events.registration.messages import RegistrationMail
from events.registration.models import Registration, RegistrationStatus
from events.registration.schemas import RegistrationInput

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def _in_school_holidays(day: dt.date) -> bool:
    """Roughly the Christmas and summer holidays in England and Wales, when unions rarely
    run events: the demo keeps its events out of them."""
    month_day = (day.month, day.day)
    return month_day >= (12, 20) or month_day <= (1, 4) or (7, 23) <= month_day <= (8, 31)


@dataclass(frozen=True)
class _Calendar:
    """Local dates counted from the day the demo is loaded, and wall-clock times on them."""

    today: dt.date
    zone: ZoneInfo

    def day(self, days: int, weekday: int) -> dt.date:
        """The first ``weekday`` on or after ``days`` from today, in term time."""
        day = self.today + dt.timedelta(days=days)
        day += dt.timedelta(days=(weekday - day.weekday()) % 7)
        return self._term_time(day, forward=days >= 0)

    def step(self, day: dt.date, weeks: int) -> dt.date:
        """``weeks`` from ``day`` (back when negative), moved on further out of a holiday."""
        return self._term_time(day + dt.timedelta(weeks=weeks), forward=weeks >= 0)

    def _term_time(self, day: dt.date, *, forward: bool) -> dt.date:
        # Whole weeks, so the weekday stays; past dates move back so they stay past.
        while _in_school_holidays(day):
            day += dt.timedelta(weeks=1 if forward else -1)
        return day

    def at(self, day: dt.date, hhmm: str) -> dt.datetime:
        hour, minute = (int(part) for part in hhmm.split(":"))
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.zone).astimezone(dt.UTC)

    def span(self, day: dt.date, start: str, end: str) -> tuple[dt.datetime, dt.datetime]:
        return self.at(day, start), self.at(day, end)


# --- People and their places ----------------------------------------------------------------
#
# Places are taken, cancelled and marked attended through the services a member and an
# organiser use: ``registration.service.register`` (what the form calls), ``cancel`` with the
# management link from the member's own email, the waiting list promoting whoever is first
# when a place comes up, and ``organiser.attendance.set_attended`` (the console's attendance
# page). Nothing here writes ``places_left`` or a status, so the public pages, the console's
# counts, exports and the audit log agree, exactly as they would after a real term.

# Everyone is made up and lives at example.org (RFC 2606), which no relay delivers to.
DEMO_MAIL_DOMAIN = "example.org"
# The registration emails their places caused are kept, marked skipped with this reason, and
# never sent (``_quiet_mail``).
DEMO_MAIL_REASON = "not sent: demo data (made-up people at example.org)"
# Who marks attendance in the audit log (the demo has no organiser accounts).
DEMO_ORGANISER = Actor(ActorKind.organiser, label="Events team (demo data)")

_FIRST_NAMES = (
    "Aisha", "Ben", "Chloe", "Daniel", "Eilidh", "Farah", "George", "Hannah", "Imran",
    "Jess", "Kwame", "Laura", "Mohammed", "Niamh", "Oliver", "Priya", "Rhys", "Sophie",
    "Tom", "Uzma", "Victoria", "Wei", "Yasmin", "Zoe", "Amir", "Bethan", "Callum", "Deborah",
    "Emeka", "Fiona",
)  # fmt: skip
_LAST_NAMES = (
    "Ahmed", "Baker", "Campbell", "Davies", "Evans", "Fraser", "Green", "Hughes", "Iqbal",
    "Jones", "Khan", "Lewis", "Mensah", "Nowak", "O'Brien", "Patel", "Quinn", "Roberts",
    "Singh", "Taylor", "Thomas", "Walker", "Williams", "Wilson", "Wright", "Young", "Clarke",
    "Edwards", "Murphy", "Osei",
)  # fmt: skip
# Distinct (first, last) pairs for the first 900 numbers; the demo uses fewer.
_PEOPLE = 300
_ROLES = (
    "class_teacher", "senco", "support_staff", "class_teacher", "specialist_practitioner",
    "leader", "senco", "other",
)  # fmt: skip
_SETTINGS = (
    "mainstream", "mainstream", "special", "alternative_provision", "early_years", "post_16",
    "mainstream", "other",
)  # fmt: skip
_NEEDS: tuple[tuple[str, ...], ...] = (
    (), (), (), ("live_captions",), (), ("bsl",), (), ("step_free",), (), ("hearing_loop",),
    ("quiet_space",), (),
)  # fmt: skip


def _letters(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isascii() and ch.isalpha())


def _person(number: int) -> RegistrationInput:
    """The made-up member ``number`` (the same person each time: people come back)."""
    first = _FIRST_NAMES[number % len(_FIRST_NAMES)]
    last = _LAST_NAMES[(number + number // len(_FIRST_NAMES)) % len(_LAST_NAMES)]
    needs = _NEEDS[number % len(_NEEDS)]
    return RegistrationInput(
        name=f"{first} {last}",
        email=f"{_letters(first)}.{_letters(last)}@{DEMO_MAIL_DOMAIN}",
        membership_number=f"M{1_000_000 + number * 7919 % 9_000_000}",
        role=_ROLES[number % len(_ROLES)],
        setting=_SETTINGS[number // 3 % len(_SETTINGS)],
        access_requirements=needs,
        access_details="Slides a day ahead would help, please." if "bsl" in needs else "",
        consents=("privacy", "access_data") if needs else ("privacy",),
    )


@dataclass
class _Places:
    """Members registering for the demo's events, some cancelling, and organisers marking
    who came to the past ones."""

    session: AsyncSession
    clock: Clock
    # Demo places get secret links like any other, keyed with a throwaway key: their emails
    # are never sent (``_quiet_mail``), so nobody could ever use them, and loading the demo
    # needs no app secret.
    signer: Signer = field(default_factory=lambda: Signer(secrets.token_urlsafe(32)))
    organiser: Actor = DEMO_ORGANISER
    _next: int = 0

    async def take(
        self, event: Event, *, people: int, cancel: int = 0, attended: float = 0.0
    ) -> None:
        """``people`` register in turn (places while there are any, then the waiting list if
        the event has one; a full event without one turns the rest away), ``cancel`` of the
        early ones cancel later (a waiting person is promoted), and for a past event the
        organisers mark about ``attended`` of those with a place as having come."""
        past = event.ends_at <= self.clock.now()
        places: list[Registration] = []
        for index in range(people):
            data = _person((self._next + index) % _PEOPLE)
            try:
                outcome = await registration.register(
                    self.session,
                    self._when(event, index, people) if past else self.clock,
                    event_id=event.id,
                    data=data,
                    signer=self.signer,
                )
            except EventFull:
                break
            assert outcome.registration is not None
            places.append(outcome.registration)
        # The next event's people overlap this one's: members come back.
        self._next += max(people // 2, 1)
        for cancelling in places[2 : 2 + 5 * cancel : 5]:
            await registration.cancel(
                self.session,
                self._when(event, people, people) if past else self.clock,
                token=await self._manage_link(cancelling),
                signer=self.signer,
            )
        if past and attended:
            confirmed = (
                await self.session.scalars(
                    select(Registration.id)
                    .where(
                        Registration.event_id == event.id,
                        Registration.status == RegistrationStatus.confirmed,
                    )
                    .order_by(Registration.id)
                )
            ).all()
            came = [id_ for i, id_ in enumerate(confirmed) if (i * 7) % 20 < attended * 20]
            await attendance.set_attended(
                self.session,
                self.clock,
                event=event,
                registration_ids=came,
                attended=True,
                actor=self.organiser,
            )

    @staticmethod
    def _when(event: Event, index: int, people: int) -> Clock:
        """A past event's registrations arrive over the three weeks before it."""
        step = dt.timedelta(days=20) / max(people, 1)
        return FrozenClock(event.starts_at - dt.timedelta(days=21) + step * index)

    async def _manage_link(self, place: Registration) -> str:
        """The management token in the member's confirmation email, as they would click it."""
        payload = await self.session.scalar(
            select(OutboxMessage.payload).where(
                OutboxMessage.dedupe_key == f"registration:{place.id}:confirmed"
            )
        )
        assert payload is not None, "only confirmed places are cancelled in the demo"
        token: str = payload["manage_token"]
        return token


async def _quiet_mail(session: AsyncSession, events: Sequence[Event]) -> int:
    """Mark the demo's queued emails skipped, with the reason, and drop their link tokens.

    Hundreds of confirmations to made-up people would otherwise be "sent" by the worker
    (``events serve --demo`` runs one in the process) to the mail folder or a relay, burying
    the emails someone trying the demo actually causes. Skipped rather than never queued:
    registrations go through the real service, which queues its email in the same
    transaction, and an event's outgoing-mail page then shows what the demo's places caused."""
    secret = frozenset().union(*(model.secret_fields for model in RegistrationMail.models))
    rows = (
        await session.execute(
            select(OutboxMessage.id, OutboxMessage.payload).where(
                OutboxMessage.event_id.in_([event.id for event in events]),
                OutboxMessage.status == OutboxStatus.pending,
            )
        )
    ).all()
    if rows:
        await session.execute(
            update(OutboxMessage),
            [
                {
                    "id": id_,
                    "status": OutboxStatus.skipped,
                    "last_error": DEMO_MAIL_REASON,
                    "payload": {k: v for k, v in payload.items() if k not in secret},
                }
                for id_, payload in rows
            ],
        )
    return len(rows)


# --- Topics ------------------------------------------------------------------------------

SEND_DESCRIPTION = """\
More pupils than ever are identified with special educational needs and disabilities, while
high-needs funding, specialist places and local authority support services have not kept
pace. Staff are left to fill the gap, and pupils wait too long for the help they are owed.

### What we do

- Run **webinars** with partner organisations for class teachers, SENCOs, specialist
  practitioners, support staff and leaders.
- Organise **local campaign events** so that staff, parents and young people can press for
  properly funded support.
- Support **casework** through workplace reps when SEND workload, safety or adjustments
  become a problem.

### Who these events are for

Staff in mainstream and special schools, alternative provision, early years settings and
post-16 colleges. Most events are open to everyone; a few, such as reps' training, are for
members only and say so clearly.
"""

SEND_ADVICE = """\
### EHCPs and the support pupils are owed

- An education, health and care plan (EHCP) is a legal document. If the provision in a
  pupil's plan is not in place, note what is missing and raise it in writing with your SENCO
  or head teacher. A gap in provision is the employer's problem to solve, not your failure.
- Time spent on EHCP paperwork, annual reviews and meetings with families is work. It should
  be planned into your working time, not added on top of it.
- Keep your own short record of what support was agreed and what actually happened.

### Reasonable adjustments for you

- If you are disabled, your employer must make reasonable adjustments under the Equality Act
  2010. That can mean a changed timetable, a different classroom, equipment, or time for
  medical appointments.
- Put your request in writing, say what would help, and keep a copy. Ask for an occupational
  health referral if you need one.
- Your rep can come with you to any meeting about adjustments.

### SENCO and SEND workload

- The SEND Code of Practice says a SENCO should have **sufficient time and resources** to do
  the job. Ask for your protected time to be written down and kept.
- If you teach a full timetable and coordinate SEND as well, keep a workload diary for two
  weeks and take it to your rep.
- Nobody should be asked to write individual plans for a whole class in their own time.

### Staying safe

- Where a pupil's behaviour may put them or others at risk, there should be a written risk
  assessment, shared with the staff who work with that pupil and reviewed after any incident.
- Report every incident and injury, however minor, and ask for a copy of the report.

### Getting help

Talk to your workplace rep first. If you do not have one, email
[advice@example.org](mailto:advice@example.org) with your name, workplace and what has happened.
"""

_TOPICS: tuple[tuple[str, str, str, bool], ...] = (
    # name, summary, description, featured
    (
        "SEND",
        "Special educational needs and disabilities: webinars, local campaign events and "
        "practical advice for everyone who teaches and supports pupils with SEND.",
        SEND_DESCRIPTION,
        True,
    ),
    (
        "Funding",
        "How schools and colleges are funded, where the money falls short, and how to make the "
        "case for more.",
        "Briefings on school, high-needs and early years funding, for reps, leaders and anyone "
        "who wants to read a budget with confidence.\n\n"
        "- Understand your school's budget and what it is spent on\n"
        "- Follow the high-needs block that pays for most SEND support\n"
        "- Make the case to parents, governors and MPs\n",
        True,
    ),
    (
        "Workload",
        "Know your rights on working time, cut unnecessary tasks and get time back for teaching.",
        "Webinars and advice on working time, marking, data, planning and the extra workload that "
        "SEND paperwork brings when it is not properly resourced.\n\n"
        "Bring your questions: most workload problems are shared by the whole staff room, and "
        "are easier to solve together.\n",
        True,
    ),
    (
        "Inclusion",
        "Schools where every pupil belongs: practice, policy and the resources inclusion needs.",
        "Events on inclusive classroom practice, anti-racism, disability equality and the "
        "support that makes inclusion real rather than a slogan.\n",
        False,
    ),
    (
        "Pay",
        "Pay awards, progression, allowances and what you should be paid.",
        "Briefings on the annual pay award, pay progression, SEN allowances and teaching and "
        "learning responsibility payments, for teachers and support staff.\n",
        False,
    ),
    (
        "Health and safety",
        "Safe workplaces: risk assessments, violence and abuse, buildings and wellbeing.",
        "Training and briefings for members and safety reps on risk assessment, incident "
        "reporting and the employer's duty to keep staff safe.\n",
        False,
    ),
    (
        "Early years",
        "Nursery schools, nursery classes and reception: funding, SEND and conditions.",
        "Events for staff in maintained nursery schools, nursery classes and reception, where "
        "needs are often met before any diagnosis or plan is in place.\n",
        True,
    ),
)


# --- Campaign day -------------------------------------------------------------------------


class _Local(NamedTuple):
    region: str
    town: str
    venue: str
    address: str
    postcode: str
    style: str
    start: str
    capacity: int | None
    access: tuple[str, ...]
    organiser: str


@dataclass(frozen=True)
class _Style:
    title: str
    summary: str
    description: str
    minutes: int


_STYLES: dict[str, _Style] = {
    "rally": _Style(
        "{town} rally for SEND funding",
        "Join staff, parents and young people in {town} to demand properly funded support for "
        "every child with SEND.",
        "### What happens\n\n"
        "Short speeches from a SENCO, a parent and a young person, then a group photo for our "
        "local MPs.\n\n"
        "### Bring\n\n"
        "- Your school or branch banner, if you have one\n"
        "- Friends, colleagues and families: everyone is welcome\n\n"
        "We meet at {venue}. Stewards in orange tabards will be there from half an hour "
        "before the start.\n",
        75,
    ),
    "lobby": _Style(
        "Lobby your MP in {town}",
        "Meet your MP's team with colleagues and parents and ask them to back fair SEND funding.",
        "### Why lobby\n\n"
        "MPs listen to constituents who tell them what is happening in their local schools. "
        "A short, personal story about a pupil waiting for support is worth more than any "
        "leaflet.\n\n"
        "### How it works\n\n"
        "1. We meet at {venue} for a 20-minute briefing.\n"
        "2. Small groups walk to the constituency office together.\n"
        "3. We finish with a short debrief and a hot drink.\n\n"
        "Places are limited because the MP's office is small, so please register.\n",
        90,
    ),
    "drop_in": _Style(
        "{town} SEND drop-in for staff and parents",
        "Drop in any time to talk to reps about SEND casework, EHCP delays and the support you "
        "are entitled to.",
        "### Drop in any time\n\n"
        "No need to stay for the whole session. Reps and experienced SENCOs will be at "
        "{venue} to talk about:\n\n"
        "- EHCP delays and provision that is not in place\n"
        "- SENCO time and workload\n"
        "- Reasonable adjustments for disabled staff\n\n"
        "Conversations are confidential.\n",
        180,
    ),
    "meeting": _Style(
        "{town} public meeting: SEND in crisis",
        "Hear from a SENCO, a parent and a special school teacher about SEND in {town}, then plan "
        "what happens next.",
        "### Speakers\n\n"
        "- A SENCO from a local mainstream primary school\n"
        "- A teacher from a special school with a waiting list for places\n"
        "- A parent who waited more than a year for an EHCP\n\n"
        "### Then\n\n"
        "Questions from the floor, and an open discussion about what we do next in {town}. "
        "Tea, coffee and biscuits from half an hour before the start.\n",
        120,
    ),
    "stall": _Style(
        "{town} street stall and petition",
        "Help run a street stall in {town} and collect signatures for the SEND funding petition.",
        "### Lend a hand for an hour\n\n"
        "We have leaflets, clipboards and a gazebo; we need people to talk to shoppers about why "
        "SEND support matters. No experience needed: a short briefing at {venue} at the start "
        "covers everything.\n\n"
        "Come for the whole time or just an hour.\n",
        150,
    ),
    "family": _Style(
        "{town} family gathering for SEND",
        "A relaxed, child-friendly gathering in {town} for families, pupils and school staff, "
        "with a quiet space for anyone who needs it.",
        "### A gathering, not a march\n\n"
        "Bring a picnic and meet other families and staff. There will be:\n\n"
        "- Craft activities and a banner for children to decorate\n"
        "- A quiet room with low lighting and ear defenders\n"
        "- Short talks (no more than ten minutes in all)\n\n"
        "Children and young people with SEND, and their siblings, are very welcome.\n",
        120,
    ),
}

_LOCAL_EVENTS: tuple[_Local, ...] = (
    # North East
    _Local("north-east", "Newcastle upon Tyne", "Pilgrim Street Quaker Meeting House",
           "43 Pilgrim Street", "NE1 6SD", "rally", "11:00", None, ("step_free",),
           "Aisha Khan"),
    _Local("north-east", "Sunderland", "Wearside Trades Club", "23 Frederick Street",
           "SR1 1LT", "meeting", "14:00", 80, ("step_free", "hearing_loop"), "Gary Robson"),
    _Local("north-east", "Middlesbrough", "Central Library community room",
           "Victoria Square", "TS1 2AY", "drop_in", "10:00", None,
           ("step_free", "quiet_room"), "Nadia Hussain"),
    # North West
    _Local("north-west", "Manchester", "Mount Street Friends Meeting House", "6 Mount Street",
           "M1 5AN", "meeting", "13:00", 150, ("step_free", "hearing_loop", "bsl"),
           "Priya Shah"),
    _Local("north-west", "Liverpool", "Hope Street Unitarian Hall", "57 Hope Street",
           "L1 9BT", "rally", "12:00", None, ("step_free", "bsl"), "Liam Doherty"),
    _Local("north-west", "Preston", "Fishergate Methodist Church hall", "14 Fishergate",
           "PR1 2UR", "lobby", "10:30", 25, ("step_free",), "Helen Fairclough"),
    # Yorkshire and the Humber
    _Local("yorkshire-and-the-humber", "Leeds", "Mechanics' Institute", "19 Cookridge Street",
           "LS1 3AH", "rally", "12:30", None, ("step_free", "bsl", "quiet_room"),
           "Marcus Boateng"),
    _Local("yorkshire-and-the-humber", "Sheffield", "Sheffield Trades and Labour Club",
           "200 Duke Street", "S2 5QQ", "meeting", "15:00", 100, ("hearing_loop",),
           "Ellie Turner"),
    _Local("yorkshire-and-the-humber", "Hull", "Old Town Quaker Meeting House",
           "12 Posterngate", "HU1 2JN", "family", "11:30", 60,
           ("step_free", "quiet_room"), "Mark Pearson"),
    # East Midlands
    _Local("east-midlands", "Nottingham", "Mechanics Hall", "3 North Sherwood Street",
           "NG1 4EZ", "meeting", "11:00", 120, ("step_free", "hearing_loop", "bsl"),
           "Deepa Patel"),
    _Local("east-midlands", "Leicester", "Secular Hall", "75 Humberstone Gate", "LE1 1WB",
           "drop_in", "13:30", None, ("step_free", "quiet_room"), "Imran Mahmood"),
    _Local("east-midlands", "Derby", "Market Place (by the Guildhall)", "Market Place",
           "DE1 3AH", "stall", "10:00", None, ("step_free",), "Claire Dunn"),
    # West Midlands
    _Local("west-midlands", "Birmingham", "Digbeth Co-operative Hall", "41 Fazeley Street",
           "B5 5RS", "rally", "13:00", None, ("step_free", "bsl", "hearing_loop"),
           "Chidi Okafor"),
    _Local("west-midlands", "Coventry", "Drapers' Meeting Rooms", "8 Bayley Lane", "CV1 5RN",
           "lobby", "16:30", 12, ("step_free", "hearing_loop"), "Hannah Kowalski"),
    _Local("west-midlands", "Stoke-on-Trent", "Potteries Trades Club", "52 Piccadilly",
           "ST1 1EG", "meeting", "18:00", 70, ("hearing_loop",), "Ben Ashworth"),
    # East of England
    _Local("east-of-england", "Norwich", "Norwich Quaker Meeting House", "Upper Goat Lane",
           "NR2 1EW", "meeting", "10:30", 90, ("step_free", "hearing_loop", "quiet_room"),
           "Kate Brennan"),
    _Local("east-of-england", "Cambridge", "Mill Road Community Centre", "140 Mill Road",
           "CB1 3DF", "family", "12:00", 80, ("step_free", "quiet_room", "bsl"),
           "Tom Whitfield"),
    _Local("east-of-england", "Ipswich", "Cornhill (outside the Town Hall)", "Cornhill",
           "IP1 1DH", "stall", "11:00", None, ("step_free",), "Sarah Nunn"),
    # London
    _Local("london", "Islington", "Caledonian Road Friends Meeting House",
           "15 Caledonian Road", "N1 9DX", "meeting", "14:30", 200,
           ("step_free", "bsl", "hearing_loop"), "Olu Adeyemi"),
    _Local("london", "Lewisham", "Rushey Green Community Hall", "92 Rushey Green",
           "SE6 4HW", "rally", "11:30", None, ("step_free", "bsl"), "Siobhan O'Neill"),
    _Local("london", "Hackney", "Dalston Unitarian Chapel", "24 Ashwin Street", "E8 3DL",
           "drop_in", "15:00", None, ("quiet_room",), "Yusuf Ali"),
    _Local("london", "Croydon", "Croydon Trades Council rooms", "9 Katharine Street",
           "CR0 1NX", "lobby", "17:00", 16, ("step_free", "hearing_loop"), "Zara Ahmed"),
    # South East
    _Local("south-east", "Brighton", "Brighton Friends Meeting House", "Ship Street",
           "BN1 1AF", "rally", "12:00", None, ("step_free", "bsl", "quiet_room"),
           "Jo Pritchard"),
    _Local("south-east", "Southampton", "Above Bar Church hall", "134 Above Bar Street",
           "SO14 7DU", "meeting", "16:00", 110, ("step_free", "hearing_loop"),
           "Sam Osei"),
    _Local("south-east", "Oxford", "East Oxford Community Centre", "44 Princes Street",
           "OX4 1DD", "drop_in", "10:30", None, ("step_free", "quiet_room", "hearing_loop"),
           "Fiona McLeod"),
    # South West
    _Local("south-west", "Bristol", "Bristol Trades Club", "7 Old Market Street", "BS2 0EZ",
           "meeting", "17:30", 150, ("step_free", "bsl", "hearing_loop"), "Rachel Okoro"),
    _Local("south-west", "Exeter", "Exeter Quaker Meeting House", "Wynards Lane",
           "EX2 4HU", "family", "13:30", 50, ("quiet_room",), "Dan Hext"),
    _Local("south-west", "Plymouth", "Guildhall Square", "Royal Parade", "PL1 2AA", "rally",
           "14:00", None, ("step_free",), "Tamsin Rowe"),
    # Wales
    _Local("wales", "Cardiff", "Charles Street Friends Meeting House",
           "43 Charles Street", "CF10 2GB", "rally", "11:00", None,
           ("step_free", "bsl", "quiet_room"), "Rhian Evans"),
    _Local("wales", "Swansea", "Swansea Trades Club", "12 Orchard Street", "SA1 5AS",
           "meeting", "19:00", 60, ("hearing_loop",), "Dylan Morgan"),
    _Local("wales", "Wrexham", "St Giles Church hall", "Church Street", "LL13 8LS",
           "drop_in", "12:30", None, ("step_free", "quiet_room"), "Megan Lloyd"),
)  # fmt: skip

CAMPAIGN_DESCRIPTION = """\
Schools, colleges and families are at breaking point. Pupils wait months for assessments and
years for specialist places; SENCOs have no time to do the job; support staff posts are cut;
and local authorities run high-needs deficits they cannot close.

On this one day, staff, parents and young people meet in towns and cities across England and
Wales to say **enough**.

### Find an event near you

Search by region, town or postcode below. Every event has its own venue, time and local
organiser, and lists the access provisions on offer.

### Our asks

1. Fund SEND properly, with a national high-needs settlement that meets real need.
2. Guarantee SENCOs protected time and pay that reflects the role.
3. Invest in specialist places, speech and language therapy and educational psychology, so
   that pupils get help before crisis point.

### Cannot make it?

Email your MP, share the campaign with colleagues, or ask your rep about organising a
workplace photo on the day.
"""


# --- Series ---------------------------------------------------------------------------------

SERIES_DESCRIPTION = """\
Small group interventions are one of the most common ways schools support pupils with SEND,
and one of the easiest to get wrong: groups that run for years without review, or that take
pupils out of the lessons they most need.

This five-part series, run with nasen (the National Association for Special Educational
Needs), is for class teachers, SENCOs, teaching assistants and specialist
practitioners in primary, secondary and special schools. Each session is 75 minutes, with
time for questions.

### Each session

- A short talk from a practitioner who runs interventions every week
- An example from a real (anonymised) school
- Questions, and a one-page summary to take away

Sessions are recorded for registered participants. Register for one session or the whole
series.
"""

_SESSIONS: tuple[tuple[str, str, str], ...] = (
    (
        "Choosing the right intervention",
        "How to match an intervention to a pupil's needs, and tell evidence from marketing.",
        "### In this session\n\n"
        "- What the research says about small group work, and what it does not\n"
        "- Starting from the need, not from the programme the school already owns\n"
        "- Setting a clear goal and an end date before a group starts\n",
    ),
    (
        "Planning groups without losing teaching time",
        "Timetabling interventions so that pupils do not miss the lessons they most need.",
        "### In this session\n\n"
        "- Where interventions sit in the school day, and what pupils miss\n"
        "- Groups in class, before school and in registration time\n"
        "- Planning time for the adults who run them\n",
    ),
    (
        "Speech, language and communication groups",
        "Running effective speech, language and communication groups with the staff you have.",
        "### In this session\n\n"
        "- Vocabulary, narrative and social communication groups\n"
        "- Working with speech and language therapists when waiting lists are long\n"
        "- Adapting groups for pupils who use AAC or sign\n",
    ),
    (
        "Measuring impact and knowing when to stop",
        "Simple ways to check an intervention is working, and what to do when it is not.",
        "### In this session\n\n"
        "- Baselines and review points that take minutes, not hours\n"
        "- Recording progress without extra data drops\n"
        "- Ending a group well, and telling families why\n",
    ),
    (
        "Teaching assistants, families and the wider team",
        "Getting the best from teaching assistants and bringing families into the work.",
        "### In this session\n\n"
        "- Training and time for teaching assistants who run groups\n"
        "- Sharing goals with families in plain language\n"
        "- When to ask for specialist advice\n",
    ),
)


async def seed(session: AsyncSession, clock: Clock, *, zone: str = "Europe/London") -> str:
    """Load the demo through the catalogue services; flush only, the caller commits.

    Returns a one-line summary of what was loaded."""
    now = clock.now()
    tz = ZoneInfo(zone)
    cal = _Calendar(today=now.astimezone(tz).date(), zone=tz)

    topics: dict[str, Topic] = {}
    for order, (name, summary, description, featured) in enumerate(_TOPICS, start=1):
        topics[name] = await groupings.create_topic(
            session,
            clock,
            name=name,
            summary=summary,
            description=description,
            advice=SEND_ADVICE if name == "SEND" else "",
            featured=featured,
            sort_order=order,
        )

    partners = [
        await groupings.create_partner(
            session,
            clock,
            name="nasen",
            url="https://nasen.org.uk/",
            description="The National Association for Special Educational Needs: a charity "
            "that supports everyone working with children and young people with SEND.",
        ),
    ]
    places = _Places(session, clock)
    sessions = await _series(session, clock, cal, partners, topics, places)
    campaign_day = cal.day(28, SAT)  # a Saturday four or five weeks ahead, in term time
    local_events = await _campaign(session, clock, cal, campaign_day, topics, places)
    others = await _single_events(session, clock, cal, topics, places, campaign_day=campaign_day)
    await _quiet_mail(session, [*sessions, *local_events, *others])
    counts = await _registration_counts(session)

    return (
        f"{len(topics)} topics, {len(partners)} partner{'' if len(partners) == 1 else 's'}, "
        f"1 series ({len(sessions)} sessions), "
        f"1 campaign ({len(local_events)} local events on {campaign_day.isoformat()}), "
        f"{len(others)} other events (1 draft, 1 cancelled), "
        f"{counts[RegistrationStatus.confirmed]} places taken, "
        f"{counts[RegistrationStatus.waitlisted]} waiting, "
        f"{counts[RegistrationStatus.cancelled]} cancelled"
    )


async def _registration_counts(session: AsyncSession) -> dict[RegistrationStatus, int]:
    rows = await session.execute(
        select(Registration.status, func.count(Registration.id)).group_by(Registration.status)
    )
    counts = dict.fromkeys(RegistrationStatus, 0)
    counts.update({status: int(count) for status, count in rows})
    return counts


async def _series(
    session: AsyncSession,
    clock: Clock,
    cal: _Calendar,
    partners: list[Partner],
    topics: dict[str, Topic],
    places: _Places,
) -> list[Event]:
    """Five fortnightly Tuesday webinars after school (paused over holidays): two already held
    (with attendance marked), the next one full with a waiting list, two to come."""
    series = await groupings.create_series(
        session,
        clock,
        title="Small group interventions",
        summary="A five-part webinar series on planning, running and reviewing small group "
        "interventions for pupils with SEND.",
        description=SERIES_DESCRIPTION,
        partners=partners,
    )
    third = cal.day(1, TUE)
    second = cal.step(third, -2)
    if second >= cal.today:  # the third was moved on past a holiday
        second = cal.day(-13, TUE)
    first = cal.step(second, -2)
    fourth = cal.step(third, 2)
    days = (first, second, third, fourth, cal.step(fourth, 2))
    sessions: list[Event] = []
    for number, (day, (title, summary, description)) in enumerate(
        zip(days, _SESSIONS, strict=True), start=1
    ):
        starts_at, ends_at = cal.span(day, "16:00", "17:15")
        sessions.append(
            await lifecycle.create_event(
                session,
                _published_before(starts_at, clock),
                EventInput(
                    title=f"Small group interventions {number}: {title}",
                    kind=EventKind.webinar,
                    format=EventFormat.online,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    timezone=cal.zone.key,
                    summary=summary,
                    description=description,
                    joining_url=f"https://meet.example.org/sgi-{number}-k7q2mv",
                    capacity=20 if number != 3 else 16,
                    waiting_list_enabled=True,
                    access=("bsl", "live_captions") if number == 3 else ("live_captions",),
                    organiser_name="SEND team, with nasen",
                    organiser_email="send.webinars@example.org",
                    topics=(topics["SEND"].slug, topics["Inclusion"].slug),
                    series=series.slug,
                ),
                publish=True,
            )
        )
    first_held, second_held, next_one, fourth_one, last_one = sessions
    await places.take(first_held, people=14, cancel=1, attended=0.75)
    await places.take(second_held, people=22, cancel=2, attended=0.7)  # full; places came up
    await places.take(next_one, people=19, cancel=1)  # full: two waiting
    await places.take(fourth_one, people=6)
    await places.take(last_one, people=3)
    return sessions


async def _campaign(
    session: AsyncSession,
    clock: Clock,
    cal: _Calendar,
    day: dt.date,
    topics: dict[str, Topic],
    places: _Places,
) -> list[Event]:
    campaign = await groupings.create_campaign(
        session,
        clock,
        title="SEND National Crisis",
        starts_on=day,
        summary="A national day of local rallies, lobbies and meetings calling for properly "
        "funded support for every child and young person with SEND.",
        description=CAMPAIGN_DESCRIPTION,
    )
    send, funding = topics["SEND"].slug, topics["Funding"].slug
    events: list[Event] = []
    for local in _LOCAL_EVENTS:
        style = _STYLES[local.style]
        starts_at = cal.at(day, local.start)
        first_name = local.organiser.split()[0].lower()
        # MPs' offices want names in advance, so lobbies close registration two days before.
        closes = starts_at - dt.timedelta(days=2) if local.style == "lobby" else None
        events.append(
            await lifecycle.create_event(
                session,
                clock,
                EventInput(
                    title=style.title.format(town=local.town),
                    kind=EventKind.campaign_event,
                    format=EventFormat.in_person,
                    starts_at=starts_at,
                    ends_at=starts_at + dt.timedelta(minutes=style.minutes),
                    timezone=cal.zone.key,
                    summary=style.summary.format(town=local.town),
                    description=style.description.format(town=local.town, venue=local.venue),
                    venue_name=local.venue,
                    venue_address=local.address,
                    town=local.town,
                    postcode=local.postcode,
                    region=local.region,
                    capacity=local.capacity,
                    registration_closes_at=closes,
                    access=local.access,
                    organiser_name=f"{local.organiser}, {local.town} district",
                    organiser_email=f"{first_name}.{slugify(local.town)}@example.org",
                    topics=(send, funding) if local.style in ("lobby", "rally") else (send,),
                    campaign=campaign.slug,
                ),
                publish=True,
            )
        )
    # Coventry's lobby is full (it has no waiting list: the MP's office is small) and
    # Croydon's nearly; elsewhere a few names, and rallies none: people just turn up.
    wanted = {"Coventry": 12, "Croydon": 14}
    for number, event in enumerate(events):
        if event.capacity is not None:
            await places.take(event, people=wanted.get(event.town, 1 + number % 3))
    return events


def _published_before(starts_at: dt.datetime, clock: Clock) -> Clock:
    """A past event was published weeks before it was held (and its registrations came in
    after that); anything else is published now."""
    if starts_at > clock.now():
        return clock
    return FrozenClock(starts_at - dt.timedelta(weeks=6))


def _webinar(
    cal: _Calendar, title: str, when: tuple[dt.datetime, dt.datetime], room: str
) -> EventInput:
    """An online webinar with live captions and a waiting list, run by the events team: the
    common case."""
    return EventInput(
        title=title,
        kind=EventKind.webinar,
        format=EventFormat.online,
        starts_at=when[0],
        ends_at=when[1],
        timezone=cal.zone.key,
        joining_url=f"https://meet.example.org/{room}",
        access=("live_captions",),
        waiting_list_enabled=True,
        organiser_name="Events team",
        organiser_email="events@example.org",
    )


async def _single_events(
    session: AsyncSession,
    clock: Clock,
    cal: _Calendar,
    topics: dict[str, Topic],
    places: _Places,
    *,
    campaign_day: dt.date,
) -> list[Event]:
    """Webinars, meetings, training and a conference, past and future, for every audience."""
    slugs = {name: topic.slug for name, topic in topics.items()}
    send, funding, workload = slugs["SEND"], slugs["Funding"], slugs["Workload"]
    inclusion, pay, safety = slugs["Inclusion"], slugs["Pay"], slugs["Health and safety"]
    early_years = slugs["Early years"]
    events: list[Event] = []

    async def add(data: EventInput, *, publish: bool = True) -> Event:
        event = await lifecycle.create_event(
            session, _published_before(data.starts_at, clock), data, publish=publish
        )
        events.append(event)
        return event

    # Past: the last few weeks.
    await add(
        replace(
            _webinar(
                cal,
                "Risk assessments and behaviour that challenges: staying safe at work",
                cal.span(cal.day(-27, TUE), "16:00", "17:00"),
                "risk-assessments-h3d8",
            ),
            summary="What a good individual risk assessment looks like, and what to do when "
            "there is none.",
            description="### For\n\n"
            "Class teachers, teaching assistants and safety reps in mainstream, special and "
            "alternative provision settings.\n\n"
            "### Covered\n\n"
            "- The employer's duty to assess risk and tell you about it\n"
            "- Individual risk assessments and positive handling plans\n"
            "- Reporting incidents, and what happens next\n",
            capacity=24,
            access=("bsl", "live_captions"),
            topics=(safety, send),
        )
    )
    await add(
        replace(
            _webinar(
                cal,
                "Adapting teaching for pupils with SEND without adding to your workload",
                cal.span(cal.day(-20, WED), "16:00", "17:15"),
                "adaptive-teaching-p4r7",
            ),
            summary="Practical adaptive teaching for class teachers in mainstream schools, "
            "without a separate plan for every pupil.",
            description="### For\n\n"
            "Class teachers in mainstream primary and secondary schools.\n\n"
            "### Covered\n\n"
            "- Adaptive teaching that helps the whole class\n"
            "- What you do not have to produce: differentiated worksheets for every pupil are "
            "not required\n"
            "- Asking for the support a pupil's plan promises\n",
            capacity=20,
            topics=(send, workload),
        )
    )
    await add(
        replace(
            _webinar(
                cal,
                "Special school staff: pay, progression and SEN allowances",
                cal.span(cal.day(-13, THU), "16:30", "17:30"),
                "sen-allowances-t2w9",
            ),
            summary="How SEN allowances and pay progression work for teachers and specialist "
            "practitioners in special schools.",
            description="### For\n\n"
            "Teachers and specialist practitioners in special schools, resourced provision and "
            "pupil referral units.\n\n"
            "### Covered\n\n"
            "- Who is entitled to an SEN allowance, and at what level\n"
            "- Pay progression and how to challenge a refusal\n"
            "- Support staff pay and grading\n",
            capacity=None,
            topics=(pay, send),
        )
    )

    risks, adaptive, allowances = events
    await places.take(risks, people=14, cancel=1, attended=0.7)
    await places.take(adaptive, people=22, cancel=2, attended=0.65)  # full; places came up
    await places.take(allowances, people=8, cancel=1, attended=0.6)

    # Future: the weeks and months ahead.
    await add(
        replace(
            _webinar(
                cal,
                "Meet the SEND casework team: online questions and answers",
                cal.span(cal.day(5, MON), "19:00", "20:00"),
                "casework-qa-b6n1",
            ),
            summary="Bring your questions about SEND casework to the union's casework team.",
            description="### For\n\nMembers and reps with questions about SEND casework.\n",
            capacity=100,
            topics=(send,),
        )
    )
    # People had registered before it was called off: each is told by email.
    await places.take(events[-1], people=3)
    await lifecycle.cancel_event(session, clock, events[-1])

    senco = await add(
        replace(
            _webinar(
                cal,
                "SENCO workload: know your rights",
                cal.span(cal.day(8, WED), "16:00", "17:15"),
                "senco-workload-x8c4",
            ),
            summary="What the SEND Code of Practice and your contract say about SENCO time, "
            "and how to get it protected.",
            description="### For\n\n"
            "SENCOs and assistant SENCOs in mainstream schools, special schools, alternative "
            "provision, early years settings and post-16 colleges.\n\n"
            "### Covered\n\n"
            "- Sufficient time and resources: what the Code of Practice expects\n"
            "- Protected time, pay and the leadership question\n"
            "- Keeping a workload diary and using it with your rep\n\n"
            "There will be time for questions, and a summary sheet afterwards.\n",
            capacity=60,
            registration_closes_at=cal.at(cal.day(8, WED), "12:00"),
            topics=(send, workload),
        )
    )
    await places.take(senco, people=10, cancel=1)

    leaders = await add(
        replace(
            _webinar(
                cal,
                "Leaders' briefing: SEND budgets",
                cal.span(cal.day(11, MON), "17:30", "18:30"),
                "leaders-send-budgets-q5j3",
            ),
            summary="For heads, deputies and business leaders: reading the high-needs "
            "picture and making the case for your school's SEND budget.",
            description="### For\n\n"
            "Head teachers, deputies, SENCOs on leadership teams and school business leaders "
            "in mainstream and special schools.\n\n"
            "### Covered\n\n"
            "1. How the high-needs block reaches your school\n"
            "2. Top-up funding and the notional SEND budget\n"
            "3. Evidence to take to your local authority and governors\n",
            capacity=24,
            topics=(send, funding),
        )
    )
    await places.take(leaders, people=23, cancel=1)  # nearly full: two left

    autism = await add(
        replace(
            _webinar(
                cal,
                "Supporting autistic pupils in mainstream",
                cal.span(cal.day(15, THU), "16:00", "17:15"),
                "autistic-pupils-m9g6",
            ),
            summary="Calm, predictable classrooms that work for autistic pupils, led by an "
            "autistic teacher and a specialist practitioner.",
            description="### For\n\n"
            "Class teachers and teaching assistants in mainstream primary and secondary "
            "schools.\n\n"
            "### Covered\n\n"
            "- Sensory needs and the classroom environment\n"
            "- Transitions, changes and unstructured time\n"
            "- Working with families and the pupil themselves\n\n"
            "This session is full. Join the waiting list and we will email you if a place "
            "comes up.\n",
            capacity=20,
            access=("bsl", "live_captions"),
            topics=(send, inclusion),
        )
    )
    await places.take(autism, people=24, cancel=1)  # full: three waiting

    early_funding = await add(
        replace(
            _webinar(
                cal,
                "Early years SEND funding explained",
                cal.span(cal.day(22, TUE), "18:30", "19:30"),
                "early-years-funding-z1k8",
            ),
            summary="Inclusion funding, the disability access fund and top-ups for under-fives, "
            "explained for nursery and reception staff.",
            description="### For\n\n"
            "Staff in maintained nursery schools, nursery classes and reception, including "
            "early years SENCOs.\n\n"
            "### Covered\n\n"
            "- Early years inclusion funding and how to apply\n"
            "- The disability access fund\n"
            "- Meeting needs before an EHCP is in place\n\n"
            "The session starts at 6.30pm so that nursery staff can join after work.\n",
            capacity=None,
            registration_closes_at=cal.at(cal.day(22, TUE) - dt.timedelta(days=1), "17:00"),
            topics=(early_years, send, funding),
        )
    )
    provision = await add(
        replace(
            _webinar(
                cal,
                "Alternative provision: workload, safety and staffing",
                cal.span(cal.day(29, TUE), "16:00", "17:00"),
                "alternative-provision-f7s2",
            ),
            summary="For staff in pupil referral units and alternative provision: safe "
            "staffing, risk and workload.",
            description="### For\n\n"
            "Teachers, specialist practitioners and support staff in pupil referral units and "
            "other alternative provision.\n\n"
            "### Covered\n\n"
            "- Safe staffing ratios and lone working\n"
            "- Risk assessments that travel with the pupil\n"
            "- Workload when pupils arrive mid-year with little information\n",
            capacity=60,
            topics=(send, safety, workload),
        )
    )
    budgets = await add(
        replace(
            _webinar(
                cal,
                "Reading your school's budget: a guide for reps",
                cal.span(cal.day(36, THU), "16:30", "17:30"),
                "reading-budgets-u3e5",
            ),
            summary="Make sense of your school's budget and ask the right questions about "
            "staffing cuts.",
            description="### For\n\nWorkplace reps and anyone who sits on a governing board.\n\n"
            "### Covered\n\n"
            "- Where to find your school's published figures\n"
            "- Reserves, deficits and staffing costs\n"
            "- Questions to ask before a restructure\n",
            capacity=None,
            topics=(funding,),
        )
    )
    post16_day = cal.day(40, WED)
    await add(
        replace(
            _webinar(
                cal,
                "Post-16 SEND transitions",
                cal.span(post16_day, "16:15", "17:30"),
                "post-16-transitions-w4y7",
            ),
            summary="Helping young people with SEND move from school to college, training or "
            "work, and what happens to their EHCP.",
            description="### For\n\n"
            "SENCOs and teachers in secondary schools, special schools and further education "
            "colleges.\n\n"
            "### Covered\n\n"
            "- EHCPs after 16 and up to 25\n"
            "- Planning transitions from Year 9 onwards\n"
            "- Supported internships and study programmes\n\n"
            "Registration opens soon: places go quickly, so note the date.\n",
            capacity=200,
            registration_opens_at=cal.at(cal.day(6, MON), "09:00"),
            registration_closes_at=cal.at(post16_day - dt.timedelta(days=1), "17:00"),
            topics=(send, inclusion),
        )
    )
    # Reps are busy on the campaign day itself, so the training is a fortnight after it.
    training_day = max(cal.day(45, SAT), cal.step(campaign_day, 2))
    training = await add(
        EventInput(
            title="Reps' training: SEND casework",
            kind=EventKind.training,
            format=EventFormat.in_person,
            starts_at=cal.at(training_day, "10:00"),
            ends_at=cal.at(training_day, "15:30"),
            timezone=cal.zone.key,
            summary="A day's training for workplace reps who support members with SEND "
            "workload, safety and reasonable adjustments cases.",
            description="### For\n\n"
            "Workplace reps and health and safety reps. **Members only**: you will be asked "
            "for your membership number.\n\n"
            "### Covered\n\n"
            "- Taking a SEND workload case from first conversation to resolution\n"
            "- Reasonable adjustments for disabled members\n"
            "- Risk assessments and incident reporting\n\n"
            "Lunch is provided; tell us about any dietary needs when you register.\n",
            venue_name="Union House, Yorkshire and the Humber office",
            venue_address="21 Wellington Place",
            town="Leeds",
            postcode="LS1 4AP",
            region="yorkshire-and-the-humber",
            capacity=16,
            registration_closes_at=cal.at(training_day - dt.timedelta(days=5), "17:00"),
            members_only=True,
            access=("step_free", "hearing_loop", "quiet_room"),
            access_notes="Accessible parking for two cars; book it when you register.",
            organiser_name="Learning and development team",
            organiser_email="training@example.org",
            topics=(send, safety),
        )
    )
    await places.take(training, people=10)
    agm_day = cal.day(52, THU)
    agm = await add(
        EventInput(
            title="SEND and Inclusion Network: annual general meeting",
            kind=EventKind.meeting,
            format=EventFormat.hybrid,
            starts_at=cal.at(agm_day, "17:30"),
            ends_at=cal.at(agm_day, "19:30"),
            timezone=cal.zone.key,
            summary="The network's annual meeting: reports, elections to the steering group "
            "and next year's priorities, in person in London or online.",
            description="### Agenda\n\n"
            "1. Welcome and apologies\n"
            "2. Report from the steering group\n"
            "3. Elections to the steering group\n"
            "4. Motions on SEND funding and SENCO workload\n"
            "5. Any other business\n\n"
            "Join in person or online; everyone can vote either way.\n",
            venue_name="Holloway Institute",
            venue_address="310 Holloway Road",
            town="London",
            postcode="N7 6NJ",
            region="london",
            joining_url="https://meet.example.org/send-network-agm-r8a3",
            capacity=120,
            registration_closes_at=cal.at(agm_day - dt.timedelta(days=2), "17:00"),
            access=("step_free", "bsl", "live_captions", "hearing_loop"),
            organiser_name="SEND and Inclusion Network",
            organiser_email="send.network@example.org",
            topics=(send, inclusion),
        )
    )
    early_needs = await add(
        replace(
            _webinar(
                cal,
                "Early years: meeting needs before a diagnosis",
                cal.span(cal.day(60, WED), "18:30", "19:30"),
                "early-years-needs-c2v6",
            ),
            summary="Supporting young children whose needs are emerging, without waiting for "
            "a label.",
            description="### For\n\n"
            "Nursery teachers, nursery nurses and reception staff.\n\n"
            "### Covered\n\n"
            "- Noticing and recording emerging needs\n"
            "- Talking to families early and kindly\n"
            "- Getting advice from health visitors and specialist teams\n",
            capacity=None,
            access=("bsl", "live_captions"),
            topics=(early_years, send, inclusion),
        )
    )
    pay_award = await add(
        replace(
            _webinar(
                cal,
                "The pay award explained",
                cal.span(cal.day(67, WED), "16:00", "17:00"),
                "pay-award-d9l1",
            ),
            summary="What this year's pay award means for teachers and support staff, and how "
            "to check you are paid correctly.",
            description="### Covered\n\n"
            "- The award for teachers and for support staff\n"
            "- Back pay, and when to expect it\n"
            "- Checking your payslip and raising a query\n",
            capacity=None,
            topics=(pay,),
        )
    )
    # A draft: an organiser is still writing it, so it stays off every public page.
    await add(
        replace(
            _webinar(
                cal,
                "Teaching assistants and SEND: deployment, pay and training",
                cal.span(cal.day(70, TUE), "16:00", "17:00"),
                "teaching-assistants-draft",
            ),
            summary="Draft: how teaching assistants are deployed to support pupils with SEND.",
            description="### Draft\n\nSpeakers to be confirmed.\n",
            capacity=150,
            topics=(send, pay),
        ),
        publish=False,
    )
    conference_day = cal.day(80, SAT)
    conference = await add(
        EventInput(
            title=f"SEND and Inclusion Conference {conference_day.year}",
            kind=EventKind.conference,
            format=EventFormat.in_person,
            starts_at=cal.at(conference_day, "09:30"),
            ends_at=cal.at(conference_day, "16:00"),
            timezone=cal.zone.key,
            summary="A day of talks and workshops for class teachers, SENCOs, specialist "
            "practitioners and leaders from every phase and setting.",
            description="### Programme\n\n"
            "- **09:30** Registration and coffee\n"
            "- **10:00** Keynote: SEND after the crisis\n"
            "- **11:15** Workshops (choose one): small group interventions, autism in "
            "mainstream, alternative provision, early years, post-16\n"
            "- **13:00** Lunch, and a quiet room for anyone who needs a break\n"
            "- **14:00** Panel: workload, pay and the SENCO role\n"
            "- **15:30** Close\n\n"
            "Workshops are capped at 40; you choose yours when you register.\n",
            venue_name="Digbeth Assembly Rooms",
            venue_address="12 Fazeley Street",
            town="Birmingham",
            postcode="B5 5RS",
            region="west-midlands",
            capacity=120,
            registration_closes_at=cal.at(conference_day - dt.timedelta(days=7), "17:00"),
            access=("step_free", "bsl", "live_captions", "hearing_loop", "quiet_room"),
            access_notes="Live captions are shown on screen in the main hall.",
            organiser_name="Conferences team",
            organiser_email="conference@example.org",
            topics=(send, inclusion, workload),
        )
    )
    await places.take(conference, people=10, cancel=1)
    for event, people in (
        (early_funding, 3),
        (provision, 4),
        (budgets, 2),
        (agm, 5),
        (early_needs, 2),
        (pay_award, 3),
    ):
        await places.take(event, people=people)
    return events
