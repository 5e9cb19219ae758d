package main

// The fixed library of host functions a scenario imports as module `host`: exactly those of
// harness/worker/hostlib.py, as wazero host functions over the raw value stack.

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

const hostModuleName = "host"

// HostTrap is what the host function `trap` and a declared function that traps panic with:
// wazero recovers a panic of a host function and returns it, wrapped, as the call's error (its
// way to abort a call). function is the declared one's MODULE.NAME, "" for the library's.
type HostTrap struct{ function string }

func (t *HostTrap) Error() string {
	if t.function == "" {
		return "host function 'trap' was called"
	}
	return fmt.Sprintf("host function '%s' was called: it is declared to trap", t.function)
}

type hostFunc struct {
	params  []api.ValueType
	results []api.ValueType
	body    api.GoFunc
}

// hostLibrary is one segment's host functions, with the log of calls to `record` (an int64)
// and to declared functions that record (a recordedCall), in the order they came.
type hostLibrary struct {
	calls []any
}

// recordedCall is a call to a declared function whose behaviour is `record`.
type recordedCall struct {
	Function string      `json:"function"`
	Args     []wasmValue `json:"args"`
}

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
	f32 = api.ValueTypeF32
	f64 = api.ValueTypeF64
)

func (h *hostLibrary) functions() map[string]hostFunc {
	return map[string]hostFunc{
		"identity_i32": {[]api.ValueType{i32}, []api.ValueType{i32}, identity},
		"identity_i64": {[]api.ValueType{i64}, []api.ValueType{i64}, identity},
		"identity_f32": {[]api.ValueType{f32}, []api.ValueType{f32}, identity},
		"identity_f64": {[]api.ValueType{f64}, []api.ValueType{f64}, identity},
		"add_i32":      {[]api.ValueType{i32, i32}, []api.ValueType{i32}, addI32},
		"add_i64":      {[]api.ValueType{i64, i64}, []api.ValueType{i64}, addI64},
		"record":       {[]api.ValueType{i32}, nil, h.record},
		"trap":         {nil, nil, trap},
		"exit":         {[]api.ValueType{i32}, nil, exit},
		"block":        {nil, nil, block},
		"flood":        {[]api.ValueType{i32}, nil, flood},
	}
}

// instantiate makes the module `host` in a runtime (once per runtime: wazero links imports
// by module name within its runtime).
func (h *hostLibrary) instantiate(ctx context.Context, r wazero.Runtime) (api.Module, error) {
	funcs := h.functions()
	names := make([]string, 0, len(funcs))
	for name := range funcs {
		names = append(names, name)
	}
	sort.Strings(names)
	builder := r.NewHostModuleBuilder(hostModuleName)
	for _, name := range names {
		fn := funcs[name]
		builder = builder.NewFunctionBuilder().WithGoFunction(fn.body, fn.params, fn.results).Export(name)
	}
	return builder.Instantiate(ctx)
}

// callsSince is what was recorded since `from`.
func (h *hostLibrary) callsSince(from int) []any {
	return append([]any(nil), h.calls[from:]...)
}

func identity(context.Context, []uint64) {}

func addI32(_ context.Context, stack []uint64) {
	stack[0] = uint64(uint32(stack[0]) + uint32(stack[1]))
}

func addI64(_ context.Context, stack []uint64) {
	stack[0] += stack[1]
}

func (h *hostLibrary) record(_ context.Context, stack []uint64) {
	h.calls = append(h.calls, int64(int32(uint32(stack[0]))))
}

func trap(context.Context, []uint64) {
	panic(&HostTrap{})
}

// exit is an embedder's host function that ends the process: the step becomes a crash.
func exit(_ context.Context, stack []uint64) {
	os.Exit(int(uint32(stack[0]) & 0xFF))
}

// block is a host function stuck in native code (a lock, a syscall): only a kill ends it. It
// sleeps rather than waits on nothing, which Go's deadlock detector would end.
func block(context.Context, []uint64) {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM)
	for {
		time.Sleep(time.Hour)
	}
}

var floodChunk = []byte(strings.Repeat("\x1b[31m<b>flood</b>\xff\xfe ", 4096))

// flood writes without end to the process's fd 1 (which the worker pointed at stderr).
func flood(_ context.Context, stack []uint64) {
	left := int64(int32(uint32(stack[0]))) * 1024 * 1024
	for left > 0 {
		n, err := os.Stdout.Write(floodChunk[:min(int64(len(floodChunk)), left)])
		if err != nil {
			return
		}
		left -= int64(n)
	}
}
