from starlette.routing import BaseRoute, Route

from events.registration import views

routes: list[BaseRoute] = [
    Route(
        "/events/{slug}/register", views.register_form, methods=["GET"], name="registration:form"
    ),
    Route(
        "/events/{slug}/register", views.register, methods=["POST"], name="registration:register"
    ),
    Route(
        "/series/{slug}/register",
        views.series_form,
        methods=["GET"],
        name="registration:series_form",
    ),
    Route(
        "/series/{slug}/register",
        views.register_series,
        methods=["POST"],
        name="registration:series",
    ),
    Route("/r/{token}", views.manage, methods=["GET"], name="registration:manage"),
    Route(
        "/r/{token}/cancel",
        views.cancel_confirm,
        methods=["GET"],
        name="registration:cancel_confirm",
    ),
    Route("/r/{token}/cancel", views.cancel, methods=["POST"], name="registration:cancel"),
    Route("/j/{token}", views.join, methods=["GET"], name="registration:join"),
]
