package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// calc: add(i32, i32) -> i32, boom() traps unreachable, div(i32) -> i32 is 1 / x (unsigned).
const calcHex = "0061736d01000000010f0360027f7f017f60000060017f017f0304030001020714030361646400" +
	"0004626f6f6d00010364697600020a15030700200020016a0b0300000b0700410120006e0b"

// rec: imports host.record(i32); rec(x) calls it with x.
const recHex = "0061736d0100000001050160017f00020f0104686f7374067265636f72640000030201000707010372" +
	"656300010a08010600200010000b"

type harness struct {
	t        *testing.T
	workdir  string
	fixtures map[string]string
	events   []map[string]any
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, workdir: t.TempDir(), fixtures: map[string]string{}}
	for name, text := range map[string]string{"calc": calcHex, "rec": recHex} {
		data, _ := hex.DecodeString(text)
		path := filepath.Join(t.TempDir(), name+".wasm")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		h.fixtures[name] = path
	}
	return h
}

// run runs the steps as one segment of a process; the events it sent, decoded.
func (h *harness) run(variant string, steps ...map[string]any) (bool, *string) {
	payload, _ := json.Marshal(map[string]any{
		"index": 0, "workdir": h.workdir, "fixtures": h.fixtures, "steps": steps, "protocol": protocolVersion,
	})
	var spec segmentSpec
	if err := json.Unmarshal(payload, &spec); err != nil {
		h.t.Fatal(err)
	}
	if err := checkSpec(&spec); err != nil {
		h.t.Fatal(err)
	}
	h.events = nil
	return newSegment(variant, &spec).run(spec.Steps, h.collect)
}

func (h *harness) collect(event any) {
	data, err := json.Marshal(event)
	if err != nil {
		h.t.Fatal(err)
	}
	var decoded map[string]any
	_ = json.Unmarshal(data, &decoded)
	h.events = append(h.events, decoded)
}

// results are the step results sent, by index; started the indexes announced.
func (h *harness) results() (map[int]map[string]any, []int) {
	got, started := map[int]map[string]any{}, []int{}
	for _, e := range h.events {
		switch e["name"] {
		case "step_finished":
			r := e["result"].(map[string]any)
			got[int(r["index"].(float64))] = r
		case "step_started":
			started = append(started, int(e["index"].(float64)))
		}
	}
	return got, started
}

func stepOf(index int, op string, args map[string]any, expect ...map[string]any) map[string]any {
	want := map[string]any{"kind": "ok"}
	if len(expect) > 0 {
		want = expect[0]
	}
	return map[string]any{"index": index, "op": op, "args": args, "expect": want, "line": index + 1}
}

func compileStep(index int, fixture string, engine map[string]any, expect ...map[string]any) map[string]any {
	return stepOf(index, "compile", map[string]any{"fixture": fixture, "as": "m", "engine": engine}, expect...)
}

func instantiateStep(index int, imports ...string) map[string]any {
	return stepOf(index, "instantiate", map[string]any{"module": "m", "as": "i", "store": "s",
		"imports": append([]string{}, imports...), "functions": map[string]any{},
		"wasi": map[string]any{"args": []string{}, "env": map[string]string{}},
		"fuel": nil})
}

func callStep(index int, export string, args []any, expect ...map[string]any) map[string]any {
	values := []map[string]any{}
	for _, a := range args {
		values = append(values, map[string]any{"type": nil, "value": a})
	}
	return stepOf(index, "call", map[string]any{"instance": "i", "export": export, "args": values, "results": nil}, expect...)
}

func closeStep(index int, always bool, order ...[]any) map[string]any {
	return stepOf(index, "close", map[string]any{"order": order, "explicit": true, "always": always})
}

func TestASegmentRunsCallsTrapsAndStopsAtAnObservation(t *testing.T) {
	h := newHarness(t)
	completed, stopped := h.run("",
		compileStep(0, "calc", map[string]any{}),
		instantiateStep(1),
		callStep(2, "add", []any{2, 40}),
		callStep(3, "div", []any{0}, map[string]any{"kind": "trap", "pattern": "integer_division_by_zero"}),
		callStep(4, "boom", nil, map[string]any{"kind": "any"}),
		callStep(5, "add", []any{1, 1}),
		closeStep(6, true, []any{"instance", "i"}, []any{"store", "s"}, []any{"module", "m"}, []any{"engine", nil}),
	)
	got, started := h.results()
	if !completed || stopped == nil || *stopped != "step 5 (call) was an observation that ended error" {
		t.Fatalf("completed %v, stopped %v", completed, stopped)
	}
	if !reflect.DeepEqual(started, []int{0, 1, 2, 3, 4, 6}) {
		t.Fatalf("started %v", started)
	}
	if v := got[2]["values"]; !reflect.DeepEqual(v, []any{map[string]any{"type": "i32", "value": 42.0}}) {
		t.Errorf("add: %v", v)
	}
	if got[3]["trap_code"] != "integer_division_by_zero" || got[3]["values"] != nil || got[3]["met"] != true {
		t.Errorf("div: %v", got[3])
	}
	if got[4]["trap_code"] != "unreachable" || got[5]["outcome"] != "not_run" || got[5]["why"] != *stopped {
		t.Errorf("boom %v, then %v", got[4], got[5])
	}
	closed := got[6]["detail"].(map[string]any)["closed"]
	want := []any{"instance i: api.Module.Close", "store s: nothing to close (wazero has no store)",
		"module m: CompiledModule.Close", "engine: Runtime.Close"}
	if !reflect.DeepEqual(closed, want) {
		t.Errorf("closed %v", closed)
	}
}

func TestAnAlwaysCloseRunsAfterAMissedExpectationAndSkipsWhatIsAbsent(t *testing.T) {
	h := newHarness(t)
	completed, stopped := h.run("",
		compileStep(0, "calc", map[string]any{}),
		instantiateStep(1),
		callStep(2, "boom", nil),
		callStep(3, "add", []any{1, 1}),
		closeStep(4, false, []any{"instance", "i"}),
		closeStep(5, true, []any{"instance", "ghost"}, []any{"instance", "i"}),
	)
	got, started := h.results()
	if completed || stopped != nil || !reflect.DeepEqual(started, []int{0, 1, 2, 5}) || len(got) != 4 {
		t.Fatalf("completed %v stopped %v started %v results %d", completed, stopped, started, len(got))
	}
	closed := got[5]["detail"].(map[string]any)["closed"]
	if !reflect.DeepEqual(closed, []any{"instance ghost: absent", "instance i: api.Module.Close"}) {
		t.Errorf("closed %v", closed)
	}
}

func TestTheHostLibraryRecordsItsCalls(t *testing.T) {
	h := newHarness(t)
	h.run("interpreter",
		compileStep(0, "rec", map[string]any{}),
		instantiateStep(1, "host"),
		callStep(2, "rec", []any{-5}),
	)
	got, _ := h.results()
	detail := got[2]["detail"].(map[string]any)
	if got[2]["outcome"] != "ok" || !reflect.DeepEqual(detail["host_calls"], []any{-5.0}) {
		t.Errorf("rec: %v", got[2])
	}
	if !reflect.DeepEqual(got[1]["detail"], map[string]any{"imports": []any{"host"}}) {
		t.Errorf("instantiate: %v", got[1])
	}
}

func TestACacheDirectoryMissesThenHitsAcrossProcesses(t *testing.T) {
	h := newHarness(t)
	engine := map[string]any{"cache": map[string]any{"directory": "cache"}}
	for n, want := range []string{"miss", "hit"} {
		h.run("compiler", compileStep(0, "calc", engine, map[string]any{"kind": "ok"}))
		got, _ := h.results()
		detail := got[0]["detail"].(map[string]any)
		if detail["cache"] != want {
			t.Errorf("compile %d: %v", n, detail)
		}
	}
}

func TestWhatWazeroCannotExpressIsUnsupported(t *testing.T) {
	unsupported := map[string]any{"kind": "unsupported"}
	h := newHarness(t)
	h.run("",
		compileStep(0, "calc", map[string]any{"fuel": 1000}, unsupported),
		compileStep(1, "calc", map[string]any{"features": map[string]bool{"tail_call": true}}, unsupported),
		compileStep(2, "calc", map[string]any{"cache": map[string]any{"config": "x"}}, unsupported),
		compileStep(3, "calc", map[string]any{"compiler": "llvm"}, unsupported),
		compileStep(4, "calc", map[string]any{"features": map[string]bool{"tail_call": false, "simd": false}}),
		stepOf(5, "serialize", map[string]any{"module": "m", "to": "m.bin"}, unsupported),
		compileStep(6, "calc", map[string]any{"cache": true}, unsupported), // no default location
	)
	got, _ := h.results()
	for index := 0; index <= 6; index++ {
		r := got[index]
		if r["met"] != true || r["error_kind"] != nil {
			t.Errorf("step %d: %v", index, r)
		}
	}
}

func TestACacheOutsideTheWorkDirIsTheScenariosError(t *testing.T) {
	h := newHarness(t)
	h.run("", compileStep(0, "calc", map[string]any{"cache": map[string]any{"directory": "../c"}},
		map[string]any{"kind": "error", "pattern": "outside the work dir"}))
	got, _ := h.results()
	if got[0]["error_kind"] != "scenario" || got[0]["met"] != true {
		t.Errorf("%v", got[0])
	}
}

func TestAMissingExportAndAWrongArgumentCountAreErrors(t *testing.T) {
	h := newHarness(t)
	h.run("",
		compileStep(0, "calc", map[string]any{}),
		instantiateStep(1),
		callStep(2, "nope", nil, map[string]any{"kind": "error", "pattern": "no export 'nope'"}),
		callStep(3, "add", []any{1}, map[string]any{"kind": "error", "pattern": "takes 2 argument"}),
	)
	got, _ := h.results()
	for _, index := range []int{2, 3} {
		if got[index]["met"] != true || !strings.HasSuffix(got[index]["error_type"].(string), "Error") {
			t.Errorf("step %d: %v", index, got[index])
		}
	}
}
