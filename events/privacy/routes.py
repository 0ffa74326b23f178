"""Privacy routes: names "privacy:<page>"."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from events.privacy import notice_views, views

routes: list[BaseRoute] = [
    Route("/privacy", views.request_form, methods=["GET"], name="privacy:request"),
    Route("/privacy", views.request_copy, methods=["POST"], name="privacy:request_copy"),
    Route("/privacy/requested", views.requested, methods=["GET"], name="privacy:requested"),
    Route("/privacy/erase/{token}", views.erase_form, methods=["GET"], name="privacy:erase"),
    Route("/privacy/erase/{token}", views.erase, methods=["POST"], name="privacy:erase_now"),
    Route("/privacy-notice", notice_views.privacy_notice, methods=["GET"], name="privacy:notice"),
    Route(
        "/accessibility",
        notice_views.accessibility,
        methods=["GET"],
        name="privacy:accessibility",
    ),
]
