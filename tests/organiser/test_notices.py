"""Admins edit the privacy notice and the accessibility statement in the console; the public
pages show the edit, sanitised; anyone else gets 404; each change is audited (issue 16
item 10)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from events.app import create_app
from events.audit.models import AuditEntry
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.organiser.models import Organiser
from events.privacy.models import SiteNotice
from tests.organiser.helpers import sign_in
from tests.registration.helpers import csrf_token

HOSTILE = (
    "## Who we are\n\n"
    "We are the union. <script>alert('x')</script>\n\n"
    "[Click me](javascript:alert(1)) and [the ICO](https://ico.org.uk/)\n\n"
    '<img src="x" onerror="alert(2)">'
)


async def _save(
    client: httpx.AsyncClient, which: str, body: str, action: str = "save"
) -> httpx.Response:
    path = f"/organiser/notices/{which}"
    token = await csrf_token(client, path)
    return await client.post(path, data={"csrf_token": token, "body": body, "action": action})


@pytest.mark.parametrize(
    ("which", "public"),
    [("privacy-notice", "/privacy-notice"), ("accessibility", "/accessibility")],
)
async def test_an_admins_edit_shows_on_the_public_page_sanitised(
    admin_console: httpx.AsyncClient, client: httpx.AsyncClient, which: str, public: str
) -> None:
    form = await admin_console.get(f"/organiser/notices/{which}")
    assert form.status_code == 200
    assert "<textarea" in form.text and "## " in form.text, "the default text, to edit"
    response = await _save(admin_console, which, HOSTILE)
    assert response.status_code == 303
    assert response.headers["location"] == f"/organiser/notices/{which}?done=1"
    page = await client.get(public)
    assert page.status_code == 200
    assert "<h2>Who we are</h2>" in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert 'href="javascript' not in page.text.lower()  # the words stay, as text
    assert "<img" not in page.text and "&lt;img" in page.text
    assert 'href="https://ico.org.uk/"' in page.text
    assert "Last updated" in page.text
    saved = await admin_console.get(f"/organiser/notices/{which}?done=1")
    assert "Saved." in saved.text


async def test_the_edit_writes_an_audit_row_with_the_text_before_and_after(
    admin_console: httpx.AsyncClient, database: Database, admin: Organiser
) -> None:
    await _save(admin_console, "accessibility", "First version")
    await _save(admin_console, "accessibility", "Second version")
    await _save(admin_console, "accessibility", "Second version")  # unchanged: no row
    async with database.reader() as session:
        entries = list(
            (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        )
        rows = list((await session.execute(select(SiteNotice))).scalars())
    assert [e.action for e in entries] == ["accessibility.updated"] * 2
    assert all(e.actor_label == admin.email and e.organiser_id == admin.id for e in entries)
    assert "WCAG" in entries[0].before["body"], "the shipped default was replaced"
    assert entries[0].after == {"notice": "accessibility", "body": "First version"}
    assert entries[1].before["body"] == "First version"
    assert entries[1].after["body"] == "Second version"
    assert [(r.key, r.body) for r in rows] == [("accessibility", "Second version")]


async def test_preview_shows_the_text_without_saving(
    admin_console: httpx.AsyncClient, client: httpx.AsyncClient, database: Database
) -> None:
    response = await _save(admin_console, "privacy-notice", "## Draft heading", action="preview")
    assert response.status_code == 200
    assert "Preview (not saved yet)" in response.text
    assert "<h2>Draft heading</h2>" in response.text
    async with database.reader() as session:
        assert (await session.execute(select(SiteNotice))).first() is None
    assert "Draft heading" not in (await client.get("/privacy-notice")).text


async def test_an_empty_notice_is_refused_and_nothing_changes(
    admin_console: httpx.AsyncClient, database: Database
) -> None:
    response = await _save(admin_console, "privacy-notice", "   \r\n ")
    assert response.status_code == 422
    assert "Enter the text of the notice." in response.text
    async with database.reader() as session:
        assert (await session.execute(select(AuditEntry))).first() is None


async def test_non_admins_get_404_and_cannot_change_a_notice(
    console: httpx.AsyncClient, admin_console: httpx.AsyncClient, database: Database
) -> None:
    for which in ("privacy-notice", "accessibility"):
        assert (await console.get(f"/organiser/notices/{which}")).status_code == 404
    # A valid CSRF token for this organiser's session, from a page it may see.
    token = await csrf_token(console, "/organiser/account/password")
    refused = await console.post(
        "/organiser/notices/privacy-notice",
        data={"csrf_token": token, "body": "Taken over", "action": "save"},
    )
    assert refused.status_code == 404
    async with database.reader() as session:
        assert (await session.execute(select(SiteNotice))).first() is None
        assert (await session.execute(select(AuditEntry))).first() is None
    nav = (await console.get("/organiser/")).text
    assert "/organiser/notices/" not in nav
    assert "/organiser/notices/privacy-notice" in (await admin_console.get("/organiser/")).text


async def test_an_unknown_notice_is_404_even_for_admins(
    admin_console: httpx.AsyncClient,
) -> None:
    assert (await admin_console.get("/organiser/notices/cookies")).status_code == 404


async def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/organiser/notices/privacy-notice")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/organiser/login?next=")


async def test_the_public_page_is_cached_and_an_edit_shows_at_once(
    settings: Settings, clock: FrozenClock, database: Database, admin: Organiser
) -> None:
    """Cached like the other public pages; the edit clears this process's cache."""
    app = create_app(
        settings.model_copy(update={"page_cache_seconds": 600}), clock=clock, database=database
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as public,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as console,
    ):
        first = await public.get("/accessibility")
        async with unit_of_work(database.writer) as session:
            session.add(
                SiteNotice(key="accessibility", body="Written behind it", updated_at=clock.now())
            )
        assert (await public.get("/accessibility")).content == first.content, "from the cache"
        await sign_in(console, database, clock, admin)
        assert (await _save(console, "accessibility", "## Edited")).status_code == 303
        assert "<h2>Edited</h2>" in (await public.get("/accessibility")).text
