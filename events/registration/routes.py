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
        "/events/{slug}/registered/{ticket}",
        views.done,
        methods=["GET"],
        name="registration:done",
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
    Route(
        "/series/{slug}/registered/{ticket}",
        views.series_done,
        methods=["GET"],
        name="registration:series_done",
    ),
    Route("/r/{token}", views.manage, methods=["GET"], name="registration:manage"),
    Route(
        "/r/{token}/cancel",
        views.cancel_confirm,
        methods=["GET"],
        name="registration:cancel_confirm",
    ),
    Route("/r/{token}/cancel", views.cancel, methods=["POST"], name="registration:cancel"),
    Route(
        "/r/{token}/cancelled",
        views.cancelled,
        methods=["GET"],
        name="registration:cancelled",
    ),
    Route("/j/{token}", views.join, methods=["GET"], name="registration:join"),
]
