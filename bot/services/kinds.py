"""Kinds of activities and the notification topics built on them (shared by several features)."""

from __future__ import annotations

# "surgery" (surgery guidance) is asked for by hospitals as a request (bot/services/requests.py).
ACTIVITY_KINDS = (
    "event", "volunteer", "lecture", "clinic", "surgery", "teaching", "mentoring", "other",
)  # fmt: skip

# A talent may turn each of these off in /settings; every audience respects the choice.
TOPIC_NEWS = "news"  # broadcasts from coordinators and the talent office
TOPIC_REMINDERS = "reminders"
TOPIC_POINTS = "points"  # a talent's points or service hours changed (by staff, or a refund)
TOPIC_CAMPAIGNS = "campaigns"  # produce campaigns (爱心助农) opened by stations and the office
# Messages about an activity someone signed up for; they cannot be switched off in /settings.
TOPIC_SIGNED_UP = "signed-up"
ANNOUNCE_PREFIX = "announce."


def announce_topic(kind: str) -> str:
    """The topic of announcements of activities of ``kind``."""
    return f"{ANNOUNCE_PREFIX}{kind}"


TOPICS = (
    TOPIC_NEWS,
    *(announce_topic(kind) for kind in ACTIVITY_KINDS),
    TOPIC_CAMPAIGNS,
    TOPIC_REMINDERS,
    TOPIC_POINTS,
)
