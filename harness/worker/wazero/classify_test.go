package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tetratelabs/wazero/sys"
)

// wasmError stands for wazero's internal *wasmruntime.Error in these tests.
type wasmError struct{ s string }

func (e *wasmError) Error() string { return e.s }

func TestTrapMessagesMapOntoWasmtimeTrapCodes(t *testing.T) {
	cases := map[string]string{
		"integer divide by zero":        "integer_division_by_zero",
		"integer overflow":              "integer_overflow",
		"invalid conversion to integer": "bad_conversion_to_integer",
		"unreachable":                   "unreachable",
		"out of bounds memory access":   "memory_out_of_bounds",
		"stack overflow":                "stack_overflow",
		"invalid table access":          "table_out_of_bounds",
		"indirect call type mismatch":   "bad_signature",
		"null reference":                "indirect_call_to_null",
		"unaligned atomic":              "heap_misaligned",
		"expected shared memory":        "",
	}
	for message, want := range cases {
		if got := trapCode(message); got != want {
			t.Errorf("trapCode(%q) = %q, want %q", message, got, want)
		}
	}
}

func TestATrapIsToldByItsFirstLineOnly(t *testing.T) {
	// the stack trace names a function `unreachable`: it must not decide the trap code
	err := fmt.Errorf("wasm error: %w\nwasm stack trace:\n\t.unreachable()", &wasmError{"integer divide by zero"})
	got := classify(err)
	if got.Kind != "trap" || got.TrapCode != "integer_division_by_zero" || got.Type != "*main.wasmError" {
		t.Fatalf("%+v", got)
	}
}

func TestAHostTrapRecoveredByWazeroIsATrapCodedHost(t *testing.T) {
	err := fmt.Errorf("%w (recovered by wazero)\nwasm stack trace:\n\thost.trap()", &HostTrap{})
	got := classify(err)
	if got.Outcome != "error" || got.Kind != "trap" || got.TrapCode != "host" {
		t.Fatalf("%+v", got)
	}
}

func TestAWasiExitIsAnExitWithItsCode(t *testing.T) {
	got := classify(sys.NewExitError(7))
	if got.Kind != "exit" || got.ExitCode == nil || *got.ExitCode != 7 || got.Type != "*sys.ExitError" {
		t.Fatalf("%+v", got)
	}
}

func TestTheWorkersOwnErrorsKeepTheirKinds(t *testing.T) {
	cases := []struct {
		err                 error
		outcome, kind, name string
	}{
		{&unsupportedError{"no"}, "unsupported", "", "Unsupported"},
		{&scenarioError{"no"}, "error", "scenario", "ScenarioStateError"},
		{&harnessError{"no"}, "error", "harness", "HarnessError"},
		{&lookupError{"no"}, "error", "runtime", "LookupError"},
		{&typeError{"no"}, "error", "runtime", "TypeError"},
		{errors.New("module[host] not instantiated"), "error", "runtime", "*errors.errorString"},
	}
	for _, c := range cases {
		got := classify(c.err)
		if got.Outcome != c.outcome || got.Kind != c.kind || got.Type != c.name {
			t.Errorf("classify(%T) = %+v", c.err, got)
		}
	}
}
