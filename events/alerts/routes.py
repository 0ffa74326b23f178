from starlette.routing import BaseRoute, Route

from events.alerts import views

# Paths of "alerts:confirm" and "alerts:unsubscribe" are also in mail/compose.py (emails link
# to them); tests/alerts check the two agree.
routes: list[BaseRoute] = [
    Route(
        "/alerts/topics/{slug}", views.subscribe_form, methods=["GET"], name="alerts:subscribe_form"
    ),
    Route("/alerts/topics/{slug}", views.subscribe, methods=["POST"], name="alerts:subscribe"),
    Route(
        "/alerts/topics/{slug}/check-email",
        views.check_email,
        methods=["GET"],
        name="alerts:check_email",
    ),
    Route(
        "/alerts/confirm/{token}", views.confirm_form, methods=["GET"], name="alerts:confirm_form"
    ),
    Route("/alerts/confirm/{token}", views.confirm, methods=["POST"], name="alerts:confirm"),
    Route(
        "/alerts/unsubscribe/{token}",
        views.unsubscribe_form,
        methods=["GET"],
        name="alerts:unsubscribe_form",
    ),
    Route(
        "/alerts/unsubscribe/{token}",
        views.unsubscribe,
        methods=["POST"],
        name="alerts:unsubscribe",
    ),
]
