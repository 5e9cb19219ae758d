"""The rule for tests of a particular release: skipped where this machine cannot start it, failed
where the env or the harness is broken."""

from __future__ import annotations

import pytest
import runtime_envs

from harness.model.runtime import Runtime

CPU = "cannot compile a trivial module: assertion failed: res.eax == 0"


def probed_as(monkeypatch: pytest.MonkeyPatch, unavailable: str | None) -> None:
    runtime = Runtime("wasmer-1.0.0-jit-cranelift", "/env/bin/python", "wasmer", "1.0.0")
    runtime.unavailable = unavailable
    monkeypatch.setitem(runtime_envs._probed, ("/env/bin/python", "wasmer", ""), runtime)


def test_a_usable_runtime_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    probed_as(monkeypatch, None)
    assert runtime_envs.usable("/env/bin/python", "wasmer").version == "1.0.0"


def test_a_runtime_this_machine_cannot_start_skips_with_the_probes_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    probed_as(monkeypatch, CPU)
    with pytest.raises(pytest.skip.Exception) as skipped:
        runtime_envs.usable("/env/bin/python", "wasmer", name="wasmer-1.0.0")
    assert str(skipped.value) == f"wasmer-1.0.0 is not usable on this machine: {CPU}"


@pytest.mark.parametrize(
    "why",
    [
        "RuntimeUnavailable: wasmer is not installed",
        "harness error: KeyError: 'variant'",
        "protocol error: unknown message 'hello'",
    ],
)
def test_a_broken_env_or_harness_fails(monkeypatch: pytest.MonkeyPatch, why: str) -> None:
    probed_as(monkeypatch, why)
    with pytest.raises(pytest.fail.Exception, match="is not usable: "):
        runtime_envs.usable("/env/bin/python", "wasmer")
