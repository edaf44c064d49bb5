"""Fixtures shared by the claim modules."""
import pytest


@pytest.fixture
def judge(request, ctx):
    """judge(reading_id, verdict): the test passes only on a supported verdict.

    A module may list readings that are established, measured non-supports at
    a scale in KNOWN = {(scale, reading_id): "measured reason"}; those run as
    strict xfails, so they never show as a pass and an unexpected pass fails."""
    def _judge(reading_id, verdict):
        known = getattr(request.module, "KNOWN", {}).get((ctx.scale.name, reading_id))
        if known:
            request.applymarker(pytest.mark.xfail(strict=True, reason=known))
        assert verdict.supported, f"{reading_id}: {verdict}"
    return _judge


@pytest.fixture(scope="session")
def ex(ctx):
    """The gradient experiment F4-F7 share (harness/gradients.py), loaded once
    per worker."""
    from harness import gradients
    return gradients.experiment(ctx)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """A run excluded by the session's options (--max-epochs) skips the reading
    that needs it, with the reason, instead of failing it."""
    from harness.context import RunSkipped
    try:
        return (yield)
    except RunSkipped as e:
        pytest.skip(str(e))
