package main

// What went wrong in a step, as the outcome fields of its result. wazero has no trap code in its
// API: a trap is an error whose text starts "wasm error: ", and its first line names the trap,
// mapped onto wasmtime's TrapCode names as harness/worker/adapters/base.py TRAP_MESSAGES does.

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/tetratelabs/wazero/sys"
)

// failure is the outcome fields of a step that did not end ok (or ended with a WASI exit).
type failure struct {
	Outcome  string
	Kind     string // error_kind; "" for unsupported
	Type     string
	Message  string
	TrapCode string // "" when none can be told
	ExitCode *int64
}

// unsupportedError: wazero's API cannot express the step (outcome unsupported, never an error).
type unsupportedError struct{ reason string }

func (e *unsupportedError) Error() string { return e.reason }

// scenarioError: the scenario asked for what the segment does not have (Python's
// ScenarioStateError).
type scenarioError struct{ reason string }

func (e *scenarioError) Error() string { return e.reason }

// harnessError: a step the worker cannot read; a bug of the coordinator or of this worker,
// never the runtime's behaviour.
type harnessError struct{ reason string }

func (e *harnessError) Error() string { return e.reason }

// lookupError: an instance has no such export (Python's LookupError).
type lookupError struct{ reason string }

func (e *lookupError) Error() string { return e.reason }

// A trap is wazero's *wasmruntime.Error (an internal type, told by its name), which the
// interpreter and the old compiler wrap with this prefix and a stack trace; the optimizing
// compiler (1.7+) returns a stack overflow bare.
const (
	trapPrefix = "wasm error: "
	trapType   = "*wasmruntime.Error"
)

// trapMessages: base.py's TRAP_MESSAGES, plus wazero's own words for two traps.
var trapMessages = []struct {
	pattern *regexp.Regexp
	code    string
}{
	{regexp.MustCompile(`integer divide by zero|division by zero`), "integer_division_by_zero"},
	{regexp.MustCompile(`integer overflow`), "integer_overflow"},
	{regexp.MustCompile(`invalid conversion to integer|bad conversion`), "bad_conversion_to_integer"},
	{regexp.MustCompile(`unreachable`), "unreachable"},
	{regexp.MustCompile(`out of bounds memory access|memory out of bounds`), "memory_out_of_bounds"},
	{regexp.MustCompile(`call stack exhausted|stack overflow`), "stack_overflow"},
	{regexp.MustCompile(`all fuel consumed|out of fuel`), "out_of_fuel"},
	{regexp.MustCompile(`uninitialized element|indirect call to null|null reference`), "indirect_call_to_null"},
	{regexp.MustCompile(`indirect call type mismatch|bad signature`), "bad_signature"},
	{regexp.MustCompile(`undefined element|table out of bounds|invalid table access`), "table_out_of_bounds"},
	{regexp.MustCompile(`interrupt`), "interrupt"},
	{regexp.MustCompile(`misaligned|unaligned atomic`), "heap_misaligned"},
}

// trapCode is the trap code a trap's message names, or "" when it names none we know.
func trapCode(message string) string {
	text := strings.ToLower(message)
	for _, entry := range trapMessages {
		if entry.pattern.MatchString(text) {
			return entry.code
		}
	}
	return ""
}

// classify turns any error of a step into its outcome fields.
func classify(err error) failure {
	out := failure{Outcome: "error", Type: errorType(err), Message: err.Error()}
	var unsupported *unsupportedError
	var scenario *scenarioError
	var harness *harnessError
	var exit *sys.ExitError
	var host *HostTrap
	switch {
	case errors.As(err, &unsupported):
		out.Outcome, out.Type = "unsupported", "Unsupported"
	case errors.As(err, &scenario):
		out.Kind, out.Type = "scenario", "ScenarioStateError"
	case errors.As(err, &harness):
		out.Kind, out.Type = "harness", "HarnessError"
		out.Message = "a bug in wasm-compat, not the runtime's behaviour: " + out.Message
	case errors.As(err, &exit):
		code := int64(exit.ExitCode())
		out.Kind, out.ExitCode = "exit", &code
	case errors.As(err, &host):
		out.Kind, out.TrapCode = "trap", "host"
	case strings.HasPrefix(out.Message, trapPrefix) || out.Type == trapType:
		out.Kind, out.TrapCode = "trap", trapCode(firstLine(out.Message))
	default:
		out.Kind = "runtime"
	}
	return out
}

// errorType is the class of the error as the API made it: the innermost of a wrapped chain
// (wazero wraps its *wasmruntime.Error in a *fmt.wrapError that says nothing).
func errorType(err error) string {
	switch err.(type) {
	case *typeError:
		return "TypeError"
	case *lookupError:
		return "LookupError"
	}
	for inner := errors.Unwrap(err); inner != nil; inner = errors.Unwrap(inner) {
		err = inner
	}
	return fmt.Sprintf("%T", err)
}

func firstLine(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return line
}
