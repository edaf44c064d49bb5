"""The fixture F4-F7 share: the gradient experiment."""
import pytest


@pytest.fixture(scope="session")
def ex(ctx):
    """The gradient experiment (harness/gradients.py), loaded once per worker."""
    from harness import gradients
    return gradients.experiment(ctx)
