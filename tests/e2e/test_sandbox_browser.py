"""The sandbox in headless Chromium: register a new talent, then check in with the scan action.

Debian's ``chromium`` package is the browser. The test installs it when it can (as root, with
apt-get, as CI runs); elsewhere it fails with the one command that installs it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import running_sandbox

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def ensure_chromium() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, timeout=1200
        )
        return CHROMIUM
    pytest.fail("This test needs Debian's Chromium: run `sudo apt-get install chromium`.")


@pytest.fixture
async def sandbox_url(tmp_path):
    async with running_sandbox(tmp_path, tmp_path / "sandbox.sqlite3") as sandbox:
        yield sandbox.url


async def test_register_and_check_in_through_the_page(sandbox_url):
    from playwright.async_api import async_playwright, expect

    chromium = await asyncio.to_thread(ensure_chromium)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        page = await browser.new_page(viewport={"width": 420, "height": 860})
        page.set_default_timeout(15_000)
        await page.goto(sandbox_url)
        await page.select_option("#lang", "en")
        await expect(page.locator("#scanButton")).to_have_text("📷 Scan")
        log = page.locator("#log")

        async def say(text: str, answer: str) -> None:
            await page.fill("#text", text)
            await page.press("#text", "Enter")
            await expect(log).to_contain_text(answer)

        async def tap(label: str, answer: str) -> None:
            await page.get_by_role("button", name=label, exact=True).last.click()
            await expect(log).to_contain_text(answer)

        await page.select_option("#persona", "9101")  # the new user
        await say("/start", "Privacy notice")
        await tap("I agree", "What is your name?")
        await say("Browser Talent", "share your phone number")
        await tap("Skip", "fields of expertise")
        await page.get_by_role("button", name="Medicine & health").last.click()
        await expect(page.get_by_role("button", name="✓ Medicine & health")).to_be_visible()
        await tap("Done", "professional title")
        await tap("Skip", "Where do you come from")
        await say("Harbin", "Which talent station")
        await tap("Downtown hub", "When are you in the city")
        await tap("I'm here now", "Until when")
        leave = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=60)
        await say(leave.isoformat(), "Please check your details")
        await tap("✅ Confirm", "you are registered")

        # The coordinator, who reads the bot in Chinese, prints the code.
        await page.select_option("#persona", "9103")
        await say("/manage", "本站活动")
        await page.get_by_role("button", name="Winter health talk").first.click()
        await tap("📱 签到二维码", "扫码签到")
        await expect(page.locator("#log img").last).to_be_visible()

        await page.select_option("#persona", "9101")  # the talent scans it at the door
        await page.click("#scanButton")
        await page.locator("#linkBox button", has_text="ci-").first.click()
        await expect(log).to_contain_text(
            "✅ Checked in: 冬季养生讲座 Winter health talk. +10 points"
        )
        await browser.close()
