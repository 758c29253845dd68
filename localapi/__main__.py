"""Run the Bot API imitation on its own: ``python -m localapi --port 8081``.

Point a bot at the printed base_url (PTB's ``base_url``) and the printed token.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from .core import FakeBotApi
from .server import BotApiServer


async def _serve(args: argparse.Namespace) -> None:
    api = FakeBotApi(token=args.token, username=args.username)
    server = BotApiServer(api, host=args.host, port=args.port)
    await server.start()
    print(f"base_url: {server.base_url}", flush=True)
    print(f"token:    {api.token}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
        await api.aclose()


def main(argv: list[str] | None = None) -> None:
    defaults = FakeBotApi()
    parser = argparse.ArgumentParser(
        prog="python -m localapi", description="A local imitation of Telegram's Bot API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (0: any)")
    parser.add_argument("--token", default=defaults.token, help="the bot token to accept")
    parser.add_argument("--username", default=defaults.username, help="the bot's username")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
