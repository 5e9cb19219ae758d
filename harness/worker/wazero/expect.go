package main

// Expectation matching, as harness/model/outcome.py's check() does it for the Python worker.
// Patterns are the scenario's regular expressions, matched with Go's regexp (RE2); the loader
// accepts Python's syntax, so one RE2 cannot read is reported as not met, with the reason.

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// expectation is what a step should do (common.json#/$defs/expectation).
type expectation struct {
	Kind     string  `json:"kind"`
	Pattern  *string `json:"pattern"`
	ExitCode *int64  `json:"exit_code"`
}

// check: does the result meet the expectation, and the call's stated results? The reason when not.
func check(want expectation, r *stepResult, stated []argument) (bool, string) {
	if r.Outcome == "ok" && stated != nil && !valuesEqual(stated, r.Values) {
		return false, fmt.Sprintf("expected results %s, got %s", showStated(stated), showValues(r.Values))
	}
	kind := want.Kind
	switch kind {
	case "any": // an observation: the diff across releases judges it, not the scenario
		return true, ""
	case "ok":
		if r.Outcome != "ok" {
			return false, "expected ok, got " + describe(r)
		}
		return true, ""
	case "exit":
		return checkExit(want, r)
	case "trap":
		return checkTrap(want, r)
	case "crash": // only the coordinator sees a crash: a worker's result never is one
		return false, fmt.Sprintf("expected crash%s, got %s", spaced(want.Pattern), describe(r))
	}
	if r.Outcome != kind {
		return false, fmt.Sprintf("expected %s, got %s", kind, describe(r))
	}
	if want.Pattern == nil {
		return true, ""
	}
	if found, bad := search(*want.Pattern, deref(r.Message)); bad != "" || found {
		return bad == "", bad
	}
	return false, fmt.Sprintf("expected %s matching /%s/, got %s", kind, *want.Pattern,
		pythonQuote(cut(deref(r.Message), 200)))
}

func checkTrap(want expectation, r *stepResult) (bool, string) {
	if r.Outcome == "error" && deref(r.ErrorKind) == "trap" {
		if want.Pattern == nil || *want.Pattern == deref(r.TrapCode) {
			return true, ""
		}
		if found, bad := search(*want.Pattern, deref(r.Message)); bad != "" || found {
			return bad == "", bad
		}
	}
	return false, fmt.Sprintf("expected trap%s, got %s", slashed(want.Pattern), describe(r))
}

func checkExit(want expectation, r *stepResult) (bool, string) {
	exited := deref(r.ErrorKind) == "exit" || (r.Outcome == "ok" && r.ExitCode != nil)
	if exited && r.ExitCode != nil && want.ExitCode != nil && *r.ExitCode == *want.ExitCode {
		return true, ""
	}
	wanted := "None"
	if want.ExitCode != nil {
		wanted = fmt.Sprint(*want.ExitCode)
	}
	return false, fmt.Sprintf("expected exit %s, got %s", wanted, describe(r))
}

// search: is the pattern found in the text? The reason when Go's regexp cannot read it.
func search(pattern, text string) (bool, string) {
	compiled, err := regexp.Compile(pattern)
	if err != nil {
		return false, fmt.Sprintf("expectation pattern /%s/ is not a regular expression Go's "+
			"regexp reads (%v): this worker cannot match it", pattern, err)
	}
	return compiled.MatchString(text), ""
}

// checkCache: did the compile do to the cache directory what the step says?
func checkCache(wanted string, detail map[string]any) (bool, string) {
	got, _ := detail["cache"].(string)
	if got == wanted {
		return true, ""
	}
	return false, fmt.Sprintf("expected a cache %s, got %s (%s cache files before, %s after)",
		wanted, orNone(got), orNone(detail["cache_files_before"]), orNone(detail["cache_files_after"]))
}

// intendedStop: why the steps after this one do not run although it met its expectation (an
// observation, or a known deviation, that ended other than ok); "" when the run goes on.
func intendedStop(r *stepResult, want expectation, known bool) string {
	if r.Outcome == "ok" || !(want.Kind == "any" || known) {
		return ""
	}
	how := "was an observation that"
	if known {
		how = "as known"
	}
	return fmt.Sprintf("step %d (%s) %s ended %s", r.Index+1, r.Op, how, r.Outcome)
}

func describe(r *stepResult) string {
	if r.Outcome != "error" {
		return r.Outcome
	}
	switch deref(r.ErrorKind) {
	case "trap":
		if code := deref(r.TrapCode); code != "" {
			return "trap " + code
		}
		return "trap " + pythonQuote(cut(deref(r.Message), 120))
	case "exit":
		return fmt.Sprintf("exit %s", orNone(r.ExitCode))
	}
	return fmt.Sprintf("error %s: %s", deref(r.ErrorType), cut(deref(r.Message), 160))
}

func valuesEqual(wanted []argument, got []wasmValue) bool {
	if len(wanted) != len(got) {
		return false
	}
	for i := range wanted {
		if !valueEqual(wanted[i], got[i]) {
			return false
		}
	}
	return true
}

func valueEqual(wanted argument, got wasmValue) bool {
	if wanted.Type != nil && *wanted.Type != got.Type {
		return false
	}
	if got.Type == "f32" || got.Type == "f64" || isFloatText(wanted.Value) {
		w, err := parseFloat(wanted.Value)
		if err != nil {
			return false
		}
		g := gotFloat(got)
		if math.IsNaN(w) || math.IsNaN(g) {
			return math.IsNaN(w) && math.IsNaN(g)
		}
		if got.Type == "f32" {
			w = float64(float32(w))
		}
		return w == g
	}
	w, ok := jsonInteger(wanted.Value)
	return ok && w.IsInt64() && w.Int64() == gotInt(got)
}

func gotFloat(v wasmValue) float64 {
	switch v.Type {
	case "f32":
		return float64(math.Float32frombits(uint32(v.Bits)))
	case "f64":
		return math.Float64frombits(v.Bits)
	}
	return float64(gotInt(v))
}

func gotInt(v wasmValue) int64 {
	if v.Type == "i32" {
		return int64(int32(uint32(v.Bits)))
	}
	return int64(v.Bits)
}

func showStated(values []argument) string {
	shown := make([]string, len(values))
	for i, v := range values {
		var word string
		if json.Unmarshal(v.Value, &word) == nil {
			shown[i] = word
		} else {
			shown[i] = strings.TrimSpace(string(v.Value))
		}
	}
	return "[" + strings.Join(shown, ", ") + "]"
}

func showValues(values []wasmValue) string {
	shown := make([]string, len(values))
	for i, v := range values {
		if v.Type == "i32" || v.Type == "i64" {
			shown[i] = strconv.FormatInt(gotInt(v), 10)
		} else {
			shown[i] = strings.Trim(floatJSON(gotFloat(v)), `"`)
		}
	}
	return "[" + strings.Join(shown, ", ") + "]"
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func orNone(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		if x == "" {
			return "None"
		}
	case *int64:
		if x == nil {
			return "None"
		}
		return fmt.Sprint(*x)
	}
	return fmt.Sprint(v)
}

func slashed(pattern *string) string {
	if pattern == nil {
		return ""
	}
	return " /" + *pattern + "/"
}

func spaced(pattern *string) string {
	if pattern == nil {
		return ""
	}
	return " " + *pattern
}

func cut(text string, n int) string {
	runes := []rune(text)
	if len(runes) > n {
		return string(runes[:n])
	}
	return text
}

// pythonQuote is a string as Python's repr shows it in a reason (single quotes).
func pythonQuote(text string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(text, `\`, `\\`), "'", `\'`) + "'"
}
