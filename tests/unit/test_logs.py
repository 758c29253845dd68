"""The log formats: secrets replaced everywhere, lines tagged with the update being handled."""

import io
import json
import logging
from urllib.parse import quote

from bot import logs

TOKEN = "7012345678:AAHk3pX9vZqL2mN8rT4wY6uB1cD5eF7gH0j"


def capture(formatter_class):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_class(logs._Redactor([TOKEN, "hook-secret"])))
    logger = logging.getLogger("bot.test_logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_json_lines_carry_the_update_and_a_hashed_user_and_no_secret():
    logger, stream = capture(logs.JsonFormatter)
    logs.bind_update(4242, 555_000_111)
    try:
        raise ConnectionError(f"cannot reach https://api.telegram.org/bot{quote(TOKEN)}/getMe")
    except ConnectionError:
        logger.exception("request to %s failed", f"https://api.telegram.org/bot{TOKEN}/getMe")
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["level"] == "ERROR" and line["logger"] == "bot.test_logs"
    assert line["update_id"] == 4242
    assert line["user"] == logs.user_ref(555_000_111) and "555000111" not in line["user"]
    assert line["event"] == "request to https://api.telegram.org/bot[redacted]/getMe failed"
    assert "ConnectionError" in line["error"] and TOKEN not in line["error"]
    assert quote(TOKEN) not in line["error"]


def test_text_lines_name_the_update_and_hide_secrets_and_anything_shaped_like_a_token():
    logger, stream = capture(logs.TextFormatter)
    logs.bind_update(7, None)
    logger.warning("secret hook-secret and a stranger's 123456789:%s", "Z" * 35)
    text = stream.getvalue()
    assert text.rstrip().endswith(
        "bot.test_logs: secret [redacted] and a stranger's [redacted] (update 7)"
    )


def test_the_user_hash_is_keyed_by_the_token():
    root = logging.getLogger()
    saved = root.level, root.handlers[:], logs._hash_key
    try:
        logs.configure_logging("INFO", secrets=[TOKEN])
        first = logs.user_ref(42)
        logs.configure_logging("INFO", secrets=["1:another-token"])
        assert logs.user_ref(42) != first
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        logs._hash_key = saved[2]
