package main

// Host functions a scenario declares (protocol 4): per module and name, a signature and one
// behaviour from a fixed set. The same checks, in the same order and with the same messages,
// as harness/worker/declared.py: a declaration that contradicts itself or the step is the
// scenario's error, naming the import; an import nobody declared is left to wazero.

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

const wasiImport = "wasi"

var (
	wasiModules = map[string]bool{"wasi_snapshot_preview1": true, "wasi_unstable": true}
	valueTypes  = map[string]api.ValueType{"i32": i32, "i64": i64, "f32": f32, "f64": f64}
	// behaviourKinds in the order messages list them; behaviourFields: each one's fields
	// besides `kind`; the first three return exactly one result.
	behaviourKinds  = []string{"return", "arg", "add", "record", "trap", "exit", "hang"}
	behaviourFields = map[string][]string{"return": {"value"}, "arg": {"index"}, "exit": {"code"}}
	oneResult       = map[string]bool{"return": true, "arg": true, "add": true}
)

// declaredFunc is one declared host function, checked.
type declaredFunc struct {
	label    string // MODULE.NAME
	params   []api.ValueType
	results  []api.ValueType
	kind     string
	constant uint64 // return: the value's bits
	index    int    // arg: the param returned
	code     *int   // exit: the exit code; nil exits with param 0
}

// declaredModule is a declared module's functions by name.
type declaredModule map[string]*declaredFunc

// declarations are the modules one segment's steps declare. wazero links a module name once per
// runtime, so a segment keeps the first declaration of each module (in every worker alike):
// another one for it is the scenario's error, as is a module of WASI's name in a segment that
// imports WASI.
type declarations struct {
	seen map[string]map[string]string // module -> name -> its declaration as JSON
	wasi bool
}

func declarationError(format string, args ...any) error {
	return &scenarioError{fmt.Sprintf(format, args...)}
}

// modules checks one instantiate's imports and declarations, whole, before anything is kept;
// the declared modules it links.
func (d *declarations) modules(imports []string, functions map[string]json.RawMessage) (map[string]declaredModule, error) {
	if err := checkModules(imports, functions); err != nil {
		return nil, err
	}
	importsWasi := contains(imports, wasiImport)
	if err := d.checkWasi(importsWasi, functions); err != nil {
		return nil, err
	}
	names := sortedKeys(functions)
	built := map[string]declaredModule{}
	canonical := map[string]map[string]string{}
	for _, module := range names {
		declared, forms, err := declareModule(module, functions[module])
		if err != nil {
			return nil, err
		}
		built[module], canonical[module] = declared, forms
	}
	for _, module := range names {
		if earlier, ok := d.seen[module]; ok {
			if err := checkSame(module, earlier, canonical[module]); err != nil {
				return nil, err
			}
		}
	}
	if d.seen == nil {
		d.seen = map[string]map[string]string{}
	}
	for _, module := range names {
		if _, ok := d.seen[module]; !ok {
			d.seen[module] = canonical[module]
		}
	}
	d.wasi = d.wasi || importsWasi
	return built, nil
}

func (d *declarations) checkWasi(importsWasi bool, functions map[string]json.RawMessage) error {
	clash := []string{}
	for _, module := range sortedKeys(functions) {
		if wasiModules[module] && (d.wasi || importsWasi) {
			clash = append(clash, module)
		}
	}
	if importsWasi {
		for _, module := range sortedKeys(d.seen) {
			if wasiModules[module] {
				clash = append(clash, module)
			}
		}
	}
	if len(clash) > 0 {
		return declarationError("module '%s' is WASI's, which this segment imports too", clash[0])
	}
	return nil
}

// checkModules: every module the step imports is the library, WASI or declared, and only those.
func checkModules(imports []string, functions map[string]json.RawMessage) error {
	for _, module := range imports {
		if _, ok := functions[module]; !ok && module != hostModuleName && module != wasiImport {
			return declarationError("imports name module '%s', which functions does not declare", module)
		}
	}
	for _, module := range sortedKeys(functions) {
		if module == hostModuleName || module == wasiImport {
			return declarationError("module '%s' is the harness's own: it cannot be declared", module)
		}
		if !contains(imports, module) {
			return declarationError("functions declares module '%s', which this step does not import", module)
		}
	}
	return nil
}

// declareModule checks a module's declarations; them, and each one's canonical JSON.
func declareModule(module string, raw json.RawMessage) (declaredModule, map[string]string, error) {
	var named map[string]json.RawMessage
	if json.Unmarshal(raw, &named) != nil || named == nil {
		return nil, nil, declarationError("module '%s': functions maps each name to a declaration", module)
	}
	declared, forms := declaredModule{}, map[string]string{}
	for _, name := range sortedKeys(named) {
		fn, err := declare(module+"."+name, named[name])
		if err != nil {
			return nil, nil, err
		}
		declared[name], forms[name] = fn, canonicalJSON(named[name])
	}
	return declared, forms, nil
}

// declare checks one declaration (its label is MODULE.NAME).
func declare(label string, raw json.RawMessage) (*declaredFunc, error) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || !hasExactly(fields, "params", "results", "does") {
		return nil, declarationError("import %s: a declaration has params, results and does", label)
	}
	fn := &declaredFunc{label: label}
	var err error
	if fn.params, err = wasmTypes(label, fields["params"]); err != nil {
		return nil, err
	}
	if fn.results, err = wasmTypes(label, fields["results"]); err != nil {
		return nil, err
	}
	var does map[string]json.RawMessage
	if json.Unmarshal(fields["does"], &does) == nil && does != nil {
		_ = json.Unmarshal(does["kind"], &fn.kind)
	}
	if !contains(behaviourKinds, fn.kind) {
		return nil, declarationError("import %s: does.kind is one of %s", label, strings.Join(behaviourKinds, ", "))
	}
	if !hasExactly(does, append([]string{"kind"}, behaviourFields[fn.kind]...)...) {
		takes := strings.Join(behaviourFields[fn.kind], ", ")
		if takes == "" {
			takes = "nothing"
		}
		return nil, declarationError("import %s: %s takes %s besides kind", label, fn.kind, takes)
	}
	if oneResult[fn.kind] && len(fn.results) != 1 {
		return nil, declarationError("import %s: %s needs exactly one result, it declares %d",
			label, fn.kind, len(fn.results))
	}
	return fn, fn.checkBehaviour(does)
}

// checkBehaviour checks what the behaviour needs of the signature and reads its fields.
func (fn *declaredFunc) checkBehaviour(does map[string]json.RawMessage) error {
	switch fn.kind {
	case "return":
		return fn.readConstant(does["value"])
	case "arg":
		return fn.readIndex(does["index"])
	case "add":
		for position, t := range fn.params {
			if t != fn.results[0] {
				return declarationError("import %s: add needs every param of the result's type %s, param %d is %s",
					fn.label, typeName(fn.results[0]), position, typeName(t))
			}
		}
	case "exit":
		return fn.readCode(does["code"])
	}
	return nil
}

func (fn *declaredFunc) readIndex(raw json.RawMessage) error {
	n, ok := jsonInteger(raw)
	if !ok {
		return declarationError("import %s: arg index must be an integer", fn.label)
	}
	if n.Sign() < 0 || n.Cmp(big.NewInt(int64(len(fn.params)))) >= 0 {
		return declarationError("import %s: arg index %s is out of range: it declares %d param(s)",
			fn.label, n.String(), len(fn.params))
	}
	fn.index = int(n.Int64())
	if fn.params[fn.index] != fn.results[0] {
		return declarationError("import %s: arg %d is %s, the result is %s",
			fn.label, fn.index, typeName(fn.params[fn.index]), typeName(fn.results[0]))
	}
	return nil
}

func (fn *declaredFunc) readCode(raw json.RawMessage) error {
	if strings.TrimSpace(string(raw)) == "null" {
		if len(fn.params) == 0 || (fn.params[0] != i32 && fn.params[0] != i64) {
			return declarationError("import %s: exit with code null exits with param 0, which must be i32 or i64", fn.label)
		}
		return nil
	}
	n, ok := jsonInteger(raw)
	if !ok || n.Sign() < 0 || n.Cmp(big.NewInt(255)) > 0 {
		return declarationError("import %s: exit code must be an integer from 0 to 255, or null", fn.label)
	}
	code := int(n.Int64())
	fn.code = &code
	return nil
}

// readConstant: `return`'s value, a number or a value typed as the result, as the result's bits.
func (fn *declaredFunc) readConstant(raw json.RawMessage) error {
	result := typeName(fn.results[0])
	if text := strings.TrimSpace(string(raw)); strings.HasPrefix(text, "{") {
		var typed map[string]json.RawMessage
		if json.Unmarshal(raw, &typed) != nil || !hasExactly(typed, "type", "value") {
			return declarationError("import %s: return value is a number or a value", fn.label)
		}
		var named *string
		if json.Unmarshal(typed["type"], &named) != nil {
			return declarationError("import %s: return value is typed %s, the result is %s",
				fn.label, strings.TrimSpace(string(typed["type"])), result)
		}
		if named != nil && *named != result {
			return declarationError("import %s: return value is typed %s, the result is %s", fn.label, *named, result)
		}
		raw = typed["value"]
	}
	bits, err := encodeArg(fn.results[0], raw)
	if err != nil {
		return declarationError("import %s: return value does not fit %s", fn.label, result)
	}
	fn.constant = bits
	return nil
}

func wasmTypes(label string, raw json.RawMessage) ([]api.ValueType, error) {
	var names []string
	if strings.TrimSpace(string(raw)) == "null" || json.Unmarshal(raw, &names) != nil {
		return nil, declarationError("import %s: params and results are lists of i32, i64, f32, f64", label)
	}
	types := make([]api.ValueType, len(names))
	for i, name := range names {
		t, ok := valueTypes[name]
		if !ok {
			return nil, declarationError("import %s: params and results are lists of i32, i64, f32, f64", label)
		}
		types[i] = t
	}
	return types, nil
}

func checkSame(module string, earlier, now map[string]string) error {
	names := map[string]bool{}
	for name := range earlier {
		names[name] = true
	}
	for name := range now {
		names[name] = true
	}
	for _, name := range sortedKeys(names) {
		before, had := earlier[name]
		after, has := now[name]
		if had != has || before != after {
			return declarationError("import %s.%s is declared otherwise than by an earlier instantiate of this segment",
				module, name)
		}
	}
	return nil
}

// canonicalJSON is a declaration with its keys sorted, to tell two declarations apart.
func canonicalJSON(raw json.RawMessage) string {
	var generic any
	decoder := json.NewDecoder(strings.NewReader(string(raw)))
	decoder.UseNumber()
	if decoder.Decode(&generic) != nil {
		return string(raw)
	}
	text, _ := json.Marshal(generic)
	return string(text)
}

func hasExactly(fields map[string]json.RawMessage, keys ...string) bool {
	if len(fields) != len(keys) {
		return false
	}
	for _, key := range keys {
		if _, ok := fields[key]; !ok {
			return false
		}
	}
	return true
}

func contains(items []string, item string) bool {
	for _, each := range items {
		if each == item {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
