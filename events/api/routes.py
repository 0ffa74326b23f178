"""Routes of the public JSON API, mounted at /api/v1 as "api" (names "api:events" ...).

Every route here needs an entry of the same name in ``openapi.OPERATIONS``; the document
refuses to build without one.
"""

from starlette.routing import BaseRoute, Route

from events.api import organiser_views as organiser
from events.api import views
from events.web.ids import id_param

EVENT = "/organiser/events/{slug}"
REGISTRATIONS = EVENT + "/registrations"

routes: list[BaseRoute] = [
    Route("/events", views.list_events, name="events"),
    Route("/events/{slug}", views.get_event, name="event"),
    Route("/topics", views.list_topics, name="topics"),
    Route("/series/{slug}", views.get_series, name="series"),
    Route("/campaigns/{slug}", views.get_campaign, name="campaign"),
    Route("/openapi.json", views.openapi_document, name="openapi"),
    # The organiser write API (bearer token). One route per method: each is one operation.
    Route("/organiser/events", organiser.create_event, methods=["POST"], name="organiser_create"),
    Route(EVENT, organiser.get_event, methods=["GET"], name="organiser_event"),
    Route(EVENT, organiser.update_event, methods=["PATCH"], name="organiser_update"),
    Route(
        REGISTRATIONS,
        organiser.list_registrations,
        methods=["GET"],
        name="organiser_registrations",
    ),
    Route(REGISTRATIONS, organiser.add_registration, methods=["POST"], name="organiser_register"),
    Route(
        REGISTRATIONS + "/" + id_param("registration_id") + "/cancel",
        organiser.cancel_registration,
        methods=["POST"],
        name="organiser_cancel",
    ),
    Route(
        EVENT + "/attendance",
        organiser.mark_attendance,
        methods=["POST"],
        name="organiser_attendance",
    ),
]
