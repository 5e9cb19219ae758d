package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// logged: imports env.log(i32, f32) -> (i32, f64, i64); go(x) returns log(x, 1.5).
const loggedHex = "0061736d0100000001100260027f7d037f7c7e60017f037f7c7e020b0103656e76036c6f6700000302" +
	"010107060102676f00010a0d010b002000430000c03f10000b000d046e616d6501060100036c6f67"

func declaration(params, results []string, does map[string]any) map[string]any {
	return map[string]any{"params": params, "results": results, "does": does}
}

func rawFunctions(t *testing.T, functions map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for module, declared := range functions {
		data, err := json.Marshal(declared)
		if err != nil {
			t.Fatal(err)
		}
		out[module] = data
	}
	return out
}

// The messages are harness/worker/declared.py's, word for word (tests/unit/worker/test_declared.py).
func TestAnInconsistentDeclarationIsTheScenarioSErrorNamingTheImport(t *testing.T) {
	i32s := []string{"i32"}
	cases := []struct {
		imports  []string
		declared map[string]any
		message  string
	}{
		{[]string{"env"}, map[string]any{"env": map[string]any{"f": declaration(nil, nil, map[string]any{"kind": "trap"})}},
			"import env.f: params and results are lists of i32, i64, f32, f64"},
		{[]string{"env"}, map[string]any{"env": map[string]any{"f": declaration([]string{"i32", "i64"}, []string{"i64"}, map[string]any{"kind": "arg", "index": 2})}},
			"import env.f: arg index 2 is out of range: it declares 2 param(s)"},
		{[]string{"env"}, map[string]any{"env": map[string]any{"f": declaration([]string{"i32", "i64"}, []string{"i64"}, map[string]any{"kind": "arg", "index": 0})}},
			"import env.f: arg 0 is i32, the result is i64"},
		{[]string{"env"}, map[string]any{"env": map[string]any{"f": declaration([]string{}, []string{"i32", "i32"}, map[string]any{"kind": "return", "value": 1})}},
			"import env.f: return needs exactly one result, it declares 2"},
		{[]string{"env"}, map[string]any{"env": map[string]any{"f": declaration([]string{"f64", "f32"}, []string{"f64"}, map[string]any{"kind": "add"})}},
			"import env.f: add needs every param of the result's type f64, param 1 is f32"},
		{[]string{"env"}, map[string]any{"env": map[string]any{"f": declaration([]string{}, i32s, map[string]any{"kind": "return", "value": 4294967296})}},
			"import env.f: return value does not fit i32"},
		{[]string{"env"}, map[string]any{"env": map[string]any{"f": declaration([]string{}, i32s, map[string]any{"kind": "return", "value": map[string]any{"type": "i64", "value": 1}})}},
			"import env.f: return value is typed i64, the result is i32"},
		{[]string{"env"}, map[string]any{"env": map[string]any{"f": declaration([]string{"f32"}, []string{}, map[string]any{"kind": "exit", "code": nil})}},
			"import env.f: exit with code null exits with param 0, which must be i32 or i64"},
		{[]string{"env"}, map[string]any{"env": map[string]any{"f": declaration([]string{}, []string{}, map[string]any{"kind": "hang", "ms": 1})}},
			"import env.f: hang takes nothing besides kind"},
		{[]string{"env", "other"}, map[string]any{"env": map[string]any{}},
			"imports name module 'other', which functions does not declare"},
		{[]string{}, map[string]any{"env": map[string]any{}},
			"functions declares module 'env', which this step does not import"},
		{[]string{"host"}, map[string]any{"host": map[string]any{}},
			"module 'host' is the harness's own: it cannot be declared"},
		{[]string{"wasi", "wasi_snapshot_preview1"}, map[string]any{"wasi_snapshot_preview1": map[string]any{}},
			"module 'wasi_snapshot_preview1' is WASI's, which this segment imports too"},
	}
	for _, c := range cases {
		var d declarations
		_, err := d.modules(c.imports, rawFunctions(t, c.declared))
		failed := classify(err)
		if failed.Kind != "scenario" || failed.Type != "ScenarioStateError" || failed.Message != c.message {
			t.Errorf("%v: got %+v, want %q", c.declared, failed, c.message)
		}
	}
}

func TestASegmentKeepsEachModuleSFirstDeclaration(t *testing.T) {
	var d declarations
	answer := func(v int) map[string]any {
		return map[string]any{"env": map[string]any{"f": declaration([]string{}, []string{"i32"}, map[string]any{"kind": "return", "value": v})}}
	}
	for _, v := range []int{42, 42} {
		if _, err := d.modules([]string{"env"}, rawFunctions(t, answer(v))); err != nil {
			t.Fatal(err)
		}
	}
	_, err := d.modules([]string{"env"}, rawFunctions(t, answer(43)))
	want := "import env.f is declared otherwise than by an earlier instantiate of this segment"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v", err)
	}
	if _, err := d.modules([]string{"wasi"}, nil); err != nil {
		t.Fatal(err)
	}
	wasi := map[string]any{"wasi_unstable": map[string]any{}}
	if _, err := d.modules([]string{"wasi_unstable"}, rawFunctions(t, wasi)); err == nil {
		t.Fatal("a WASI module declared in a segment that imports WASI")
	}
}

func TestAddWrapsIntegersAndSumsFloatsOnceRounded(t *testing.T) {
	ctx := context.Background()
	stack := []uint64{uint64(math.MaxInt32), 1, 5}
	adder(i32, 3)(ctx, stack)
	if got := int32(uint32(stack[0])); got != math.MinInt32+5 {
		t.Errorf("i32: %d", got)
	}
	stack = []uint64{math.MaxUint64, 2}
	adder(i64, 2)(ctx, stack)
	if stack[0] != 1 {
		t.Errorf("i64: %d", stack[0])
	}
	stack = []uint64{uint64(math.Float32bits(0.1)), uint64(math.Float32bits(0.2))}
	adder(f32, 2)(ctx, stack)
	if got := math.Float32frombits(uint32(stack[0])); got != float32(float64(float32(0.1))+float64(float32(0.2))) {
		t.Errorf("f32: %v", got)
	}
	stack = []uint64{math.Float64bits(math.Copysign(0, -1))}
	adder(f64, 1)(ctx, stack)
	if got := math.Float64frombits(stack[0]); got != 0 || !math.Signbit(got) {
		t.Errorf("f64: -0 became %v", got)
	}
}

func TestRecordLogsItsArgumentsAndReturnsZeros(t *testing.T) {
	h := newHarness(t)
	data, _ := hex.DecodeString(loggedHex)
	path := filepath.Join(t.TempDir(), "logged.wasm")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h.fixtures["logged"] = path
	log := declaration([]string{"i32", "f32"}, []string{"i32", "f64", "i64"}, map[string]any{"kind": "record"})
	inst := instantiateStep(1, "env")
	inst["args"].(map[string]any)["functions"] = map[string]any{"env": map[string]any{"log": log}}
	completed, _ := h.run("", compileStep(0, "logged", map[string]any{}), inst, callStep(2, "go", []any{-3}))
	got, _ := h.results()
	if !completed {
		t.Fatalf("%v", got)
	}
	values, _ := json.Marshal(got[2]["values"])
	calls, _ := json.Marshal(got[2]["detail"].(map[string]any)["host_calls"])
	want := `[{"type":"i32","value":0},{"type":"f64","value":0},{"type":"i64","value":0}]`
	if string(values) != want {
		t.Errorf("values %s", values)
	}
	wantCalls := `[{"args":[{"type":"i32","value":-3},{"type":"f32","value":1.5}],"function":"env.log"}]`
	if !reflect.DeepEqual(string(calls), wantCalls) {
		t.Errorf("host_calls %s", calls)
	}
	if !strings.Contains((&HostTrap{function: "env.f"}).Error(), "host function 'env.f' was called") {
		t.Error("a declared trap's message does not name its import")
	}
}
