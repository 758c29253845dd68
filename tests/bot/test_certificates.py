"""Service certificates: the PDF from /points, with its font embedded and its text readable, and
the QR's ``/start cert-<code>`` that tells anyone whether a paper is genuine.

The PDF is read back by Poppler (``pdffonts``, ``pdftotext``), the library most PDF viewers on
Linux are built on, from Debian's ``poppler-utils``: the test installs it when it can (as root,
with apt-get, as CI runs); elsewhere it fails with the one command that installs it. pypdf
checks the font objects; its text extraction does not read the embedded CMap that a CFF font's
encoding needs, so the text is Poppler's.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import timedelta

import pypdf
import pytest

from tests.bot.test_activities import STARTS, admin_viewer, make_activity
from tests.support.flows import add_station, seed_talent
from tests.support.harness import start_harness, stop_harness

LINK = re.compile(r"start=cert-([A-Za-z0-9_-]{1,64})")


async def serve(harness, talent, activity, *, hours=None):
    admin = await admin_viewer(harness)
    token = await harness.services.checkins.code(admin, activity.id)
    harness.clock.set(activity.starts_at)
    await harness.services.checkins.scan(talent.id, token)
    if hours is not None:
        row = (await harness.services.points.points.attendance(activity.id))[0]
        await harness.services.checkins.correct(admin, row.id, hours, "left early")


@pytest.fixture
async def served(harness):
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    talent = await seed_talent(harness, 701, station=hub, language="zh")
    first = await make_activity(harness, hub, title="眼科义诊 🎉")
    second = await make_activity(
        harness, hub, title="老年大学讲座", kind="lecture",
        starts_at=STARTS + timedelta(days=20), ends_at=STARTS + timedelta(days=20, hours=2),
    )  # fmt: skip
    await serve(harness, talent, first, hours=1.5)
    await serve(harness, talent, second)
    harness.clock.set(STARTS + timedelta(days=30))
    return talent


def ensure_poppler() -> None:
    if shutil.which("pdftotext") and shutil.which("pdffonts"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "poppler-utils"], check=True, env=env, timeout=600
        )
        return
    pytest.fail("This test needs Poppler: run `sudo apt-get install poppler-utils`.")


def poppler(tool, data, tmp_path):
    ensure_poppler()
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    args = [tool, str(path), "-"] if tool == "pdftotext" else [tool, str(path)]
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


def pdf_of(harness, user):
    message = harness.api.bot_messages(user.id)[-1]
    assert message["document"]["file_name"].endswith(".pdf")
    return harness.api.file_bytes(message["document"]["file_id"]), message


async def test_the_certificate_pdf(harness, served, tmp_path):
    user = harness.user("王丽", id=701, language="zh")
    await user.send("/points")
    assert user.buttons() == ["📄 服务证明 2026–2027"]
    await user.tap("📄 服务证明 2026–2027")
    data, message = pdf_of(harness, user)
    assert message["caption"].startswith(
        "📄 您的服务证明（2026–2027）：参加活动 2 次，服务 3.5 小时。"
    )
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for font in fonts.values():
        descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        # Embedded (a subset), so any viewer draws it without fonts of its own.
        assert "/FontFile3" in descriptor.get_object() or "/FontFile2" in descriptor.get_object()
        assert "NotoSansCJK" in str(font.get_object()["/BaseFont"])
    fonts_listed = poppler("pdffonts", data, tmp_path).splitlines()
    assert "NotoSansCJKSC" in fonts_listed[2] and " yes yes yes " in fonts_listed[2]
    text = "".join(poppler("pdftotext", data, tmp_path).split())
    for expected in ("服务证明", "兹证明Talent701（市民中心站）", "参加候鸟人才服务活动2次",
                     "累计服务3.5小时", "眼科义诊", "老年大学讲座", "合计3.5",
                     "出具单位：市候鸟人才工作办公室", "2027年1月4日"):  # fmt: skip
        assert expected in text, expected
    code = LINK.search(text).group(1)
    assert len(f"cert-{code}") <= 64
    certificate = await harness.services.certificates.verify(code)
    assert certificate is not None and certificate.hours_centi == 350
    assert code[:3] + "-" in text or code in text

    stranger = harness.user("Stranger", language="en")
    await stranger.send(f"/start cert-{code}")
    assert stranger.last_text() == (
        "✅ Genuine service certificate\nName: Talent 701\nPeriod: Oct 1, 2026 – Sep 30, 2027\n"
        "Service: 3.5 hours in 2 activities\nIssued on Jan 4, 2027 by City Migratory Talent "
        "Office."
    )
    await stranger.send(f"/start cert-{code[:-1]}X")
    assert stranger.last_text().startswith("❌ No certificate has this code.")
    await stranger.send("/start cert-<b>")
    assert stranger.last_text().startswith("❌ No certificate has this code.")
    # The holder erased their data: the paper is still genuine, the name is gone.
    await harness.services.db.execute("UPDATE talents SET name = NULL WHERE id = ?", (served.id,))
    await stranger.send(f"/start cert-{code}")
    assert "Name: (the holder has erased their data)" in stranger.last_text()


async def test_nothing_to_certify(harness, served):
    user = harness.user("王丽", id=701, language="zh")
    await user.send("/points")
    await user.press("ct:2025-10-01", forge=True)
    assert user.alerts()[-1] == "该季度还没有服务记录。"
    other = await seed_talent(harness, 702)
    newcomer = harness.user("N", id=other.telegram_id)
    await newcomer.send("/points")
    assert newcomer.inline_buttons() == []
    await newcomer.press("ct:2026-10-01", forge=True)
    assert newcomer.alerts()[-1] == "No service is recorded in that season yet."
    unregistered = harness.user("U")
    await unregistered.send("/help")
    await unregistered.press("ct:2026-10-01", forge=True)
    assert unregistered.alerts()[-1] == "Sorry, you are not allowed to do that."


async def test_the_season_setting_reaches_the_certificate(tmp_path):
    ensure_poppler()
    harness = await start_harness(tmp_path, TALENTBOT_SEASON_START="11-15")
    try:
        hub = await add_station(harness)
        talent = await seed_talent(harness, 703, station=hub)
        activity = await make_activity(harness, hub)
        await serve(harness, talent, activity)
        user = harness.user("T", id=703)
        await user.send("/points")
        assert user.buttons() == ["📄 Service certificate 2026–2027"]
        await user.tap("📄 Service certificate 2026–2027")
        data, _ = pdf_of(harness, user)
        text = poppler("pdftotext", data, tmp_path)
        assert "from Nov 15, 2026 to Nov 14, 2027" in " ".join(text.split())
        assert harness.errors == []
    finally:
        await stop_harness(harness)
