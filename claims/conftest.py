"""Fixtures shared by the claim modules."""
import pytest


@pytest.fixture
def judge(request, ctx):
    """judge(reading_id, verdict): the test passes only on a supported verdict.

    A module may list readings that are established, measured non-supports at
    a scale in KNOWN = {(scale, reading_id): "measured reason"}; those run as
    strict xfails, so they never show as a pass and an unexpected pass fails.
    UNSETTLED = {(scale, reading_id): "measured reason"} lists readings whose
    verdict at a scale depends on the CPU's floating-point rounding (supported
    on one machine, inconclusive on another): they pass when supported, xfail
    when inconclusive, and fail when contradicted."""
    def _judge(reading_id, verdict):
        key = (ctx.scale.name, reading_id)
        known = getattr(request.module, "KNOWN", {}).get(key)
        if known:
            request.applymarker(pytest.mark.xfail(strict=True, reason=known))
        unsettled = getattr(request.module, "UNSETTLED", {}).get(key)
        if unsettled and not verdict.supported:
            # Measured supported on one CPU and inconclusive on another (the
            # trajectory depends on BLAS rounding): inconclusive is an expected
            # outcome at this scale, a contradiction still fails.
            assert verdict.verdict != "contradicted", f"{reading_id}: {verdict} (UNSETTLED: {unsettled})"
            pytest.xfail(f"inconclusive here, as measured on some CPUs: {unsettled}")
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
