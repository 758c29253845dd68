"""``talentbot sandbox`` as a real process: it keeps to its own database and its own page."""

import asyncio
import contextlib
import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.sandbox import SANDBOX_APPLICATION_ID
from bot.sandbox.seed import PERSONAS
from storage.database import Database
from storage.talents import TalentRepository
from tests.e2e.conftest import START_TIMEOUT, TALENTBOT, clean_env, free_port, running_sandbox

NEWCOMER, COORDINATOR = PERSONAS[0].id, PERSONAS[2].id


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file in ``folder`` (a -wal or -shm appearing counts too) with a hash of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


async def real_database(path: Path) -> None:
    """A database as `talentbot run` leaves it, with a talent in it."""
    db = Database(path)
    await db.connect()
    await TalentRepository(db).ensure(4242, now=datetime.now(UTC))
    await db.close()


async def refusal(tmp_path: Path, db: Path, **env: str) -> str:
    """Start the sandbox on ``db``; return what it said when it refused to start."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        str(TALENTBOT), "sandbox", "--port", str(port), "--db", str(db),
        cwd=tmp_path, env=clean_env(**env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=1) as http:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + START_TIMEOUT
            while process.returncode is None:
                assert loop.time() < deadline, "the sandbox neither started nor refused"
                with contextlib.suppress(httpx.TransportError):
                    await http.get(f"http://127.0.0.1:{port}/api/links")
                    pytest.fail(f"the sandbox started on {db}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), timeout=0.2)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    out, err = await process.communicate()
    assert process.returncode == 2, err
    assert out == b""
    lines = err.decode().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("kind", ["bot database", "empty file", "other file"])
async def test_a_file_the_sandbox_did_not_create_is_refused_untouched(tmp_path, kind):
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "talentbot.sqlite3"
    if kind == "bot database":
        await real_database(db)
    elif kind == "empty file":
        db.touch()
    else:
        db.write_text("notes, not a database\n")
    before = fingerprint(folder)
    said = await refusal(tmp_path, db, TALENTBOT_DB=str(tmp_path / "elsewhere.sqlite3"))
    assert said == (
        f"talentbot sandbox: {db} was not made by the sandbox, which opens only databases it "
        "created; pass --db with a new file name"
    )
    assert fingerprint(folder) == before


async def test_the_bots_own_database_is_refused_untouched(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    await real_database(folder / "talentbot.sqlite3")
    before = fingerprint(folder)
    # Spelled differently from TALENTBOT_DB, and in the default place beside it.
    said = await refusal(tmp_path, Path("data/../data/talentbot.sqlite3"))
    assert said.startswith("talentbot sandbox: data/../data/talentbot.sqlite3 is TALENTBOT_DB")
    assert fingerprint(folder) == before
    # Not even created when it does not exist yet: `run` would take it for its own later.
    fresh = tmp_path / "fresh.sqlite3"
    said = await refusal(tmp_path, fresh, TALENTBOT_DB=str(fresh))
    assert "is TALENTBOT_DB" in said
    assert not fresh.exists()


async def test_a_new_file_becomes_a_marked_sandbox_database_it_may_reopen(tmp_path):
    db = tmp_path / "demo" / "box.sqlite3"
    for _ in range(2):
        async with running_sandbox(tmp_path, db):
            pass
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == SANDBOX_APPLICATION_ID
        assert conn.execute("SELECT count(*) FROM stations").fetchone()[0] == 4
        # One open request, at the hospital, for a talent to apply to.
        assert conn.execute(
            "SELECT s.name_en FROM activities a JOIN stations s ON s.id = a.station_id"
            " WHERE a.request = 'open' AND a.status = 'published'"
        ).fetchall() == [("City hospital",)]


# --- the page's API ----------------------------------------------------------------------------


async def chat(http: httpx.AsyncClient, user: int) -> list[dict]:
    return (await http.get("/api/chat", params={"user": user})).json()["messages"]


@pytest.fixture
async def box(tmp_path):
    """A running sandbox and an HTTP client at its address."""
    async with (
        running_sandbox(tmp_path, tmp_path / "box.sqlite3") as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, trust_env=False) as http,
    ):
        yield sandbox, http


async def test_the_api_refuses_other_sites_and_changes_nothing(box):
    sandbox, http = box
    own_origin = sandbox.url.rstrip("/")
    message = {"user": NEWCOMER, "lang": "en", "text": "/start"}
    body = json.dumps(message)
    attempts = {
        # A form or fetch() from any page may send text/plain without asking first.
        "text/plain": http.post("/api/send", content=body, headers={"Content-Type": "text/plain"}),
        "no content type": http.post("/api/send", content=body),
        "foreign origin": http.post(
            "/api/send", json=message, headers={"Origin": "http://evil.example"}
        ),
        "opaque origin": http.post("/api/send", json=message, headers={"Origin": "null"}),
        "other port": http.post(
            "/api/send", json=message, headers={"Origin": "http://127.0.0.1:1"}
        ),
        # A name that resolves to 127.0.0.1 (DNS rebinding) keeps its own Host header.
        "foreign host": http.post(
            "/api/send", json=message, headers={"Host": f"rebind.example:{sandbox.port}"}
        ),
        "foreign host reads": http.get(
            "/api/chat",
            params={"user": COORDINATOR},
            headers={"Host": f"rebind.example:{sandbox.port}"},
        ),
    }
    statuses = {name: (await request).status_code for name, request in attempts.items()}
    assert statuses == {
        "text/plain": 415,
        "no content type": 415,
        "foreign origin": 403,
        "opaque origin": 403,
        "other port": 403,
        "foreign host": 403,
        "foreign host reads": 403,
    }
    assert await chat(http, NEWCOMER) == []
    # The page itself: JSON from its own origin, by either name of this machine.
    sent = await http.post("/api/send", json=message, headers={"Origin": own_origin})
    assert sent.status_code == 200
    local = f"localhost:{sandbox.port}"
    page = await http.get("/", headers={"Host": local, "Origin": f"http://{local}"})
    assert page.status_code == 200 and "<html" in page.text
    replies = await sandbox.until(
        lambda: _bot_messages(http, NEWCOMER, lambda m: "Privacy notice" in m["text"])
    )
    assert len(replies) == 1


async def _bot_messages(http: httpx.AsyncClient, user: int, match) -> list[dict]:
    return [m for m in await chat(http, user) if not m["mine"] and match(m)]


async def test_files_are_never_served_as_something_a_browser_runs(box):
    sandbox, http = box

    async def send(**body) -> None:
        sent = await http.post("/api/send", json={"user": COORDINATOR, **body})
        assert sent.status_code == 200, sent.text

    # The coordinator prints the check-in code: a PNG and a PDF page with the title.
    await send(lang="en", text="/manage")
    (listing,) = await sandbox.until(
        lambda: _bot_messages(http, COORDINATOR, lambda m: bool(m["buttons"]))
    )
    await send(kind="tap", message_id=listing["id"], data=listing["buttons"][0][0]["data"])

    def qr_button(message: dict) -> str | None:
        found = [b["data"] for row in message["buttons"] for b in row if ":qr:" in b["data"]]
        return found[0] if found else None

    (page,) = await sandbox.until(lambda: _bot_messages(http, COORDINATOR, qr_button))
    await send(kind="tap", message_id=page["id"], data=qr_button(page))
    (svg,) = await sandbox.until(
        lambda: _bot_messages(http, COORDINATOR, lambda m: "document" in m)
    )
    (photo,) = await _bot_messages(http, COORDINATOR, lambda m: "photo" in m)
    assert svg["document"]["name"].endswith(".pdf")

    for query in ({"download": "1", "name": "x.html"}, {"name": "x.html"}, {}):
        got = await http.get(f"/api/file/{svg['document']['id']}", params=query)
        assert got.status_code == 200 and got.content.startswith(b"%PDF-")
        assert got.headers["content-type"] == "application/octet-stream", query
        assert got.headers["content-disposition"].startswith("attachment;"), query
        assert got.headers["x-content-type-options"] == "nosniff"
    # The page shows photos in place; a PNG stays a PNG whatever name is asked for.
    shown = await http.get(f"/api/file/{photo['photo']}", params={"name": "x.html"})
    assert shown.headers["content-type"] == "image/png"
    assert "content-disposition" not in shown.headers
    assert shown.headers["x-content-type-options"] == "nosniff"


async def test_the_bot_api_token_is_not_a_known_one(box):
    _, http = box
    # The token every imitation of this project used to take by default.
    refused = await http.post("/bot123456:TEST-TOKEN/sendMessage", json={"chat_id": 1})
    assert refused.status_code == 401
