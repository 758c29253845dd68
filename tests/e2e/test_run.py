"""``talentbot run`` as a real process: the whole registration over HTTP, in zh and in en."""

import asyncio
import sqlite3
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import fmt_date
from storage.database import load_migrations
from tests.e2e.conftest import TALENTBOT, free_port, running_bot


def local_today():
    # The bot process runs on the real clock, so the test's dates are relative to today.
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def registered(db_path, telegram_id):
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "SELECT name, language, phone, region, stay_from, stay_to, registered_at IS NOT NULL"
            " FROM talents WHERE telegram_id = ?",
            (telegram_id,),
        ).fetchone()


async def test_registration_in_english_over_http(live_bot):
    alice = live_bot.user("Alice", language="en")
    await alice.send("/start")
    await alice.expect("Privacy notice")
    await alice.tap("I agree")
    await alice.expect("What is your name?")
    await alice.send("Alice <Smith> & Co")
    await alice.expect("share your phone number")
    await alice.tap("📱 Share my phone number")
    await alice.expect("fields of expertise")
    await alice.tap("Engineering")
    await alice.expect("fields of expertise")
    await live_bot.api.wait_for(lambda: "✓ Engineering" in alice.buttons())
    await alice.tap("Done")
    await alice.expect("professional title")
    await alice.tap("Skip")
    await alice.expect("Where do you come from")
    await alice.send("Shenyang, Liaoning")
    await alice.expect("Which talent station")
    await alice.tap("Not sure yet")
    await alice.expect("When are you in the city")
    arrive, leave = local_today() + timedelta(days=5), local_today() + timedelta(days=100)
    await alice.send(f"{arrive.isoformat()} to {leave.isoformat()}")
    summary = await alice.expect("Please check your details")
    assert "Name: Alice <Smith> & Co" in summary
    assert f"Stay: {fmt_date(arrive, 'en')} – {fmt_date(leave, 'en')}" in summary
    await alice.tap("✅ Confirm")
    await alice.expect("Welcome, Alice <Smith> & Co!")
    row = registered(live_bot.db_path, alice.id)
    assert row[0] == "Alice <Smith> & Co" and row[1] == "en" and row[2] == "+8613800138000"
    assert row[3] == "Shenyang, Liaoning" and row[6] == 1
    assert (row[4], row[5]) == (arrive.isoformat(), leave.isoformat())


async def test_registration_in_chinese_over_http(live_bot):
    wang = live_bot.user("王", language="zh-hans")
    await wang.send("/start")
    await wang.expect("隐私声明")
    await wang.tap("我同意")
    await wang.expect("请问您的姓名是？")
    await wang.send("王丽")
    await wang.expect("分享手机号")
    await wang.send("13800138000")
    await wang.expect("您的专业领域是")
    await wang.tap("农业")
    await live_bot.api.wait_for(lambda: "✓ 农业" in wang.buttons())
    await wang.tap("完成")
    await wang.expect("您的职称是什么")
    await wang.send("高级农艺师")
    await wang.expect("您来自哪里")
    await wang.send("吉林长春")
    await wang.expect("您希望加入哪个人才工作站")
    await wang.tap("暂不确定")
    await wang.expect("您这一季何时在本地")
    await wang.tap("我已经在本地")
    await wang.expect("您会待到什么时候")
    leave = local_today() + timedelta(days=90)
    await wang.send(f"{leave.year}年{leave.month}月{leave.day}日")
    summary = await wang.expect("请核对您的信息")
    assert "职称：高级农艺师" in summary
    assert f"居留：{fmt_date(local_today(), 'zh')} 至 {fmt_date(leave, 'zh')}" in summary
    await wang.tap("✅ 确认")
    await wang.expect("王丽，欢迎您！")
    row = registered(live_bot.db_path, wang.id)
    assert row[0] == "王丽" and row[1] == "zh" and row[5] == leave.isoformat() and row[6] == 1


async def test_menus_are_registered_with_the_server(live_bot):
    menus = [c for c in live_bot.api.calls if c.method == "setMyCommands"]
    assert {m.params.get("language_code", "") for m in menus} >= {"zh", "en", ""}
    assert all(c.error is None for c in live_bot.api.calls), [
        (c.method, c.error) for c in live_bot.api.calls if c.error
    ]


async def test_webhook_mode(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/talentbot-hook"
    env = {
        "TALENTBOT_WEBHOOK_URL": url,
        "TALENTBOT_WEBHOOK_LISTEN": "127.0.0.1",
        "TALENTBOT_WEBHOOK_PORT": str(port),
        "TALENTBOT_WEBHOOK_SECRET": "s3cret-token",
    }
    async with running_bot(tmp_path, **env) as live:
        hooks = [c for c in live.api.calls if c.method == "setWebhook"]
        assert [(c.params["url"], c.params.get("secret_token"), c.error) for c in hooks] == [
            (url, "s3cret-token", None)
        ]
        bob = live.user("Bob")
        await bob.send("/start")
        await bob.expect("Privacy notice")
        assert not any(c.method == "getUpdates" for c in live.api.calls)
    assert live.process.returncode == 0


async def test_run_without_a_token_explains_in_one_line(tmp_path):
    result = await asyncio.to_thread(
        subprocess.run,
        [str(TALENTBOT), "run"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "TELEGRAM_BOT_TOKEN is not set" in lines[0]


async def test_bad_setting_explains_in_one_line(tmp_path):
    result = await asyncio.to_thread(
        subprocess.run,
        [str(TALENTBOT), "run"],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "TALENTBOT_TIMEZONE": "Mars/Olympus",
            "TELEGRAM_BOT_TOKEN": "1:x",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "talentbot: TALENTBOT_TIMEZONE: 'Mars/Olympus' is not a known time zone "
        "(use a name like Asia/Shanghai)"
    )


async def test_migrate_command(tmp_path):
    def migrate():
        return subprocess.run(
            [str(TALENTBOT).replace("talentbot", "python"), "-m", "bot", "migrate"],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "TALENTBOT_DB": str(tmp_path / "m" / "db.sqlite3")},
            capture_output=True,
            text=True,
            timeout=60,
        )

    first = await asyncio.to_thread(migrate)
    assert first.returncode == 0, first.stderr
    newest, count = load_migrations()[-1][0], len(load_migrations())
    assert f"schema version 0 -> {newest} ({count} applied)" in first.stdout
    second = await asyncio.to_thread(migrate)
    assert f"schema version {newest} -> {newest} (0 applied)" in second.stdout
