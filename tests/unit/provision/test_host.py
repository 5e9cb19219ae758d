"""The host results come from: its fingerprint (pure, over sample /proc/cpuinfo texts), the
comparison of several result sets' hosts, failures that depend on the CPU; then the host in a
real run's files, the warning when joined result sets come from different hosts, and the probe
of a release that cannot start on this machine's CPU."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

import harness
from harness.cli import main as cli
from harness.execution.pool import WorkerPool
from harness.execution.probe import _cause_lost, crash_cause, probe, rust_panic
from harness.host import (
    Host,
    cpu_dependence,
    current_host,
    fingerprint,
    flags_hash,
    host_differences,
    parse_cpuinfo,
    provenance,
)

ROOT = Path(__file__).resolve().parents[3]

INTEL_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse "
    "sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc "
    "cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt "
    "tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch "
    "cpuid_fault fsgsbase tsc_adjust bmi1 hle avx2 smep bmi2 erms invpcid rtm avx512f avx512dq "
    "rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt "
    "xsavec xgetbv1 xsaves avx_vnni avx512_bf16 arat avx512vbmi umip avx512_vbmi2 gfni vaes "
    "vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq rdpid cldemote movdiri movdir64b "
    "fsrm serialize tsxldtrk avx512_fp16 arch_capabilities"
)
INTEL_BLOCK = f"""processor\t: {{n}}
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 207
model name\t: Intel(R) Xeon(R) Processor
stepping\t: 2
cpu MHz\t\t: 2300.000
cpuid level\t: 28
flags\t\t: {INTEL_FLAGS}
bugs\t\t: spectre_v1 spectre_v2 spec_store_bypass swapgs retbleed bhi
bogomips\t: 4600.00
power management:
"""
INTEL = INTEL_BLOCK.format(n=0) + "\n" + INTEL_BLOCK.format(n=1) + "\n"

AMD_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse "
    "sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc "
    "cpuid extd_apicid aperfmperf pni pclmulqdq monitor ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic "
    "movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a "
    "misalignsse 3dnowprefetch osvw topoext perfctr_core cpb hw_pstate ssbd ibrs ibpb stibp "
    "fsgsbase bmi1 avx2 smep bmi2 erms invpcid rdseed adx smap clflushopt clwb sha_ni xsaveopt "
    "xsavec xgetbv1 xsaves clzero irperf xsaveerptr rdpru wbnoinvd arat npt nrip_save umip pku "
    "ospke vaes vpclmulqdq rdpid overflow_recov succor smca"
)
AMD = f"""processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC 7763 64-Core Processor
stepping\t: 1
flags\t\t: {AMD_FLAGS}

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7763 64-Core Processor
flags\t\t: {AMD_FLAGS}
"""
ARM = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid sve
CPU implementer\t: 0x41
CPU architecture: 8
CPU part\t: 0xd40
"""

# What this machine's releases print (tox envs .tox/wasmtime-0.20.0, .tox/wasmer-1.0.0-*).
WASMTIME_020_PANIC = (
    "thread '<unnamed>' panicked at 'assertion failed: res.eax == 0', "
    "/root/.cargo/registry/src/github.com-1ecc6299db9ec823/raw-cpuid-7.0.3/src/lib.rs:295:13"
)
WASMER_100_PANIC = (
    "thread '<unnamed>' panicked at 'assertion failed: res.eax == 0', "
    "/home/runner/.cargo/registry/src/github.com-1ecc6299db9ec823/raw-cpuid-7.0.4/src/lib.rs:295:13"
)
RUST_NOTE = "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"
# A forked worker's crash: Python's fault handler lists the warm worker's frames too, and the
# 20-line tail starts after the panic line.
FORKED_TAIL = "\n".join(
    [
        RUST_NOTE,
        "fatal runtime error: failed to initiate panic, error 5",
        "Fatal Python error: Aborted",
        "",
        "Current thread 0x00007fc1b91c9b80 (most recent call first):",
        *[f'  File "/tmp/w/harness/worker/frame{i}.py", line {i} in f{i}' for i in range(15)],
    ]
)


def host(cpuinfo: str, **changes: str) -> Host:
    values = {
        "machine": "x86_64",
        "system": "Linux",
        "kernel": "6.1.0",
        "libc": "glibc 2.36",
        "python": "3.11.7",
        "harness_version": "0.1.0",
    }
    return fingerprint(cpuinfo, **(values | changes))


def test_an_intel_cpuinfo_gives_model_vendor_and_every_flag_of_the_first_processor() -> None:
    cpu = parse_cpuinfo(INTEL)
    assert (cpu.model, cpu.vendor) == ("Intel(R) Xeon(R) Processor", "GenuineIntel")
    assert set(cpu.flags) == set(INTEL_FLAGS.split()) and list(cpu.flags) == sorted(cpu.flags)
    assert "avx512f" in cpu.flags and "spectre_v1" not in cpu.flags  # `bugs` are not flags
    record = host(INTEL)
    assert record.cpu_summary == "Intel(R) Xeon(R) Processor, AVX-512, under a hypervisor"
    assert record.label == f"Intel(R) Xeon(R) Processor, flags {record.cpu_flags_hash}"


def test_an_amd_and_an_arm_cpuinfo() -> None:
    amd = parse_cpuinfo(AMD)
    assert (amd.model, amd.vendor) == ("AMD EPYC 7763 64-Core Processor", "AuthenticAMD")
    assert "sse4a" in amd.flags and not any(f.startswith("avx512") for f in amd.flags)
    assert host(AMD).cpu_summary == "AMD EPYC 7763 64-Core Processor, AVX2"
    arm = parse_cpuinfo(ARM)
    assert (arm.model, arm.vendor) == ("unknown", "0x41")  # Arm names no model here
    assert {"asimd", "sve"} <= set(arm.flags)
    assert parse_cpuinfo("") == parse_cpuinfo("garbage without colons\n")


def test_the_flags_hash_is_stable_and_sensitive() -> None:
    flags = INTEL_FLAGS.split()
    digest = flags_hash(flags)
    assert len(digest) == 16 and int(digest, 16) >= 0
    assert flags_hash(reversed(flags)) == digest == flags_hash(flags + flags[:3])
    assert flags_hash(flags) == "9e8fdfa210cc209b"  # recorded files compare across versions
    assert flags_hash([f for f in flags if f != "avx512_fp16"]) != digest
    assert flags_hash([*flags, "amx_tile"]) != digest
    assert host(INTEL).cpu_flags_hash == digest != host(AMD).cpu_flags_hash


def test_a_host_round_trips_through_json_and_an_old_record_is_unknown() -> None:
    record = host(INTEL)
    assert Host.from_json(json.loads(json.dumps(record.to_json()))) == record
    assert Host.from_json(None) is None and Host.from_json("x") is None  # type: ignore[arg-type]
    assert set(record.to_json()) == {
        "cpu_model",
        "cpu_vendor",
        "cpu_flags",
        "cpu_flags_hash",
        "machine",
        "system",
        "kernel",
        "libc",
        "python",
        "harness",
    }


def test_this_host() -> None:
    here = current_host()
    assert here.harness == harness.__version__
    assert here.python == ".".join(map(str, sys.version_info[:3]))
    assert here.kernel and here.machine and here.libc
    assert here is current_host()  # read once


def test_result_sets_from_one_host_have_no_differences() -> None:
    same = host(INTEL)
    assert host_differences([("shard-1", same), ("shard-2", host(INTEL, python="3.12.1"))]) == []
    assert host_differences([("only", same)]) == [] and host_differences([]) == []
    assert host_differences([("a", None), ("b", None)]) == []


def test_result_sets_from_different_hosts_are_named_with_what_differs() -> None:
    intel, amd = host(INTEL), host(AMD, kernel="5.15.0", libc="glibc 2.31")
    (line,) = host_differences([("shard-1", intel), ("shard-2", amd), ("shard-3", intel)])
    assert line.startswith(
        "result sets come from different hosts: shard-1, shard-3 (Intel(R) Xeon(R) Processor, "
        f"flags {intel.cpu_flags_hash}) and shard-2 (AMD EPYC 7763 64-Core Processor, "
        f"flags {amd.cpu_flags_hash}): CPU Intel(R) Xeon(R) Processor (GenuineIntel) vs AMD EPYC"
    )
    assert "only in the first: arch_capabilities avx512_bf16" in line
    assert "only in the second: aperfmperf clzero" in line and " more)" in line
    assert line.endswith("; kernel 6.1.0 vs 5.15.0; libc glibc 2.36 vs glibc 2.31")
    # one CPU, fewer flags (a VM that hides some): the flags say it, not the model
    masked = fingerprint(
        INTEL.replace(" avx512_fp16", ""),
        machine="x86_64",
        system="Linux",
        kernel="6.1.0",
        libc="glibc 2.36",
        python="3.11.7",
        harness_version="0.1.0",
    )
    (line,) = host_differences([("a", intel), ("b", masked)])
    assert ": CPU flags differ (" in line and "only in the first: avx512_fp16;" in line
    assert "only in the second: none)" in line and "CPU Intel" not in line


def test_a_result_set_that_records_no_host_is_said_so() -> None:
    intel = host(INTEL)
    assert host_differences([("new", intel), ("old/compat.json", None)]) == [
        "cannot tell whether all result sets come from one host: old/compat.json record(s) no "
        "host (written by an older wasm-compat)"
    ]


def test_provenance_keeps_the_one_recorded_host_or_lists_each() -> None:
    intel, amd = host(INTEL).to_json(), host(AMD).to_json()
    one = provenance([("a", intel), ("b", dict(intel))])
    assert (one.host, one.hosts, one.warnings) == (intel, None, [])
    assert provenance([("a", None)]).host is None
    several = provenance([("a", intel), ("b", amd)])
    assert several.host is None and len(several.warnings) == 1
    assert several.hosts == [{"results": "a", "host": intel}, {"results": "b", "host": amd}]


@pytest.mark.parametrize(
    ("texts", "phrase"),
    [
        (("worker killed by SIGABRT", "SIGABRT", WASMTIME_020_PANIC), "CPU-feature detection"),
        (("assertion failed: res.eax == 0",), "CPU-feature detection"),
        (("PanicException", WASMER_100_PANIC + "\n" + RUST_NOTE), "CPU-feature detection"),
        (("worker killed by SIGILL", "SIGILL", None), "an instruction this CPU does not have"),
        (("Fatal Python error: Illegal instruction",), "an instruction this CPU does not have"),
        (("error: unsupported CPU: x86-64-v3 required",), "does not support this CPU's features"),
        (("required CPU feature `avx2` is not available",), "does not support this CPU's"),
    ],
)
def test_a_cpu_dependent_failure_is_recognised(texts: tuple[str | None, ...], phrase: str) -> None:
    assert phrase in (cpu_dependence(*texts) or "")


@pytest.mark.parametrize(
    "texts",
    [
        ("worker killed by SIGSEGV", "SIGSEGV", "Fatal Python error: Segmentation fault"),
        ("Compilation error: <path>: undefined symbol: wasmer_vm_probestack",),
        (
            "importing wasmer_compiler_llvm ends the interpreter (exit 127): Inconsistency "
            "detected by ld.so: dl-version.c: 204: _dl_check_map_versions: "
            "Assertion `needed != NULL' failed!",
        ),
        (None, ""),
    ],
)
def test_other_failures_do_not_depend_on_the_cpu(texts: tuple[str | None, ...]) -> None:
    assert cpu_dependence(*texts) is None


def test_a_crash_names_its_cause_from_the_stderr_tail() -> None:
    spawned = "\n".join([WASMTIME_020_PANIC, RUST_NOTE, *FORKED_TAIL.splitlines()[1:]])
    assert crash_cause(spawned) == (
        "panicked at 'assertion failed: res.eax == 0' (raw-cpuid 7.0.3)"
    )
    assert rust_panic(WASMER_100_PANIC) == ("assertion failed: res.eax == 0", "raw-cpuid 7.0.4")
    since_173 = (
        "thread 'main' panicked at /home/u/.cargo/registry/src/index.crates.io-6f17d22bba15001f/"
        "cranelift-codegen-0.110.1/src/isa/x64/mod.rs:12:5:\nunsupported CPU\n" + RUST_NOTE
    )
    assert crash_cause(since_173) == "panicked at 'unsupported CPU' (cranelift-codegen 0.110.1)"
    local = "thread 'main' panicked at 'index out of bounds', crates/runtime/src/x.rs:1:2"
    assert crash_cause(local) == "panicked at 'index out of bounds'"
    assert crash_cause(FORKED_TAIL) == "fatal runtime error: failed to initiate panic, error 5"
    assert crash_cause("Fatal Python error: Segmentation fault\n\nCurrent thread") is None
    assert crash_cause(None) is None


def test_a_forked_crash_whose_tail_lost_the_panic_is_retried() -> None:
    crash = {"outcome": "crash", "signal": "SIGABRT", "stderr_tail": FORKED_TAIL}
    assert len(FORKED_TAIL.splitlines()) == 20 and _cause_lost(crash)
    assert not _cause_lost(crash | {"stderr_tail": WASMTIME_020_PANIC + "\n" + RUST_NOTE})
    assert _cause_lost(crash | {"stderr_tail": ""})
    assert not _cause_lost({"outcome": "error", "stderr_tail": ""})


# --- with processes: a real run's files, joined result sets, a release this CPU cannot run


def _run(out: Path) -> int:
    return cli.main(
        [
            "run",
            str(ROOT / "scenarios" / "compile_call_close.yaml"),
            "--python",
            sys.executable,
            "--out",
            str(out),
            "--baseline",
            str(out.parent / "no-baseline.yaml"),
            "--reruns",
            "0",
        ]
    )


@pytest.fixture(scope="module")
def one_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("wasmtime")
    out = tmp_path_factory.mktemp("host-run") / "reports"
    assert _run(out) == 0
    return out


@pytest.mark.integration
def test_a_run_records_this_host_in_compat_json_and_results_jsonl(one_run: Path) -> None:
    document = json.loads((one_run / "compat.json").read_text())
    recorded = document["host"]
    here = current_host()
    assert recorded["cpu_model"] == here.cpu_model and recorded["cpu_flags_hash"]
    assert recorded["cpu_flags_hash"] == flags_hash(recorded["cpu_flags"])
    assert (recorded["kernel"], recorded["libc"]) == (here.kernel, here.libc)
    assert (recorded["python"], recorded["harness"]) == (here.python, harness.__version__)
    assert "hosts" not in document
    header = json.loads((one_run / "results.jsonl").read_text().splitlines()[0])
    assert header["kind"] == "header" and header["host"] == recorded
    (runtime,) = document["runtimes"]
    assert runtime["cpu_dependent"] is False and runtime["status"] == "ok"


def _elsewhere(source: Path, target: Path) -> Path:
    """A copy of a result set whose recorded host is an AMD machine with another kernel."""
    shutil.copytree(source, target)
    amd = host(AMD, kernel="5.15.0-1050-azure").to_json()
    compat = target / "compat.json"
    compat.write_text(json.dumps(json.loads(compat.read_text()) | {"host": amd}))
    return target


@pytest.mark.integration
@pytest.mark.parametrize("command", ["report", "merge"])
def test_joining_result_sets_from_different_hosts_warns_and_records_each(
    one_run: Path, tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    other = _elsewhere(one_run, tmp_path / "shard-2")
    out = tmp_path / "joined"
    capsys.readouterr()
    cli.main([command, str(one_run), str(other), "--out", str(out), "--baseline", str(out / "b")])
    err = capsys.readouterr().err
    warning = next(line for line in err.splitlines() if "different hosts" in line)
    assert warning.startswith("wasm-compat: warning: result sets come from different hosts: ")
    assert f"{one_run} ({current_host().cpu_model}, flags " in warning
    assert f"{other} (AMD EPYC 7763 64-Core Processor, flags " in warning
    assert "kernel" in warning and "5.15.0-1050-azure" in warning
    document = json.loads((out / "compat.json").read_text())
    assert document["host"] is None
    assert [h["results"] for h in document["hosts"]] == [str(one_run), str(other)]
    assert document["hosts"][1]["host"]["cpu_vendor"] == "AuthenticAMD"


@pytest.mark.integration
def test_a_report_of_one_host_keeps_its_recorded_host(
    one_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = _elsewhere(one_run, tmp_path / "elsewhere")
    out = tmp_path / "again"
    cli.main(["report", str(other), "--out", str(out), "--baseline", str(out / "b")])
    assert "warning" not in capsys.readouterr().err
    document = json.loads((out / "compat.json").read_text())
    assert document["host"]["cpu_vendor"] == "AuthenticAMD" and "hosts" not in document


@pytest.mark.integration
def test_an_interpreter_killed_by_sigill_before_it_is_ready_depends_on_the_cpu(
    tmp_path: Path,
) -> None:
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\nkill -ILL $$\n")
    python.chmod(0o755)
    with WorkerPool() as pool:
        found = probe(str(python), tmp_path / "scratch", pool=pool)
    assert found.cpu_dependent and found.unavailable is not None
    assert found.unavailable.startswith("the worker died before it was ready: crash (SIGILL); ")
    assert found.unavailable.endswith("the release executes an instruction this CPU does not have")


@pytest.fixture
def wasmtime_020() -> str:
    from runtime_envs import cached_env

    return cached_env("wasmtime-0.20.0", sys.executable, ["wasmtime==0.20.0"])


@pytest.mark.integration
def test_a_release_whose_cpu_detection_fails_here_says_so(
    wasmtime_020: str, tmp_path: Path
) -> None:
    with WorkerPool() as pool:
        found = probe(wasmtime_020, tmp_path, "wasmtime-0.20.0", "wasmtime", pool=pool)
    if found.unavailable is None:
        pytest.skip("wasmtime 0.20.0 starts on this machine's CPU")
    reason: Any = found.unavailable
    assert reason.startswith("cannot compile a trivial module: crash (SIGABRT): ")
    assert "panicked at 'assertion failed: res.eax == 0' (raw-cpuid 7.0.3)" in reason
    assert f"; depends on this host's CPU ({current_host().cpu_model}" in reason
    assert reason.endswith("the release's CPU-feature detection fails here")
    assert found.cpu_dependent and found.to_json()["cpu_dependent"] is True
    assert found.to_json()["reason"] == reason
