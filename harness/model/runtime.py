"""A runtime as a worker reported it, or the reason it could not be used. Stdlib only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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

    def to_json(self) -> dict[str, Any]:
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
        }
