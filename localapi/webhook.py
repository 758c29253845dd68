"""Delivery of queued updates to a webhook, the way Telegram's servers do it.

One update at a time, oldest first; an update counts as delivered only when the webhook answers
with a 2xx status. Anything else is recorded as the webhook's last error (getWebhookInfo shows
it) and the same update is retried after a growing pause.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from .core import FakeBotApi, _Webhook

logger = logging.getLogger(__name__)

MAX_RETRY_DELAY = 30.0


async def deliver_updates(api: FakeBotApi, hook: _Webhook) -> None:
    """Runs until the webhook is deleted or replaced (or the task is cancelled)."""
    delay = api.webhook_retry_delay
    # trust_env=False: a proxy configured for the outside world must never see loopback traffic.
    async with httpx.AsyncClient(trust_env=False, timeout=10.0) as client:
        while api._webhook_active(hook):
            update = api._next_webhook_update()
            if update is None:
                await api._wait_change(None)
                continue
            headers = {"Content-Type": "application/json"}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            body = json.dumps(update, ensure_ascii=False).encode("utf-8")
            try:
                response = await client.post(hook.url, content=body, headers=headers)
            except httpx.HTTPError as error:
                problem = f"Connection failed: {error!r}"
            else:
                if 200 <= response.status_code < 300:
                    logger.debug("update %s delivered to %s", update["update_id"], hook.url)
                    api._webhook_delivered(update["update_id"])
                    delay = api.webhook_retry_delay
                    continue
                problem = (
                    f"Wrong response from the webhook: {response.status_code} "
                    f"{response.reason_phrase}"
                )
            if not api._webhook_active(hook):
                break
            api._webhook_failed(hook, problem)
            await _sleep_unless_replaced(api, hook, delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)


async def _sleep_unless_replaced(api: FakeBotApi, hook: _Webhook, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while api._webhook_active(hook):
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        await api._wait_change(remaining)
