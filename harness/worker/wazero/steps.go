package main

// The ops a step runs, each onto wazero's API as application code would call it.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

const stdoutTail = 4000 // bytes of an instance's WASI stdout a call reports

func (s *segment) fixtureBytes(name string) ([]byte, error) {
	path, ok := s.fixtures[name]
	if !ok {
		return nil, &harnessError{fmt.Sprintf("the segment has no fixture %q", name)}
	}
	return os.ReadFile(path)
}

// compile: Runtime.CompileModule, the cache directory's files counted before and after, its
// entries damaged after it when the step says corrupt_cache.
func (s *segment) compile(raw json.RawMessage) (stepOutput, error) {
	var args struct {
		Fixture      string           `json:"fixture"`
		As           string           `json:"as"`
		Engine       json.RawMessage  `json:"engine"`
		CorruptCache *cacheCorruption `json:"corrupt_cache"`
	}
	if err := decodeArgs(raw, &args); err != nil {
		return stepOutput{}, err
	}
	key, made, err := s.engine(args.Engine)
	if err != nil {
		return stepOutput{}, err
	}
	wasm, err := s.fixtureBytes(args.Fixture)
	if err != nil {
		return stepOutput{}, err
	}
	before := made.cacheFiles()
	started := time.Now()
	compiled, err := made.runtime.CompileModule(s.ctx, wasm)
	detail := map[string]any{
		"wasm_bytes": len(wasm),
		"compile_s":  round6(time.Since(started).Seconds()),
	}
	if compiled != nil { // kept as returned, even with an error
		s.modules[args.As] = &module{engineKey: key, compiled: compiled}
	}
	if err != nil {
		return stepOutput{}, err
	}
	if made.cacheDir != "" {
		after := made.cacheFiles()
		detail["cache_files_before"], detail["cache_files_after"] = before, after
		detail["cache"] = cacheState(before, after)
		if args.CorruptCache != nil { // after the compile, for the next one to meet
			if detail["cache_corrupted"], err = damageCache(made.cacheDir, *args.CorruptCache); err != nil {
				return stepOutput{}, err
			}
		}
	}
	return stepOutput{detail: detail}, nil
}

// serialize: wazero's CompiledModule has no bytes to write.
func (s *segment) serialize(json.RawMessage) (stepOutput, error) {
	return stepOutput{}, &unsupportedError{
		"wazero cannot serialize a compiled module: CompiledModule has no serialized form " +
			"(its only persistence is a CompilationCache directory)"}
}

// deserialize: wazero's Runtime has no way to load compiled code from bytes or a file.
func (s *segment) deserialize(json.RawMessage) (stepOutput, error) {
	return stepOutput{}, &unsupportedError{
		"wazero cannot deserialize a compiled module: Runtime has only CompileModule " +
			"(wasm bytes), and a CompilationCache directory it manages itself"}
}

type instantiateArgs struct {
	Module    string                     `json:"module"`
	As        string                     `json:"as"`
	Store     string                     `json:"store"`
	Imports   []string                   `json:"imports"`
	Functions map[string]json.RawMessage `json:"functions"`
	Fuel      json.RawMessage            `json:"fuel"`
	Wasi      struct {
		Args []string          `json:"args"`
		Env  map[string]string `json:"env"`
	} `json:"wasi"`
}

// instantiate: Runtime.InstantiateModule under the instance's name, no start function run
// (a scenario calls _start itself). What it returns is kept as returned: a non-nil module
// that came with an error is stored and closed later, as application code would.
func (s *segment) instantiate(raw json.RawMessage) (stepOutput, error) {
	var args instantiateArgs
	if err := decodeArgs(raw, &args); err != nil {
		return stepOutput{}, err
	}
	if fuel := strings.TrimSpace(string(args.Fuel)); fuel != "" && fuel != "null" {
		return stepOutput{}, &unsupportedError{"wazero has no fuel metering"}
	}
	source, err := s.module(args.Module)
	if err != nil {
		return stepOutput{}, err
	}
	declared, err := s.declarations.modules(args.Imports, args.Functions)
	if err != nil {
		return stepOutput{}, err
	}
	made := s.engines[source.engineKey]
	s.stores[args.Store] = source.engineKey
	config, stdoutPath, err := s.moduleConfig(made, args, declared)
	if err != nil {
		return stepOutput{}, err
	}
	mod, err := made.runtime.InstantiateModule(s.ctx, source.compiled, config)
	if mod != nil {
		s.instances[args.As] = &instance{mod: mod, store: args.Store, stdoutPath: stdoutPath}
	}
	if err != nil {
		return stepOutput{}, err
	}
	imports := args.Imports
	if imports == nil {
		imports = []string{}
	}
	return stepOutput{detail: map[string]any{"imports": imports}}, nil
}

// moduleConfig names the instance and gives it its imports: `host`, WASI and each declared
// module are instantiated once per Runtime, which links imports by module name.
func (s *segment) moduleConfig(made *engine, args instantiateArgs, declared map[string]declaredModule) (wazero.ModuleConfig, string, error) {
	config := wazero.NewModuleConfig().WithName(args.As).WithStartFunctions()
	stdoutPath := ""
	for _, name := range args.Imports {
		switch name {
		case "host":
			if err := s.ensureHost(made); err != nil {
				return nil, "", err
			}
		case "wasi":
			if err := s.ensureWasi(made); err != nil {
				return nil, "", err
			}
			path, stdout, err := s.openStdout(args.As)
			if err != nil {
				return nil, "", err
			}
			stdoutPath = path
			config = wasiConfig(config.WithStdout(stdout), args)
		default: // declared: modules() checked that it is
			if err := s.ensureDeclared(made, name, declared[name]); err != nil {
				return nil, "", err
			}
		}
	}
	return config, stdoutPath, nil
}

func (s *segment) ensureHost(made *engine) error {
	if made.host {
		return nil
	}
	if _, err := s.host.instantiate(s.ctx, made.runtime); err != nil {
		return err
	}
	made.host = true
	return nil
}

func (s *segment) ensureDeclared(made *engine, module string, declared declaredModule) error {
	if made.declared[module] {
		return nil
	}
	if err := s.host.instantiateDeclared(s.ctx, made.runtime, module, declared); err != nil {
		return err
	}
	if made.declared == nil {
		made.declared = map[string]bool{}
	}
	made.declared[module] = true
	return nil
}

func (s *segment) ensureWasi(made *engine) error {
	if made.wasi {
		return nil
	}
	if _, err := wasi_snapshot_preview1.Instantiate(s.ctx, made.runtime); err != nil {
		return err
	}
	made.wasi = true
	return nil
}

// openStdout is the work file `<as>.stdout` the instance's WASI stdout is written to.
func (s *segment) openStdout(as string) (string, *os.File, error) {
	path, err := workPath(s.workdir, as+".stdout")
	if err != nil {
		return "", nil, err
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	return path, file, err
}

func wasiConfig(config wazero.ModuleConfig, args instantiateArgs) wazero.ModuleConfig {
	config = config.WithArgs(append([]string{"module"}, args.Wasi.Args...)...)
	names := make([]string, 0, len(args.Wasi.Env))
	for name := range args.Wasi.Env {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		config = config.WithEnv(name, args.Wasi.Env[name])
	}
	return config
}

// call: the export's Function called with the arguments its signature takes; a failed call's
// detail is dropped, as the Python worker does.
func (s *segment) call(raw json.RawMessage) (stepOutput, error) {
	var args struct {
		Instance string     `json:"instance"`
		Store    *string    `json:"store"`
		Export   string     `json:"export"`
		Args     []argument `json:"args"`
	}
	if err := decodeArgs(raw, &args); err != nil {
		return stepOutput{}, err
	}
	inst, err := s.instance(args.Instance)
	if err != nil {
		return stepOutput{}, err
	}
	if err := s.checkStores(inst.store, args.Store); err != nil {
		return stepOutput{}, err
	}
	fn := inst.mod.ExportedFunction(args.Export)
	if fn == nil {
		return stepOutput{}, &lookupError{fmt.Sprintf("instance has no export '%s'", args.Export)}
	}
	params, err := callParams(args.Export, fn.Definition(), args.Args)
	if err != nil {
		return stepOutput{}, err
	}
	recorded := len(s.host.calls)
	raw64, err := fn.Call(s.ctx, params...)
	if err != nil {
		var exit *sys.ExitError
		if errors.As(err, &exit) {
			code := int64(exit.ExitCode())
			inst.exitCode = &code
		}
		return stepOutput{}, err
	}
	values, err := callResults(fn.Definition(), raw64)
	if err != nil {
		return stepOutput{}, err
	}
	return stepOutput{values: values, detail: s.callDetail(inst, recorded)}, nil
}

// checkStores: the instance's store, and another one a call passes, exist; wazero cannot pass
// another (a Function is called with a context, and its module holds its own state).
func (s *segment) checkStores(own string, passed *string) error {
	for _, name := range []string{own, deref(passed)} {
		if _, ok := s.stores[name]; name != "" && !ok {
			return missing("store", name)
		}
	}
	if passed != nil && *passed != own {
		return &unsupportedError{fmt.Sprintf("wazero %s calls a function with no store: "+
			"api.Function.Call takes a context and the arguments, and a module holds its own "+
			"state, so no other store can be passed", wazeroVersion())}
	}
	return nil
}

func callParams(export string, def api.FunctionDefinition, given []argument) ([]uint64, error) {
	types := def.ParamTypes()
	if len(types) != len(given) {
		return nil, &typeError{fmt.Sprintf("%s takes %d argument(s), %d given", export, len(types), len(given))}
	}
	params := make([]uint64, len(types))
	for i, t := range types {
		bits, err := encodeArg(t, given[i].Value)
		if err != nil {
			return nil, err
		}
		params[i] = bits
	}
	return params, nil
}

// callResults are the call's values; a result the protocol has no type for (v128, a
// reference) cannot be sent.
func callResults(def api.FunctionDefinition, raw []uint64) ([]wasmValue, error) {
	values := make([]wasmValue, 0, len(raw))
	for i, t := range def.ResultTypes() {
		name := typeName(t)
		if !numericTypes[name] {
			return nil, &unsupportedError{fmt.Sprintf("the protocol cannot carry a %s result", name)}
		}
		values = append(values, wasmValue{Type: name, Bits: raw[i]})
	}
	return values, nil
}

func (s *segment) callDetail(inst *instance, recorded int) map[string]any {
	detail := map[string]any{}
	if len(s.host.calls) > recorded {
		detail["host_calls"] = s.host.callsSince(recorded)
	}
	if inst.stdoutPath != "" {
		detail["stdout"] = tail(inst.stdoutPath, stdoutTail)
	}
	return detail
}
