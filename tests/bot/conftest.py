import pytest

from tests.support.harness import start_harness, stop_harness


@pytest.fixture
async def harness(tmp_path):
    running = await start_harness(tmp_path)
    yield running
    await stop_harness(running)
    # Every input in these tests must get a deliberate answer; nothing may reach the error handler.
    assert running.errors == [], f"unexpected errors: {running.errors!r}"
