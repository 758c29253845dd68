"""The sandbox in headless Chromium, used as a person would: register and check in by scanning,
redeem a voucher and scan it at the desk, see the answers to buttons, reload, switch language.

Debian's ``chromium`` package is the browser. The test installs it when it can (as root, with
apt-get, as CI runs); elsewhere it fails with the one command that installs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
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


@contextlib.asynccontextmanager
async def browser_page(url: str) -> AsyncIterator:
    """A phone-sized page of the sandbox in a browser whose language is English."""
    from playwright.async_api import async_playwright

    chromium = await asyncio.to_thread(ensure_chromium)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        try:
            page = await browser.new_page(viewport={"width": 420, "height": 860}, locale="en-US")
            page.set_default_timeout(15_000)
            await page.goto(url)
            yield page
        finally:
            await browser.close()


class Person:
    """Types, taps and scans on the page, and waits for what the bot answers."""

    def __init__(self, page) -> None:
        from playwright.async_api import expect

        self.page = page
        self.expect = expect
        self.log = page.locator("#log")

    async def be(self, persona: int) -> None:
        await self.page.select_option("#persona", str(persona))

    async def say(self, text: str, answer: str) -> None:
        await self.page.fill("#text", text)
        await self.page.press("#text", "Enter")
        await self.expect(self.log).to_contain_text(answer)

    async def tap(self, label: str | re.Pattern, answer: str | None = None) -> None:
        await self.page.get_by_role("button", name=label, exact=True).last.click()
        if answer is not None:
            await self.expect(self.log).to_contain_text(answer)

    async def scan(self, *fragments: str) -> None:
        """Open 📷 Scan and pick the newest link whose label holds every fragment."""
        await self.page.click("#scanButton")
        choice = self.page.locator("#linkBox button.link")
        for fragment in fragments:
            choice = choice.filter(has_text=fragment)
        await choice.first.click()


async def test_register_and_check_in_through_the_page(sandbox_url):
    async with browser_page(sandbox_url) as page:
        me = Person(page)
        expect, log = me.expect, me.log
        await expect(page.locator("#scanButton")).to_have_text("📷 Scan")
        await me.be(9101)  # the new user
        await me.say("/start", "Privacy notice")
        await me.tap("I agree", "What is your name?")
        await me.say("Browser Talent", "share your phone number")
        await me.tap("Skip", "fields of expertise")
        await page.get_by_role("button", name="Medicine & health").last.click()
        await expect(page.get_by_role("button", name="✓ Medicine & health")).to_be_visible()
        await me.tap("Done", "professional title")
        await me.tap("Skip", "Where do you come from")
        await me.say("Harbin", "Which talent station")
        await me.tap("Downtown hub", "When are you in the city")
        await me.tap("I'm here now", "Until when")
        leave = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=60)
        await me.say(leave.isoformat(), "Please check your details")
        await me.tap("✅ Confirm", "you are registered")

        # A button of the finished registration: the bot's answer shows as an alert with OK.
        await page.get_by_role("button", name="I agree", exact=True).first.click()
        alert = page.locator("#alert")
        await expect(alert).to_be_visible()
        await expect(alert).to_contain_text("This button has expired")
        await page.get_by_role("button", name="OK").click()
        await expect(alert).to_be_hidden()

        # The coordinator, who talks to the bot in the page's language, prints the code.
        await me.be(9103)
        await me.say("/manage", "Your station's activities")
        await page.get_by_role("button", name="Winter health talk").first.click()
        await me.tap("📱 Check-in QR code", "Scan to check in")
        await expect(page.locator("#log img").last).to_be_visible()

        await me.be(9101)  # the talent scans it at the door
        await me.scan("Check-in code", "Winter health talk")
        await expect(log).to_contain_text(
            "✅ Checked in: 冬季养生讲座 Winter health talk. +10 points"
        )


async def test_the_desk_scans_a_voucher_and_the_page_keeps_its_chats_and_language(sandbox_url):
    async with browser_page(sandbox_url) as page:
        me = Person(page)
        expect, log = me.expect, me.log
        await me.be(9102)  # the talent with points redeems a night at the hotel
        await me.say("/rewards", "Rewards")
        await me.tap(re.compile("A night at the spa hotel"), "breakfast included")
        await me.tap("🎁 Redeem", "redeem")
        await me.tap("Yes, redeem", "Here is your voucher")
        await expect(page.locator("#log img").last).to_be_visible()

        # The desk scans the QR code the talent shows: it is offered, named for what it is.
        await me.be(9104)
        await me.scan("Voucher", "A night at the spa hotel", "shown to Talent with points")
        await expect(log).to_contain_text("For: 李明")
        await me.tap("☑️ Mark used", "cannot be undone")
        await me.tap("✅ Yes, mark it used")
        toast = page.locator("#toast")
        await expect(toast).to_be_visible()
        await expect(toast).to_have_text("Marked used.")
        await expect(toast).to_be_hidden()  # a toast fades by itself, as in Telegram
        await expect(log).to_contain_text("already used on")

        # A reload brings back the same persona and its whole chat.
        await page.reload()
        await expect(page.locator("#persona")).to_have_value("9104")
        await expect(log).to_contain_text("For: 李明")
        await expect(log).to_contain_text("already used on")

        # The language switch: the next replies come in Chinese, from the stored language of
        # a registered talent and the Telegram language of a persona the bot has no row for.
        await page.select_option("#lang", "zh")
        await expect(page.locator("#scanButton")).to_have_text("📷 扫码")
        await me.be(9102)
        await me.say("/points", "我的积分")
        await me.be(9001)  # the admin
        await me.say("/admin", "工作站")
        await page.reload()
        await expect(page.locator("#lang")).to_have_value("zh")
        await expect(page.locator("#persona")).to_have_value("9001")
        await expect(log).to_contain_text("工作站")
