"""Every registration step answers nonsense with a clear reply and the same question again."""

import re

import pytest

from tests.support.flows import QUESTION, STEPS, label, walk_to

TEXT_STEPS = {"name", "phone", "title", "region", "stay"}
LONG = "x" * 5000


def question_text(harness, step):
    if step == "confirm":
        return "Please check your details"
    return re.sub(r"<[^>]+>", "", label(harness, "en", QUESTION[step]))


async def assert_asked_again(harness, user, step, explanation):
    texts = " ".join(user.texts()[-2:])
    assert explanation in texts, texts
    assert question_text(harness, step) in user.last_text()
    talent = await harness.services.talents.by_telegram_id(user.id)
    assert talent is None or not talent.registered


@pytest.mark.parametrize("step", STEPS)
async def test_sticker(harness, step):
    alice = harness.user()
    await walk_to(harness, alice, step)
    await alice.send_sticker()
    expected = (
        "Please answer with a text message." if step in TEXT_STEPS else "Please use the buttons"
    )
    await assert_asked_again(harness, alice, step, expected)


@pytest.mark.parametrize("step", STEPS)
async def test_photo(harness, step):
    alice = harness.user()
    await walk_to(harness, alice, step)
    await alice.send_photo()
    expected = (
        "Please answer with a text message." if step in TEXT_STEPS else "Please use the buttons"
    )
    await assert_asked_again(harness, alice, step, expected)


@pytest.mark.parametrize(
    ("step", "explanation"),
    [
        ("consent", "Please use the buttons"),
        ("name", "That is too long (5,000 characters)"),
        ("phone", "doesn't look like a phone number"),
        ("expertise", "Please use the buttons"),
        ("title", "That is too long"),
        ("region", "That is too long"),
        ("station", "Please use the buttons"),
        ("stay", "couldn't read those dates"),
        ("confirm", "Please use the buttons"),
    ],
)
async def test_five_thousand_characters(harness, step, explanation):
    alice = harness.user()
    await walk_to(harness, alice, step)
    await alice.send(LONG)
    await assert_asked_again(harness, alice, step, explanation)


@pytest.mark.parametrize("step", STEPS[1:])
async def test_button_from_an_old_message(harness, step):
    alice = harness.user()
    await walk_to(harness, alice, step)
    consent_message = next(
        m for m in alice.messages() if "Privacy notice" in (m.get("text") or "")
    )
    await alice.press("reg:2:consent:yes", message_id=consent_message["message_id"])
    await assert_asked_again(
        harness,
        alice,
        step,
        "That button has expired; please use the buttons of the newest message.",
    )


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize(
    "data",
    [
        "garbage",
        "reg:",
        "reg:99:back",
        "reg:{n}:station:99999",
        "reg:{n}:lang:fr",
        "reg:{n}:exp:astrology",
        "reg:{n}:nonsense",
        "adm:add",
    ],
)
async def test_forged_callback(harness, step, data):
    alice = harness.user()
    await walk_to(harness, alice, step)
    n = STEPS.index(step) + 2  # the step numbers of the dialog, consent being 2
    await alice.press(data.format(n=n), forge=True)
    await assert_asked_again(
        harness,
        alice,
        step,
        "That button has expired; please use the buttons of the newest message.",
    )


async def test_empty_and_blank_names(harness):
    alice = harness.user()
    await walk_to(harness, alice, "name")
    await alice.send("   ")
    await assert_asked_again(harness, alice, "name", "This can't be empty.")
    await alice.send("\u200b\u200b")
    await assert_asked_again(harness, alice, "name", "This can't be empty.")


async def test_markup_characters_in_a_name_are_shown_as_typed(harness):
    alice = harness.user()
    await walk_to(harness, alice, "name")
    await alice.send("<b>Tom</b> & Jerry")
    # The local Bot API refuses unescaped HTML, so reaching the next question proves escaping.
    assert "share your phone number" in alice.last_text()
    await alice.tap("Skip")
    for answer in ("Medicine & health", "Done"):
        await alice.tap(answer)
    await alice.send("<i>")
    await alice.send("A&B <region>")
    await alice.tap("Not sure yet")
    await alice.send("12/1 to 3/15")
    assert "Name: <b>Tom</b> & Jerry" in alice.last_text()
    assert "Title: <i>" in alice.last_text()
    assert "Home region: A&B <region>" in alice.last_text()


@pytest.mark.parametrize(
    ("typed", "explanation"),
    [
        ("2025-12-01 to 2026-03-01", "That stay has already ended."),
        ("2027-03-15 to 2026-12-01", "Your departure is before your arrival."),
        ("2026-12-01 to 2029-12-01", "longer than 400 days"),
        ("next winter", "couldn't read those dates"),
        ("2026-12-01", "couldn't read those dates"),
    ],
)
async def test_bad_stay_dates(harness, typed, explanation):
    alice = harness.user()
    await walk_to(harness, alice, "stay")
    await alice.send(typed)
    await assert_asked_again(harness, alice, "stay", explanation)


async def test_bad_departure_dates(harness):
    alice = harness.user()
    await walk_to(harness, alice, "stay")
    await alice.tap("I'm here now")
    await alice.send("2026-01-01")
    assert "That stay has already ended." in alice.texts()[-1]
    assert "Until when will you stay?" in alice.last_text()
    await alice.send("🙂")
    assert "couldn't read that date" in alice.last_text()
    await alice.send_sticker()
    assert "Please answer with a text message." in alice.last_text()


async def test_someone_elses_contact_is_refused(harness):
    alice = harness.user()
    await walk_to(harness, alice, "phone")
    await alice.share_contact("8613900000000", own=False)
    await assert_asked_again(harness, alice, "phone", "share your own phone number")


async def test_a_typed_phone_number_is_accepted(harness):
    alice = harness.user()
    await walk_to(harness, alice, "phone")
    await alice.send("138 0013 8000")
    assert "fields of expertise" in alice.last_text()
    assert alice.reply_keyboard() == []


async def test_expertise_needs_one_field(harness):
    alice = harness.user()
    await walk_to(harness, alice, "expertise")
    await alice.tap("Done")
    await assert_asked_again(harness, alice, "expertise", "Please choose at least one field.")


async def test_unknown_commands_in_the_middle(harness):
    # The bot's own commands leave the question (tests/bot/test_home.py); others do not exist.
    alice = harness.user()
    await walk_to(harness, alice, "region")
    for command in ("/nonsense", "/skip", "/Done"):
        await alice.send(command)
        await assert_asked_again(harness, alice, "region", "I don't know that command.")


@pytest.mark.parametrize("payload", ["garbage", "ci-", "inv", "%%%", "x" * 64])
async def test_garbage_after_start(harness, payload):
    alice = harness.user()
    await alice.send(f"/start {payload}")
    assert "That link is not valid." in alice.last_text()
    assert "Privacy notice" in alice.last_text()


async def test_garbage_after_start_for_a_registered_talent(harness):
    from tests.support.flows import register

    alice = harness.user()
    await register(harness, alice)
    before = alice.mark()
    await alice.send("/start whatever")
    assert alice.texts(before)[0] == "That link is not valid. Here is where you can start instead."
    assert alice.texts(before)[1].startswith("Welcome, Wang Li!")
