"""What the session context and the run cache need of a spec: one protocol,
implemented by every spec type (trainer.RunConfig, gradients.GradSpec,
sharpness.SharpnessSpec).

A spec is a frozen dataclass that declares one cache entry as data. Its class
name and dataclass fields are hashed into the entry's key (cache.spec_key),
so renaming either, or changing a field's default, makes every existing entry
unreadable (recomputed). Nothing outside the spec's own module reads inside
its entry's record: the context asks the spec (`diverged_at`) and hands the
cache what it logs through a callback.
"""
from typing import Protocol, runtime_checkable


@runtime_checkable
class Spec(Protocol):
    kind: str  # "train" | "grad" | "sharpness": runs are prefetched before the specs that read them

    def describe(self) -> str:
        """One line naming the entry, for progress lines, events and reports."""

    def cost(self) -> float:
        """A proxy for compute time (samples processed), only to order work: largest first."""

    def estimate_seconds(self, calib) -> float:
        """Wall time to compute the entry on this machine, from estimate.calibrate's
        seconds per SGD step by batch size."""

    def needs(self) -> tuple:
        """The specs whose entries, weights included, compute reads through
        ctx.results: a remote executor trains them first and ships their entries
        with the task (harness/executor.py)."""

    def compute(self, ctx) -> dict:
        """Compute the entry, {"record": plain data, "tensors": {name: [tensor, ...]}};
        ctx is the session's context.Context (device, data, progress, other results),
        or on a remote executor's worker a worker.WorkerContext that offers the same."""

    def summary(self, record) -> dict:
        """A few of the record's numbers by name, to compare two machines' records of one spec."""

    def diverged_at(self, entry) -> int | None:
        """The epoch at which the entry's run diverged (loss or weights NaN/inf), else None."""
