package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestATrapPatternIsItsCodeOrARegularExpression(t *testing.T) {
	r := &stepResult{Outcome: "error", ErrorKind: ptr("trap"), TrapCode: ptr("unreachable"),
		Message: ptr("wasm error: unreachable")}
	for _, pattern := range []string{"unreachable", "wasm error: unr.*"} {
		if met, why := check(expectation{Kind: "trap", Pattern: ptr(pattern)}, r, nil); !met {
			t.Errorf("%s: %s", pattern, why)
		}
	}
	met, why := check(expectation{Kind: "trap", Pattern: ptr("stack_overflow")}, r, nil)
	if met || why != "expected trap /stack_overflow/, got trap unreachable" {
		t.Errorf("%v %q", met, why)
	}
}

func TestStatedResultsHoldEvenForAnObservation(t *testing.T) {
	r := &stepResult{Outcome: "ok", Values: []wasmValue{{"i32", 4}}}
	stated := []argument{{Value: json.RawMessage("5")}}
	met, why := check(expectation{Kind: "any"}, r, stated)
	if met || why != "expected results [5], got [4]" {
		t.Errorf("%v %q", met, why)
	}
	if met, _ := check(expectation{Kind: "ok"}, r, []argument{{Value: json.RawMessage("4.0")}}); !met {
		t.Error("4.0 is 4")
	}
	nan := &stepResult{Outcome: "ok", Values: []wasmValue{{"f32", 0x7FC00000}}}
	if met, _ := check(expectation{Kind: "ok"}, nan, []argument{{Value: json.RawMessage(`"nan"`)}}); !met {
		t.Error("nan is nan")
	}
}

func TestAnExitExpectationMeetsAWasiExitOrAClosedInstancesCode(t *testing.T) {
	exited := &stepResult{Outcome: "error", ErrorKind: ptr("exit"), ExitCode: ptr(int64(7))}
	closed := &stepResult{Outcome: "ok", ExitCode: ptr(int64(7))}
	for _, r := range []*stepResult{exited, closed} {
		if met, why := check(expectation{Kind: "exit", ExitCode: ptr(int64(7))}, r, nil); !met {
			t.Error(why)
		}
	}
	if met, _ := check(expectation{Kind: "exit", ExitCode: ptr(int64(3))}, exited, nil); met {
		t.Error("exit 7 met exit 3")
	}
}

func TestAPatternGoCannotReadIsNotMetWithTheReason(t *testing.T) {
	r := &stepResult{Outcome: "error", ErrorKind: ptr("runtime"), Message: ptr("boom")}
	met, why := check(expectation{Kind: "error", Pattern: ptr("(?<=b)oom")}, r, nil)
	if met || !strings.Contains(why, "Go's regexp") {
		t.Errorf("%v %q", met, why)
	}
}

func TestAnObservationThatEndsOtherThanOkStops(t *testing.T) {
	r := &stepResult{Index: 2, Op: "call", Outcome: "error"}
	if got := intendedStop(r, expectation{Kind: "any"}, false); got != "step 3 (call) was an observation that ended error" {
		t.Error(got)
	}
	if got := intendedStop(r, expectation{Kind: "error"}, false); got != "" {
		t.Error(got)
	}
}

func TestACacheExpectationReadsTheCompilesDetail(t *testing.T) {
	detail := map[string]any{"cache": "miss", "cache_files_before": 0, "cache_files_after": 1}
	if met, _ := checkCache("miss", detail); !met {
		t.Error("miss")
	}
	if met, why := checkCache("hit", detail); met || why != "expected a cache hit, got miss (0 cache files before, 1 after)" {
		t.Error(why)
	}
}
