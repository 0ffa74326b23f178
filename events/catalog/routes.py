from starlette.routing import BaseRoute, Route

from events.catalog import views

routes: list[BaseRoute] = [
    Route("/", views.home, name="catalog:home"),
    Route("/events", views.listing, name="catalog:listing"),
    Route("/events/{slug}", views.event_page, name="catalog:event"),
    Route("/topics", views.topic_index, name="catalog:topics"),
    Route("/topics/{slug}", views.topic_page, name="catalog:topic"),
    Route("/series/{slug}", views.series_page, name="catalog:series"),
    Route("/campaigns/{slug}", views.campaign_page, name="catalog:campaign"),
    Route("/healthz", views.healthz, name="catalog:healthz"),
    Route("/readyz", views.readyz, name="catalog:readyz"),
]
