package main

// Engine settings by name (protocol 5): each name a scenario gives is one RuntimeConfig option,
// called as the application calls it. wazero's config is methods, not attributes, so the names
// are its methods' in snake case; one it has no method for is unsupported, and a value its
// method rejects is wazero's own (WithMemoryLimitPages panics above 65536 pages, as in an
// application: the panic is not recovered).

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/tetratelabs/wazero"
)

// runtimeSetting applies one value to a RuntimeConfig, or says why the value does not fit.
type runtimeSetting func(wazero.RuntimeConfig, json.RawMessage) (wazero.RuntimeConfig, error)

// runtimeSettings: every RuntimeConfig method of the releases the worker builds against (1.6.0
// to 1.12.0 have the same set) that takes a plain value. WithCoreFeatures and
// WithCompilationCache are the engine's `features` and `cache`.
var runtimeSettings = map[string]runtimeSetting{
	"memory_limit_pages": uint32Setting("WithMemoryLimitPages",
		func(c wazero.RuntimeConfig, v uint32) wazero.RuntimeConfig { return c.WithMemoryLimitPages(v) }),
	"memory_capacity_from_max": boolSetting("WithMemoryCapacityFromMax",
		func(c wazero.RuntimeConfig, v bool) wazero.RuntimeConfig { return c.WithMemoryCapacityFromMax(v) }),
	"debug_info_enabled": boolSetting("WithDebugInfoEnabled",
		func(c wazero.RuntimeConfig, v bool) wazero.RuntimeConfig { return c.WithDebugInfoEnabled(v) }),
	"custom_sections": boolSetting("WithCustomSections",
		func(c wazero.RuntimeConfig, v bool) wazero.RuntimeConfig { return c.WithCustomSections(v) }),
	"close_on_context_done": boolSetting("WithCloseOnContextDone",
		func(c wazero.RuntimeConfig, v bool) wazero.RuntimeConfig { return c.WithCloseOnContextDone(v) }),
}

// applySettings calls each named option in name order; unsupported before any is applied when
// one has no method.
func applySettings(config wazero.RuntimeConfig, named map[string]json.RawMessage) (wazero.RuntimeConfig, error) {
	names := make([]string, 0, len(named))
	for name := range named {
		if _, known := runtimeSettings[name]; !known {
			return nil, &unsupportedError{fmt.Sprintf(
				"wazero %s has no RuntimeConfig setting %s", wazeroVersion(), name)}
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var err error
		if config, err = runtimeSettings[name](config, named[name]); err != nil {
			return nil, err
		}
	}
	return config, nil
}

func boolSetting(method string, set func(wazero.RuntimeConfig, bool) wazero.RuntimeConfig) runtimeSetting {
	return func(config wazero.RuntimeConfig, raw json.RawMessage) (wazero.RuntimeConfig, error) {
		var value bool
		if err := json.Unmarshal(raw, &value); err != nil {
			return nil, &typeError{fmt.Sprintf("%s(bool) takes true or false, found %s", method, raw)}
		}
		return set(config, value), nil
	}
}

func uint32Setting(method string, set func(wazero.RuntimeConfig, uint32) wazero.RuntimeConfig) runtimeSetting {
	return func(config wazero.RuntimeConfig, raw json.RawMessage) (wazero.RuntimeConfig, error) {
		value, err := strconv.ParseUint(string(raw), 10, 32)
		if err != nil {
			return nil, &typeError{fmt.Sprintf("%s(uint32) takes an integer from 0 to %d, found %s",
				method, uint32(1<<32-1), raw)}
		}
		return set(config, uint32(value)), nil
	}
}
