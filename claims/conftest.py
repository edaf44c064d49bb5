"""What the claims share: the gradient experiment's fixture (F4-F7), and the
readings that do not apply to the session's data set."""
import pytest

from claims import post


@pytest.fixture(scope="session")
def ex(ctx):
    """The gradient experiment (harness/gradients.py), loaded once per worker.
    Runs the session may not compute (--no-train) skip its readings, with why,
    as the `runs` fixture does (a session fixture's error would fail them)."""
    from harness import gradients
    from harness.context import RunSkipped
    try:
        return gradients.experiment(ctx)
    except RunSkipped as e:
        pytest.skip(str(e))


def built_on_mnist_numbers(item) -> bool:
    """Is this reading listed in post.ABSOLUTE_MNIST (its module, module::function,
    or module::function[parameters, all or a leading part])?"""
    module, function = item.path.name, getattr(item, "originalname", item.name)
    return any(entry in (module, f"{module}::{function}")
               or ("[" in entry and f"{module}::{item.name}".startswith(entry)) for entry in post.ABSOLUTE_MNIST)


def pytest_collection_modifyitems(config, items):
    """On a data set other than MNIST, skip (before any run is declared) the
    readings built on the post's absolute MNIST numbers."""
    from harness.plugin import session_of
    dataset = session_of(config).options.scale.dataset
    if dataset == "mnist":
        return
    for item in items:
        if built_on_mnist_numbers(item):
            item.add_marker(pytest.mark.skip(reason=f"{post.ABSOLUTE_MNIST_REASON} (--dataset {dataset})"))
