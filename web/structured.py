"""schema.org structured data (JSON-LD) of the pages, for search engines and apps."""

from __future__ import annotations

from typing import Any

from node.api.ical import html_to_text
from node.api.representations import EventOut

_STATUS = {
    "confirmed": "https://schema.org/EventScheduled",
    "tentative": "https://schema.org/EventScheduled",
    "cancelled": "https://schema.org/EventCancelled",
}


def event_json_ld(event: EventOut) -> dict[str, Any]:
    """A schema.org ``Event``: times with the event zone's offset, place, organisers."""
    place = event.place
    locations: list[dict[str, Any]] = []
    if place is not None:
        physical: dict[str, Any] = {
            "@type": "Place",
            "name": place.name or place.city or "",
            "address": {
                "@type": "PostalAddress",
                "streetAddress": place.street or "",
                "postalCode": place.postal_code or "",
                "addressLocality": place.city or "",
                "addressCountry": place.country or "FR",
            },
        }
        if place.latitude is not None and place.longitude is not None:
            physical["geo"] = {
                "@type": "GeoCoordinates",
                "latitude": place.latitude,
                "longitude": place.longitude,
            }
        locations.append(physical)
    if event.online_url:
        locations.append({"@type": "VirtualLocation", "url": event.online_url})
    if place is not None and event.online_url:
        mode = "https://schema.org/MixedEventAttendanceMode"
    elif event.online_url:
        mode = "https://schema.org/OnlineEventAttendanceMode"
    else:
        mode = "https://schema.org/OfflineEventAttendanceMode"
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": event.url,
        "url": event.url,
        "name": event.name,
        "startDate": event.starts_at.isoformat(),
        "endDate": event.ends_at.isoformat(),
        "eventStatus": _STATUS.get(event.status, _STATUS["confirmed"]),
        "eventAttendanceMode": mode,
        "location": locations[0] if len(locations) == 1 else locations,
        "organizer": [
            {"@type": "Organization", "name": o.name, "url": o.url} for o in event.organisers
        ],
        "keywords": ", ".join([*event.themes, *event.tags]),
    }
    text = html_to_text(event.description)
    if text:
        data["description"] = text
    if event.capacity is not None:
        data["maximumAttendeeCapacity"] = event.capacity
        data["remainingAttendeeCapacity"] = event.remaining_capacity
    return data
