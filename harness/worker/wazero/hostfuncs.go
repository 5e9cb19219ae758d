package main

// The declared host functions' behaviours as wazero host functions over the raw value stack
// (params in stack[0:len(params)], results written to stack[0:len(results)]), and the host
// module each declared module becomes in a Runtime.

import (
	"context"
	"math"
	"os"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// instantiateDeclared makes a declared module in a Runtime (once per runtime: the segment
// keeps one declaration per module name, so the one made first is the one asked for).
func (h *hostLibrary) instantiateDeclared(ctx context.Context, r wazero.Runtime, module string, declared declaredModule) error {
	builder := r.NewHostModuleBuilder(module)
	for _, name := range sortedKeys(declared) {
		fn := declared[name]
		builder = builder.NewFunctionBuilder().WithGoFunction(h.body(fn), fn.params, fn.results).Export(name)
	}
	_, err := builder.Instantiate(ctx)
	return err
}

// body is what a declared function does when called.
func (h *hostLibrary) body(fn *declaredFunc) api.GoFunc {
	switch fn.kind {
	case "return":
		constant := fn.constant
		return func(_ context.Context, stack []uint64) { stack[0] = constant }
	case "arg":
		index := fn.index
		return func(_ context.Context, stack []uint64) { stack[0] = stack[index] }
	case "add":
		return adder(fn.results[0], len(fn.params))
	case "record":
		return h.recorder(fn)
	case "trap":
		label := fn.label
		return func(context.Context, []uint64) { panic(&HostTrap{function: label}) }
	case "exit":
		if fn.code != nil {
			code := *fn.code
			return func(context.Context, []uint64) { os.Exit(code) }
		}
		// the low byte of param 0, i32 or i64, as the library's exit and Python's os._exit
		return func(_ context.Context, stack []uint64) { os.Exit(int(stack[0] & 0xFF)) }
	}
	return block // hang
}

// adder sums the params: integers wrapped to the result's width; floats left to right in
// double precision from the first (so -0 stays -0), rounded once to the result's type, as
// the Python worker's runtimes do with the double it returns.
func adder(result api.ValueType, count int) api.GoFunc {
	switch result {
	case i32:
		return func(_ context.Context, stack []uint64) {
			var sum uint32
			for _, v := range stack[:count] {
				sum += uint32(v)
			}
			stack[0] = uint64(sum)
		}
	case i64:
		return func(_ context.Context, stack []uint64) {
			var sum uint64
			for _, v := range stack[:count] {
				sum += v
			}
			stack[0] = sum
		}
	}
	wide := func(bits uint64) float64 {
		if result == f32 {
			return float64(math.Float32frombits(uint32(bits)))
		}
		return math.Float64frombits(bits)
	}
	return func(_ context.Context, stack []uint64) {
		total := 0.0
		for i, v := range stack[:count] {
			if i == 0 {
				total = wide(v)
			} else {
				total += wide(v)
			}
		}
		if result == f32 {
			stack[0] = uint64(math.Float32bits(float32(total)))
		} else {
			stack[0] = math.Float64bits(total)
		}
	}
}

// recorder logs the call with its arguments; the results are zeros of their types.
func (h *hostLibrary) recorder(fn *declaredFunc) api.GoFunc {
	return func(_ context.Context, stack []uint64) {
		args := make([]wasmValue, len(fn.params))
		for i, t := range fn.params {
			args[i] = wasmValue{Type: typeName(t), Bits: stack[i]}
		}
		h.calls = append(h.calls, recordedCall{Function: fn.label, Args: args})
		for i := range fn.results {
			stack[i] = 0
		}
	}
}
