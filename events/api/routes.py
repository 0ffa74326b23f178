"""Routes of the public JSON API, mounted at /api/v1 as "api" (names "api:events" ...).

Every route here needs an entry of the same name in ``openapi.OPERATIONS``; the document
refuses to build without one.
"""

from starlette.routing import BaseRoute, Route

from events.api import views

routes: list[BaseRoute] = [
    Route("/events", views.list_events, name="events"),
    Route("/events/{slug}", views.get_event, name="event"),
    Route("/topics", views.list_topics, name="topics"),
    Route("/series/{slug}", views.get_series, name="series"),
    Route("/campaigns/{slug}", views.get_campaign, name="campaign"),
    Route("/openapi.json", views.openapi_document, name="openapi"),
]
