"""A runtime as a worker reported it, or the reason it could not be used; and the command that
starts its worker. Stdlib only."""

from __future__ import annotations

from dataclasses import dataclass

from harness.model.json import JsonObject

PYTHON_WORKER = ("-m", "harness.worker")  # after an interpreter: the Python worker


@dataclass(frozen=True)
class WorkerCommand:
    """How a runtime's worker starts (docs/protocol.md): its command line, and the runtime it is
    to load there. Only the Python worker (`PYTHON -m harness.worker`) can also be a fork server
    (`--fork-server`); any other command, a Go worker say, starts afresh for every segment."""

    argv: tuple[str, ...]
    family: str | None = None
    variant: str = ""

    @classmethod
    def python(cls, python: str, family: str | None = None, variant: str = "") -> WorkerCommand:
        return cls((python, *PYTHON_WORKER), family, variant)

    @property
    def forkable(self) -> bool:
        return self.argv[1:] == PYTHON_WORKER

    def with_options(self, *options: str) -> list[str]:
        """The command line with these options, and the runtime's family and variant."""
        line = [*self.argv, *options]
        if self.family:
            line += ["--family", self.family]
        if self.variant:
            line += ["--variant", self.variant]
        return line


@dataclass
class Runtime:
    """A runtime as the worker reported it, or the reason it could not be used."""

    name: str
    python: str
    family: str | None = None
    version: str | None = None
    variant: str = ""
    adapter: str | None = None
    python_version: str | None = None
    unavailable: str | None = None
    provisioned: bool = True
    pinned: str | None = None  # the version tox.ini pins, when it came from there
    cpu_dependent: bool = False  # unavailable because of this host's CPU, not the release alone
    worker: tuple[str, ...] = ()  # the command that starts its worker; () is the Python worker
    identity: str | None = None  # a digest of its env (`harness.reuse.identity`); None: unknown

    @property
    def worker_command(self) -> WorkerCommand:
        if self.worker:
            return WorkerCommand(self.worker, self.family, self.variant)
        return WorkerCommand.python(self.python, self.family, self.variant)

    @property
    def forkable(self) -> bool:
        """Whether its segments can be forked from a warm worker (only a Python worker's can)."""
        return self.worker_command.forkable

    @property
    def status(self) -> str:
        if not self.provisioned:
            return "not provisioned"
        return "unavailable" if self.unavailable else "ok"

    @property
    def problem(self) -> str | None:
        """`not provisioned: why` or `not usable: why`, as every output shows it."""
        if self.unavailable is None:
            return None
        return f"{'not provisioned' if not self.provisioned else 'not usable'}: {self.unavailable}"

    def to_json(self) -> JsonObject:
        return {
            "name": self.name,
            "family": self.family,
            "version": self.version,
            "pinned": self.pinned,
            "variant": self.variant,
            "adapter": self.adapter,
            "interpreter": self.python,
            "python": self.python_version,
            "status": self.status,
            "reason": self.unavailable,
            "cpu_dependent": self.cpu_dependent,
            "worker": list(self.worker_command.argv),
            "identity": self.identity,
        }

    @classmethod
    def from_json(cls, record: JsonObject) -> Runtime:
        """A runtime as `to_json` wrote it (a probe kept for reuse)."""
        python = str(record.get("interpreter") or "")
        worker = tuple(str(a) for a in record.get("worker") or ())  # type: ignore[union-attr]
        return cls(
            name=str(record["name"]),
            python=python,
            family=_text(record.get("family")),
            version=_text(record.get("version")),
            variant=str(record.get("variant") or ""),
            adapter=_text(record.get("adapter")),
            python_version=_text(record.get("python")),
            unavailable=_text(record.get("reason")),
            provisioned=record.get("status") != "not provisioned",
            pinned=_text(record.get("pinned")),
            cpu_dependent=bool(record.get("cpu_dependent")),
            worker=() if worker == (python, *PYTHON_WORKER) else worker,
            identity=_text(record.get("identity")),
        )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
