package main

// The close step: instances (api.Module.Close), modules (CompiledModule.Close), stores (wazero
// has none: nothing to close) and engines (Runtime.Close, then its CompilationCache's Close).
// A close that panics is not recovered: the process dies with the close step in flight.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

type closeArgs struct {
	Order  [][]*string `json:"order"`
	Always *bool       `json:"always"`
}

// close closes the objects in the order given, each through wazero's API. With `always`, an
// object the segment does not have is skipped and told as absent.
func (s *segment) close(raw json.RawMessage) (stepOutput, error) {
	var args closeArgs
	if err := decodeArgs(raw, &args); err != nil {
		return stepOutput{}, err
	}
	if args.Order == nil || args.Always == nil {
		return stepOutput{}, &harnessError{"close args need order and always"}
	}
	closed := []string{}
	var exitCode *int64
	for _, pair := range args.Order {
		if len(pair) != 2 || pair[0] == nil {
			return stepOutput{}, &harnessError{"close order: a [kind, name] pair expected"}
		}
		kind, name := *pair[0], deref(pair[1])
		lines, err := s.closeOne(kind, name, *args.Always, &exitCode)
		closed = append(closed, lines...)
		if err != nil {
			return stepOutput{}, err
		}
	}
	return stepOutput{detail: map[string]any{"closed": closed}, exitCode: exitCode}, nil
}

// closeOne closes one [kind, name] of the order: the lines it adds to detail.closed. Closing an
// instance reports its WASI exit code, as the Python worker does.
func (s *segment) closeOne(kind, name string, always bool, exitCode **int64) ([]string, error) {
	if kind == "engine" {
		return s.closeEngines(always)
	}
	label := kind + " " + name + ": "
	if always && !s.has(kind, name) {
		return []string{label + "absent"}, nil
	}
	switch kind {
	case "instance":
		inst, err := s.instance(name)
		if err != nil {
			return nil, err
		}
		*exitCode = inst.exitCode
		return []string{label + "api.Module.Close"}, inst.mod.Close(s.ctx)
	case "module":
		m, err := s.module(name)
		if err != nil {
			return nil, err
		}
		return []string{label + "CompiledModule.Close"}, m.compiled.Close(s.ctx)
	case "store":
		if _, ok := s.stores[name]; !ok {
			return nil, missing("store", name)
		}
		return []string{label + "nothing to close (wazero has no store)"}, nil
	}
	return nil, &harnessError{fmt.Sprintf("close order: no kind %q", kind)}
}

func (s *segment) has(kind, name string) bool {
	switch kind {
	case "instance":
		_, ok := s.instances[name]
		return ok
	case "module":
		_, ok := s.modules[name]
		return ok
	case "store":
		_, ok := s.stores[name]
		return ok
	}
	return true // an unknown kind is refused by closeOne
}

// closeEngines closes every Runtime of the segment in the order they were made, each with
// its compilation cache after it.
func (s *segment) closeEngines(always bool) ([]string, error) {
	if len(s.order) == 0 && always {
		return []string{"engine: absent"}, nil
	}
	lines := []string{}
	for _, key := range s.order {
		made := s.engines[key]
		calls := []string{"Runtime.Close"}
		if err := made.runtime.Close(s.ctx); err != nil {
			return lines, err
		}
		if made.cache != nil {
			calls = append(calls, "CompilationCache.Close")
			if err := made.cache.Close(s.ctx); err != nil {
				return lines, err
			}
		}
		lines = append(lines, "engine: "+strings.Join(calls, ", "))
	}
	return lines, nil
}

// tail is the last n bytes of a file as text (invalid UTF-8 replaced), "" when unreadable.
func tail(path string, n int64) string {
	file, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer file.Close()
	size, err := file.Seek(0, io.SeekEnd)
	if err != nil {
		return ""
	}
	if _, err := file.Seek(max(0, size-n), io.SeekStart); err != nil {
		return ""
	}
	data, err := io.ReadAll(file)
	if err != nil {
		return ""
	}
	return strings.ToValidUTF8(string(data), "\uFFFD")
}
