"""The wasmer 1.x adapter: variants and error classification (pure), then real workers.

The pure half needs no wasmer. The integration half builds one env per wasmer release with uv
from a CPython of 3.7-3.10 (wasmer's wheels stop there) and runs scenarios through real
workers, each segment in its own process.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from runtime_envs import WASMER_PACKAGES, cached_env, old_python, release, usable

from harness.analysis.normalize import normalize
from harness.worker.adapters import REGISTRY
from harness.worker.adapters.base import RuntimeUnavailable
from harness.worker.adapters.wasmer_common import (
    MAX_FRAMES,
    bounded_message,
    classify,
    parse_variant,
)
from harness.worker.hostlib import HostTrap

ROOT = Path(__file__).resolve().parents[2]


# -- variants ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "parsed"),
    [
        ("universal-cranelift", ("universal", "cranelift")),
        ("dylib-singlepass", ("dylib", "singlepass")),
        ("jit-llvm", ("jit", "llvm")),
        ("Native-Cranelift", ("native", "cranelift")),
    ],
)
def test_variant_is_engine_dash_compiler(variant: str, parsed: tuple[str, str]) -> None:
    assert parse_variant(variant) == parsed


@pytest.mark.parametrize(
    "variant", ["cranelift", "universal", "universal-winch", "wasi-cranelift", "universal-"]
)
def test_a_variant_naming_no_engine_and_compiler_is_unavailable(variant: str) -> None:
    with pytest.raises(RuntimeUnavailable, match="ENGINE-COMPILER") as caught:
        parse_variant(variant)
    assert "universal, dylib, jit, native" in str(caught.value)
    assert "cranelift, singlepass, llvm" in str(caught.value)


def test_wasmer_from_1_0_has_an_adapter() -> None:
    assert ("wasmer", (1, 0), "harness.worker.adapters.wasmer_v1:WasmerV1") in REGISTRY
    assert not [e for e in REGISTRY if e[0] == "wasmer" and e[1] < (1, 0)]


# -- errors -----------------------------------------------------------------------------------


def wasmer_trap(message: str, frames: int = 1) -> RuntimeError:
    """What wasmer-python raises for a trap: the Rust RuntimeError's text, frames included."""
    trace = "".join(f"\n    at f{i} (<module>[{i}]:0x{i:x})" for i in range(frames))
    return RuntimeError(f"RuntimeError: {message}{trace}")


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("unreachable", "unreachable"),
        ("integer divide by zero", "integer_division_by_zero"),
        ("integer overflow", "integer_overflow"),
        ("out of bounds memory access", "memory_out_of_bounds"),
        ("call stack exhausted", "stack_overflow"),
        ("uninitialized element", "indirect_call_to_null"),
        ("indirect call type mismatch", "bad_signature"),
        ("invalid conversion to integer", "bad_conversion_to_integer"),
        ("undefined element", "table_out_of_bounds"),
        ("something new", None),
    ],
)
def test_trap_messages_map_to_wasmtime_trap_codes(message: str, code: str | None) -> None:
    out = classify(wasmer_trap(message))
    assert (out["outcome"], out["error_kind"], out["trap_code"]) == ("error", "trap", code)
    assert out["error_type"] == "RuntimeError"


def test_trap_code_comes_from_the_first_line_not_the_frames() -> None:
    exc = RuntimeError("RuntimeError: integer overflow\n    at unreachable (<module>[3]:0x10a)")
    assert classify(exc)["trap_code"] == "integer_overflow"


@pytest.mark.parametrize("code", [0, 3, 125])
def test_wasi_proc_exit_is_an_exit_with_its_code(code: int) -> None:
    out = classify(RuntimeError(f"RuntimeError: WASI exited with code: {code}"))
    assert (out["error_kind"], out["exit_code"]) == ("exit", code)
    assert "trap_code" not in out


@pytest.mark.parametrize(
    "message",
    [
        'Error while importing "host"."identity_i32": unknown import. Expected Function(...)',
        "incompatible binary: The provided bytes are not wasmer-universal",
        "Validation error: SIMD support is not enabled (at offset 38)",
        "Compilation error: /tmp/wasmer_dylib_x.so: undefined symbol: wasmer_vm_probestack",
    ],
)
def test_link_compile_and_deserialize_errors_are_runtime_errors(message: str) -> None:
    out = classify(RuntimeError(message))
    assert (out["error_kind"], out["message"]) == ("runtime", message)


def test_a_host_function_trap_keeps_its_code() -> None:
    out = classify(HostTrap("host function 'trap' was called"))
    assert (out["error_kind"], out["trap_code"]) == ("trap", "host")


def test_a_host_trap_wrapped_by_wasmer_1_0_has_the_host_trap_code() -> None:
    out = classify(
        RuntimeError("RuntimeError: Python exception: HostTrap: host function 'trap' was called")
    )
    assert (out["error_kind"], out["trap_code"], out["error_type"]) == (
        "trap",
        "host",
        "RuntimeError",
    )
    other = classify(
        RuntimeError("RuntimeError: Python exception: ZeroDivisionError: division by zero")
    )
    assert (other["error_kind"], other["error_type"]) == ("runtime", "RuntimeError")
    assert "trap_code" not in other


def test_other_exceptions_are_runtime_errors_of_their_type() -> None:
    out = classify(TypeError("RuntimeError: looks like a trap but is not one"))
    assert (out["error_kind"], out["error_type"]) == ("runtime", "TypeError")


def test_a_deep_trace_is_cut_to_a_few_frames_and_counted() -> None:
    exc = wasmer_trap("call stack exhausted", frames=200_000)
    out = classify(exc)
    lines = out["message"].splitlines()
    assert lines[0] == "RuntimeError: call stack exhausted"
    assert len(lines) == MAX_FRAMES + 2
    assert lines[-1] == f"    ... {200_000 - MAX_FRAMES} more frame(s)"
    assert out["trap_code"] == "stack_overflow"
    assert normalize(out["message"]) == "RuntimeError: call stack exhausted"


def test_temp_files_in_a_work_dir_normalize_to_one_path() -> None:
    # the dylib engine names a random .so in the run's work dir, whose name has = and ,
    message = (
        "Compilation error: /out/work/wasmer-1.1.0-dylib-cranelift/traps_code=unreachable,"
        "export=unreachable_/.tmp/wasmer_dylib_aQbg0K.so: undefined symbol: wasmer_vm_probestack"
    )
    assert normalize(message) == "Compilation error: <path>: undefined symbol: wasmer_vm_probestack"


def test_short_messages_are_kept_whole() -> None:
    text = "RuntimeError: unreachable\n    at <unnamed> (<module>[2]:0xfa)"
    assert bounded_message(text) == text
    assert normalize(text) == "RuntimeError: unreachable"


# -- real wasmer releases in real workers -------------------------------------------------------
# A variant this machine cannot start (wasmer 1.0 on AVX-512 CPUs) skips its tests with the
# reason the harness's probe gives; see runtime_envs.

CASES = {
    "compile_call_close",
    "serialize_restart_imports",
    "wasi_exit_codes[code=3]",
    "fuel_exhaustion",
    "deserialize_file_truncated",
    "deserialize_truncated",
}  # and every traps[...] case
RUNS = (
    ("1.0.0", "jit-cranelift"),
    ("1.1.0", "universal-cranelift"),
    ("1.1.0", "universal-singlepass"),
)

Records = dict[str, dict[str, Any]]  # case id -> run record


def wasmer_env(version: str) -> str:
    """One env per wasmer release with all three compilers, made once and reused."""
    return cached_env(
        f"wasmer-{version}", old_python(), [f"{p}=={version}" for p in WASMER_PACKAGES]
    )


def handshake(python: str, variant: str, workdir: Path) -> Any:
    from harness.execution.segment import run_segment

    workdir.mkdir(parents=True, exist_ok=True)
    return run_segment(python, [], 0, workdir, {}, 120, 0, family="wasmer", variant=variant)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Records]:
    """(version, variant) -> the records of CASES on it through real workers, run once."""
    from harness.execution.run import run_case
    from harness.scenario.suite import load_suite

    suite = load_suite([ROOT / "scenarios"])
    assert not suite.errors, suite.errors
    out = tmp_path_factory.mktemp("wasmer")
    done: dict[tuple[str, str], Records] = {}

    def records(version: str, variant: str) -> Records:
        runtime = release("wasmer", version, variant)  # or the test is skipped
        if (version, variant) not in done:
            done[(version, variant)] = {
                case.id: run_case(
                    case, runtime, suite.builders[case.scenario.path], out, 60.0, 2048
                )
                for case in suite.cases()
                if case.id in CASES or case.id.startswith("traps[")
            }
        return done[(version, variant)]

    return records


def steps_of(record: dict[str, Any], op: str) -> list[dict[str, Any]]:
    return [s for s in record["steps"] if s["op"] == op]


@pytest.mark.integration
@pytest.mark.matrix
@pytest.mark.parametrize(
    ("version", "variant", "reported"),
    [
        ("1.0.0", "", "jit-cranelift"),
        ("1.1.0", "", "universal-cranelift"),
        ("1.0.0", "native-singlepass", "native-singlepass"),
        ("1.1.0", "dylib-cranelift", "dylib-cranelift"),
    ],
)
def test_the_worker_reports_the_variant_it_runs(
    tmp_path: Path, version: str, variant: str, reported: str
) -> None:
    # the handshake only imports the runtime: it works where compiling does not
    seg = handshake(wasmer_env(version), variant, tmp_path)
    assert seg.unavailable is None and seg.harness_error is None
    assert seg.runtime == {
        "family": "wasmer",
        "version": version,
        "variant": reported,
        "adapter": "wasmer_v1",
    }
    assert seg.python.startswith("3.")


@pytest.mark.integration
@pytest.mark.matrix
@pytest.mark.parametrize(
    ("version", "variant", "reason"),
    [
        (
            "1.0.0",
            "universal-cranelift",
            "wasmer 1.0.0 has no universal engine (it has: jit, native)",
        ),
        ("1.0.0", "dylib-singlepass", "wasmer 1.0.0 has no dylib engine"),
        ("1.1.0", "universal-winch", "is not ENGINE-COMPILER"),
    ],
)
def test_a_variant_the_release_lacks_is_unavailable_not_an_error(
    tmp_path: Path, version: str, variant: str, reason: str
) -> None:
    seg = handshake(wasmer_env(version), variant, tmp_path)
    assert seg.runtime is None and seg.harness_error is None
    assert seg.unavailable is not None and reason in seg.unavailable
    assert seg.returncode == 0  # the worker said why and left; it did not die


@pytest.mark.integration
@pytest.mark.matrix
def test_a_compiler_that_kills_the_interpreter_on_import_is_a_reason(tmp_path: Path) -> None:
    # wasmer-compiler-llvm 1.1.0 loads on some machines and makes ld.so abort on others
    # (its repaired wheel renames libtinfo in DT_NEEDED but not in its version needs)
    seg = handshake(wasmer_env("1.1.0"), "universal-llvm", tmp_path)
    assert seg.harness_error is None and seg.returncode == 0
    if seg.runtime is None:
        assert seg.unavailable is not None
        assert "wasmer_compiler_llvm" in seg.unavailable, seg.unavailable
    else:
        assert seg.runtime["variant"] == "universal-llvm"


@pytest.mark.integration
@pytest.mark.matrix
@pytest.mark.parametrize(("version", "variant"), RUNS)
def test_no_run_ends_in_a_harness_error(
    runs: Callable[[str, str], Records], version: str, variant: str
) -> None:
    records = runs(version, variant)
    assert len(records) == 15  # 9 traps, the rest one case each
    kinds = {s["error_kind"] for r in records.values() for s in r["steps"]}
    assert "harness" not in kinds


@pytest.mark.integration
@pytest.mark.matrix
@pytest.mark.parametrize(("version", "variant"), RUNS)
def test_compile_call_close_returns_the_sum(
    runs: Callable[[str, str], Records], version: str, variant: str
) -> None:
    record = runs(version, variant)["compile_call_close"]
    assert record["status"] == "pass", record["reason"]
    assert steps_of(record, "call")[0]["values"] == [{"type": "i32", "value": 42}]
    assert steps_of(record, "close")[0]["detail"]["closed"][0] == "instance i: dropped"


@pytest.mark.integration
@pytest.mark.matrix
@pytest.mark.parametrize(("version", "variant"), RUNS)
def test_every_trap_has_the_trap_code_wasmtime_gives(
    runs: Callable[[str, str], Records], version: str, variant: str
) -> None:
    traps = {case: r for case, r in runs(version, variant).items() if case.startswith("traps[")}
    assert len(traps) == 9
    for case, record in traps.items():
        call = steps_of(record, "call")[0]
        assert (call["outcome"], call["error_kind"]) == ("error", "trap"), case
        assert call["trap_code"] == record["params"]["code"], (case, call["message"])
        assert record["status"] == "pass"


@pytest.mark.integration
@pytest.mark.matrix
@pytest.mark.parametrize(("version", "variant"), RUNS)
def test_serialized_module_survives_a_restart(
    runs: Callable[[str, str], Records], version: str, variant: str
) -> None:
    record = runs(version, variant)["serialize_restart_imports"]
    assert record["status"] == "pass", record["reason"]
    assert [s["index"] for s in record["segments"]] == [0, 1]
    serialized = steps_of(record, "serialize")[0]["detail"]
    assert serialized["bytes"] == steps_of(record, "deserialize")[0]["detail"]["bytes"] > 0
    checksum = [
        s for s in steps_of(record, "call") if s["values"] and s["values"][0]["type"] == "i64"
    ]
    assert checksum[-1]["values"] == [{"type": "i64", "value": 4121302867893096928}]
    assert steps_of(record, "call")[-1]["trap_code"] == "host"


@pytest.mark.integration
@pytest.mark.matrix
@pytest.mark.parametrize(
    ("version", "variant", "wanted"),
    [("1.0.0", "jit-singlepass", 0.0), ("1.1.0", "universal-singlepass", 1.5)],
)
def test_singlepass_1_0_loses_float_results_of_host_functions(
    tmp_path: Path, version: str, variant: str, wanted: float
) -> None:
    # a real wasmer 1.0.0 bug, fixed in 1.1.0: the host gets 1.5 and returns it, wasm sees 0.0
    from harness.execution.run import run_case
    from harness.scenario.suite import load_suite

    suite = load_suite([ROOT / "scenarios" / "serialize_restart_imports.yaml"])
    (case,) = suite.cases()
    builder = suite.builders[case.scenario.path]
    record = run_case(case, release("wasmer", version, variant), builder, tmp_path, 60.0, 2048)
    f32 = steps_of(record, "call")[2]
    assert f32["values"] == [{"type": "f32", "value": wanted}], f32


@pytest.mark.integration
@pytest.mark.matrix
@pytest.mark.parametrize(("version", "variant"), RUNS)
def test_wasi_exit_code_and_stdout_reach_the_embedder(
    runs: Callable[[str, str], Records], version: str, variant: str
) -> None:
    record = runs(version, variant)["wasi_exit_codes[code=3]"]
    assert record["status"] == "pass", record["reason"]
    start, exit_call = steps_of(record, "call")
    assert start["detail"]["stdout"] == "hello from wasi\n"
    assert (exit_call["error_kind"], exit_call["exit_code"]) == ("exit", 3)
    assert steps_of(record, "close")[0]["exit_code"] == 3


@pytest.mark.integration
@pytest.mark.matrix
@pytest.mark.parametrize(("version", "variant"), RUNS)
def test_what_wasmer_python_cannot_express_is_unsupported(
    runs: Callable[[str, str], Records], version: str, variant: str
) -> None:
    fuel = runs(version, variant)["fuel_exhaustion"]
    assert fuel["status"] == "unsupported"
    assert "no fuel metering" in steps_of(fuel, "compile")[0]["message"]
    from_file = runs(version, variant)["deserialize_file_truncated"]
    assert from_file["status"] == "unsupported"
    assert "deserialize_file" in steps_of(from_file, "deserialize")[0]["message"]


@pytest.mark.integration
@pytest.mark.matrix
def test_a_truncated_artifact_is_refused_by_1_0(runs: Callable[[str, str], Records]) -> None:
    old = steps_of(runs("1.0.0", "jit-cranelift")["deserialize_truncated"], "deserialize")[0]
    assert (old["outcome"], old["error_kind"]) == ("error", "runtime")


@pytest.mark.integration
@pytest.mark.matrix
@pytest.mark.parametrize("variant", ["universal-cranelift", "universal-singlepass"])
def test_a_truncated_artifact_crashes_1_1(
    runs: Callable[[str, str], Records], variant: str
) -> None:
    new = steps_of(runs("1.1.0", variant)["deserialize_truncated"], "deserialize")[0]
    assert (new["outcome"], new["signal"]) == ("crash", "SIGSEGV")


@pytest.mark.integration
@pytest.mark.matrix
def test_an_artifact_from_the_other_family_is_refused_both_ways(tmp_path: Path) -> None:
    from harness.execution.run import run_case
    from harness.scenario.suite import load_suite

    suite = load_suite([ROOT / "scenarios" / "deserialize_other_family.yaml"])
    (case,) = suite.cases()
    builder = suite.builders[case.scenario.path]
    wasmer = release("wasmer", "1.1.0", "universal-cranelift")
    wasmtime = usable(sys.executable, "wasmtime", name="this interpreter's wasmtime")
    for producer, consumer, message in (
        (wasmer, wasmtime, "failed to parse precompiled artifact"),
        (wasmtime, wasmer, "not wasmer-universal"),
    ):
        record = run_case(case, consumer, builder, tmp_path, 60.0, 2048, producer=producer)
        assert record["status"] == "pass", record["reason"]
        assert (record["runtime"], record["producer"]) == (consumer.name, producer.name)
        assert [s["runtime"] for s in record["segments"]] == [producer.name, consumer.name]
        (deserialize,) = steps_of(record, "deserialize")
        assert deserialize["outcome"] == "error" and message in deserialize["message"]
