package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

func TestApplySettingsKnowsEachRuntimeConfigOption(t *testing.T) {
	named := map[string]json.RawMessage{
		"memory_limit_pages":       json.RawMessage(`16`),
		"memory_capacity_from_max": json.RawMessage(`true`),
		"debug_info_enabled":       json.RawMessage(`false`),
		"custom_sections":          json.RawMessage(`true`),
		"close_on_context_done":    json.RawMessage(`true`),
	}
	if _, err := applySettings(wazero.NewRuntimeConfig(), named); err != nil {
		t.Fatal(err)
	}
}

func TestApplySettingsRefusesWhatItCannotSet(t *testing.T) {
	cases := []struct {
		name, value, message string
		unsupported          bool
	}{
		{"with_memory_limit_pages", `1`, "has no RuntimeConfig setting with_memory_limit_pages", true},
		{"memory_limit_pages", `-1`, "WithMemoryLimitPages(uint32) takes an integer from 0 to 4294967295, found -1", false},
		{"memory_limit_pages", `1.5`, "found 1.5", false},
		{"debug_info_enabled", `"no"`, `WithDebugInfoEnabled(bool) takes true or false, found "no"`, false},
	}
	for _, c := range cases {
		_, err := applySettings(wazero.NewRuntimeConfig(), map[string]json.RawMessage{c.name: json.RawMessage(c.value)})
		var unsupported *unsupportedError
		var wrongType *typeError
		switch {
		case err == nil || !strings.Contains(err.Error(), c.message):
			t.Errorf("%s: %s: got %v, want %q", c.name, c.value, err, c.message)
		case c.unsupported != errors.As(err, &unsupported), !c.unsupported && !errors.As(err, &wrongType):
			t.Errorf("%s: %s: %T", c.name, c.value, err)
		}
	}
}
