"""The organiser console's routes, all under /organiser; names "organiser:<page>"."""

from __future__ import annotations

from starlette.routing import BaseRoute

from events.organiser import account_views, attendance_views, event_views, notice_views

routes: list[BaseRoute] = [
    *account_views.routes,
    *event_views.routes,
    *attendance_views.routes,
    *notice_views.routes,
]
