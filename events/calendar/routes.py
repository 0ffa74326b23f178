"""Calendar routes. Listed before the catalogue's in ``events/app.py``: ``/events/{slug}.ics``
would otherwise be taken by ``/events/{slug}`` as a slug ending in ".ics"."""

from starlette.routing import BaseRoute, Route

from events.calendar import views
from events.web.ids import id_param

routes: list[BaseRoute] = [
    Route("/events/{slug}.ics", views.event_download, name="calendar:event"),
    Route("/calendar.ics", views.listing_feed, name="calendar:listing"),
    Route("/topics/{slug}/calendar.ics", views.topic_feed, name="calendar:topic"),
    Route("/series/{slug}/calendar.ics", views.series_feed, name="calendar:series"),
    Route("/campaigns/{slug}/calendar.ics", views.campaign_feed, name="calendar:campaign"),
    # A registrant's private feed and its personal joining links, by the read-only calendar
    # token (``registration.tokens.LinkSet``): it can show places, never cancel them.
    Route("/c/{token}.ics", views.private_feed, name="calendar:private"),
    Route(f"/c/{{token}}/{id_param('event_id')}/join", views.private_join, name="calendar:join"),
]
