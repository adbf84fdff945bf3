"""All model ↔ ActivityStreams conversion; each module's docstring states its decisions.

- :mod:`.vocab`: contexts, the theme ↔ category mapping, field limits, :func:`host_of`;
- :mod:`.outgoing_event`, :mod:`.outgoing_actor`: our models → documents, built from
  the shared pieces of :mod:`.outgoing_parts` (context, places, hashtags, activities);
- :mod:`.incoming_event` (with :mod:`.incoming_place`), :mod:`.incoming_actor`: peers'
  documents → plain frozen dataclasses;
- :mod:`.values`: tolerant value readers and the activity envelope (``object_id``,
  ``unwrap_announce``, ``parse_tombstone``).
"""

from __future__ import annotations

from federation.convert.incoming_actor import RemoteActor, parse_actor
from federation.convert.incoming_event import DEFAULT_TIMEZONE, RemoteEvent, parse_event
from federation.convert.incoming_place import RemotePlace
from federation.convert.outgoing_actor import (
    ActorUrls,
    application_actor,
    followers_of,
    group_actor,
    person_actor,
)
from federation.convert.outgoing_event import event_object, summary_line
from federation.convert.outgoing_parts import (
    activity,
    context,
    hashtags,
    place_object,
    tombstone,
    update_id,
    utc_iso,
)
from federation.convert.values import (
    ParseError,
    object_id,
    object_type,
    parse_tombstone,
    unwrap_announce,
)
from federation.convert.vocab import (
    AS_CONTEXT,
    AS_PUBLIC,
    CATEGORY_THEMES,
    CONTEXT,
    DEFAULT_CATEGORY,
    EXTENSION_CONTEXT,
    SECURITY_CONTEXT,
    THEME_CATEGORIES,
    category_of,
    host_of,
)

__all__ = [
    "AS_CONTEXT",
    "AS_PUBLIC",
    "CATEGORY_THEMES",
    "CONTEXT",
    "DEFAULT_CATEGORY",
    "DEFAULT_TIMEZONE",
    "EXTENSION_CONTEXT",
    "SECURITY_CONTEXT",
    "THEME_CATEGORIES",
    "ActorUrls",
    "ParseError",
    "RemoteActor",
    "RemoteEvent",
    "RemotePlace",
    "activity",
    "application_actor",
    "category_of",
    "context",
    "event_object",
    "followers_of",
    "group_actor",
    "hashtags",
    "host_of",
    "object_id",
    "object_type",
    "parse_actor",
    "parse_event",
    "parse_tombstone",
    "person_actor",
    "place_object",
    "summary_line",
    "tombstone",
    "unwrap_announce",
    "update_id",
    "utc_iso",
]
