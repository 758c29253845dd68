"""The rules of a talent's profile fields, shared by registration and profile edits."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import phonenumbers

from bot.services.errors import InvalidInput
from bot.timeparse import Reading, read_date, read_range

# Codes are stored; labels live in the catalogs under "expertise.<code>".
EXPERTISE = (
    "medicine",
    "education",
    "engineering",
    "agriculture",
    "technology",
    "business",
    "law",
    "culture",
    "social_work",
    "other",
)
NAME_MAX = 64
TEXT_MAX = 64
# A season is a winter; a year and a bit covers anyone who stays on, and catches typos like 2072.
STAY_MAX_DAYS = 400
DEFAULT_PHONE_REGION = "CN"


def clean_text(text: str | None, *, max_len: int) -> str:
    """Return a one-line text a person typed, or raise ``InvalidInput`` saying what is wrong."""
    if text is None:
        raise InvalidInput("input.need_text")
    # Control characters and line breaks have no place in a name shown in lists.
    cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch == " ")
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if not cleaned:
        raise InvalidInput("input.empty")
    if cleaned.startswith("/"):
        raise InvalidInput("input.looks_like_command")
    if len(cleaned) > max_len:
        raise InvalidInput("input.too_long", max=max_len, length=len(cleaned))
    return cleaned


def parse_name(text: str | None) -> str:
    """A talent's name, as they want to be addressed: it needs letters (Han characters count).

    ``😀😀`` or ``？？`` would be shown to coordinators and partners as the person's name.
    """
    name = clean_text(text, max_len=NAME_MAX)
    if not any(unicodedata.category(ch).startswith("L") for ch in name):
        raise InvalidInput("input.name_needs_letters")
    return name


def parse_title(text: str | None) -> str:
    """A professional title such as "chief physician"."""
    return clean_text(text, max_len=TEXT_MAX)


def parse_region(text: str | None) -> str:
    """Where the talent comes from, such as "Harbin, Heilongjiang"."""
    return clean_text(text, max_len=TEXT_MAX)


def parse_phone(text: str | None) -> str:
    """A typed phone number in E.164 form; numbers without a country code are taken as Chinese."""
    if not text or len(text) > 32:
        raise InvalidInput("input.bad_phone")
    try:
        number = phonenumbers.parse(text, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidInput("input.bad_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("input.bad_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_shared_phone(raw: str) -> str:
    """A phone number from Telegram's contact button, which may lack the leading '+'."""
    digits = raw.strip()
    return digits if digits.startswith("+") else f"+{digits}"


def mask_phone(phone: str | None) -> str | None:
    """A phone number as others may see it: country code, the first three and last four
    digits (``+86 139****5678``); enough to tell two namesakes apart, not to call them."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, DEFAULT_PHONE_REGION)
        national, country = str(number.national_number), f"+{number.country_code} "
    except phonenumbers.NumberParseException:
        national, country = "".join(ch for ch in phone if ch.isdigit()), ""
    if len(national) >= 10:
        head, tail = 3, 4
    elif len(national) >= 6:
        head, tail = 0, 4
    else:
        head, tail = 0, 0
    hidden = max(4, len(national) - head - tail)
    return f"{country}{national[:head]}{'*' * hidden}{national[len(national) - tail :]}"


def check_expertise(fields: set[str]) -> list[str]:
    """The chosen fields, in catalog order; at least one is needed to match activities."""
    unknown = fields - set(EXPERTISE)
    if unknown:
        raise InvalidInput("common.stale_button")
    if not fields:
        raise InvalidInput("input.pick_one")
    return [code for code in EXPERTISE if code in fields]


def check_stay(start: date, end: date, *, today: date) -> tuple[date, date]:
    """Accept a stay that has not already ended, ends after it starts and is not absurdly long."""
    if end < today:
        raise InvalidInput("input.stay_past")
    if end < start:
        raise InvalidInput("input.stay_backwards")
    if end - start > timedelta(days=STAY_MAX_DAYS):
        raise InvalidInput("input.stay_too_long", days=STAY_MAX_DAYS)
    return start, end


def parse_stay(text: str | None, *, today: date) -> Reading[tuple[date, date]]:
    """Read "from … to …" typed in one message; an unsure reading is asked back."""
    if not text or len(text) > 160:
        raise InvalidInput("input.bad_stay")
    reading = read_range(text, today=today)
    if reading is None:
        raise InvalidInput("input.bad_stay")
    return Reading(check_stay(*reading.value, today=today), sure=reading.sure)


def parse_departure(text: str | None, *, today: date) -> Reading[tuple[date, date]]:
    """Read the departure date of a talent who is here now; the stay starts today."""
    if not text:
        raise InvalidInput("input.bad_date")
    reading = read_date(text, today=today)
    if reading is None:
        raise InvalidInput("input.bad_date")
    return Reading(check_stay(today, reading.value, today=today), sure=reading.sure)
