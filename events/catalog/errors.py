"""Catalogue errors (see events/errors.py for the whole tree)."""

from events.errors import NotFound


class EventNotFound(NotFound):
    code = "event_not_found"
    message = "We could not find that event. It may have been moved or removed."


class TopicNotFound(NotFound):
    code = "topic_not_found"
    message = "We could not find that topic."


class SeriesNotFound(NotFound):
    code = "series_not_found"
    message = "We could not find that series."


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    message = "We could not find that campaign."


class PartnerNotFound(NotFound):
    code = "partner_not_found"
    message = "We could not find that partner organisation."
