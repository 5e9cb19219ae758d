package main

// Engine settings onto wazero: one wazero.Runtime per distinct settings in a segment, built
// from the variant's RuntimeConfig, with its compilation cache, core features and the settings
// a scenario names (settings.go).

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// engineSettings as the coordinator resolves them (common.json#/$defs/engine).
type engineSettings struct {
	Cache    json.RawMessage            `json:"cache"`
	Features map[string]bool            `json:"features"`
	Fuel     json.RawMessage            `json:"fuel"`
	Compiler string                     `json:"compiler"`
	Settings map[string]json.RawMessage `json:"settings"`
}

type cacheSettings struct {
	Directory *string `json:"directory"`
	Config    *string `json:"config"`
}

// engine is one Runtime with what was made in it once: the host module and WASI.
type engine struct {
	runtime  wazero.Runtime
	cache    wazero.CompilationCache // nil without a cache
	cacheDir string                  // the directory whose files are counted; "" for none
	host     bool                    // module `host` instantiated
	wasi     bool                    // wasi_snapshot_preview1 instantiated
	declared map[string]bool         // the declared modules instantiated
}

// coreFeatureFlags: the features of the protocol that api.CoreFeatures has a flag for in every
// release this worker builds against. wazero's default is api.CoreFeaturesV2.
var coreFeatureFlags = map[string]api.CoreFeatures{
	"bulk_memory":     api.CoreFeatureBulkMemoryOperations,
	"multi_value":     api.CoreFeatureMultiValue,
	"reference_types": api.CoreFeatureReferenceTypes,
	"simd":            api.CoreFeatureSIMD,
}

// engineKey is the settings' canonical JSON: equal settings share one Runtime.
func engineKey(raw json.RawMessage) (string, error) {
	var generic map[string]any
	decoder := json.NewDecoder(strings.NewReader(string(raw)))
	decoder.UseNumber()
	if err := decoder.Decode(&generic); err != nil {
		return "", &harnessError{fmt.Sprintf("engine settings are not an object: %v", err)}
	}
	key, err := json.Marshal(generic) // map keys sorted
	return string(key), err
}

// newEngine makes the Runtime for these settings; unsupported before anything is made when
// wazero cannot express one of them.
func newEngine(ctx context.Context, raw json.RawMessage, variant, workdir string) (*engine, error) {
	var settings engineSettings
	if err := json.Unmarshal(raw, &settings); err != nil {
		return nil, &harnessError{fmt.Sprintf("engine settings: %v", err)}
	}
	features, err := coreFeatures(settings.Features)
	if err != nil {
		return nil, err
	}
	if err := checkFuelAndCompiler(settings, variant); err != nil {
		return nil, err
	}
	cacheDir, err := cacheChoice(settings.Cache, workdir)
	if err != nil {
		return nil, err
	}
	config, err := applySettings(runtimeConfig(variant).WithCoreFeatures(features), settings.Settings)
	if err != nil {
		return nil, err
	}
	made := &engine{cacheDir: cacheDir}
	if cacheDir != "" {
		if made.cache, err = wazero.NewCompilationCacheWithDir(cacheDir); err != nil {
			return nil, err
		}
	}
	if made.cache != nil {
		config = config.WithCompilationCache(made.cache)
	}
	made.runtime = wazero.NewRuntimeWithConfig(ctx, config)
	return made, nil
}

func runtimeConfig(variant string) wazero.RuntimeConfig {
	switch variant {
	case "compiler":
		return wazero.NewRuntimeConfigCompiler()
	case "interpreter":
		return wazero.NewRuntimeConfigInterpreter()
	}
	return wazero.NewRuntimeConfig()
}

// coreFeatures is wazero's default with each asked feature switched on or off; one wazero
// has no flag for cannot be switched on, and is off when asked off.
func coreFeatures(asked map[string]bool) (api.CoreFeatures, error) {
	names := make([]string, 0, len(asked))
	for name := range asked {
		names = append(names, name)
	}
	sort.Strings(names)
	features := api.CoreFeaturesV2
	for _, name := range names {
		flag, known := coreFeatureFlags[name]
		switch {
		case known && asked[name]:
			features = features.SetEnabled(flag, true)
		case known:
			features = features.SetEnabled(flag, false)
		case asked[name]:
			return 0, &unsupportedError{fmt.Sprintf(
				"wazero %s has no api.CoreFeatures flag for %s", wazeroVersion(), name)}
		}
	}
	return features, nil
}

func checkFuelAndCompiler(settings engineSettings, variant string) error {
	if fuel := strings.TrimSpace(string(settings.Fuel)); fuel != "" && fuel != "null" {
		return &unsupportedError{"wazero has no fuel metering"}
	}
	compiler := settings.Compiler
	if compiler != "" && compiler != "auto" && compiler != variant {
		return &unsupportedError{fmt.Sprintf(
			"wazero has no %s compiler (its engines: compiler, interpreter)", compiler)}
	}
	return nil
}

// cacheChoice: the cache directory (checked to stay in the work dir), or "" for none.
func cacheChoice(raw json.RawMessage, workdir string) (string, error) {
	text := strings.TrimSpace(string(raw))
	switch text {
	case "", "null", "false":
		return "", nil
	case "true":
		// `cache: true` is the runtime's own default location, which outlives the process;
		// wazero's only default (NewCompilationCache) lives in this process's memory.
		return "", &unsupportedError{
			"wazero has no default cache location: NewCompilationCache() keeps compiled " +
				"code in this process's memory only; name a directory instead"}
	}
	var cache cacheSettings
	if err := json.Unmarshal(raw, &cache); err != nil {
		return "", &harnessError{fmt.Sprintf("engine cache: %v", err)}
	}
	if cache.Config != nil {
		return "", &unsupportedError{
			"wazero has no cache config text: its compilation cache is a directory " +
				"(NewCompilationCacheWithDir) or in memory"}
	}
	if cache.Directory == nil {
		return "", &harnessError{"engine cache: neither directory nor config"}
	}
	return workPath(workdir, *cache.Directory)
}

// cacheFiles counts the cache directory's entries (0 without one; see cacheEntries).
func (e *engine) cacheFiles() int {
	if e.cacheDir == "" {
		return 0
	}
	return len(cacheEntries(e.cacheDir))
}

// cacheState is what one compile did to the cache directory (harness.model.outcome).
func cacheState(before, after int) string {
	if after > before {
		return "miss"
	}
	if before > 0 {
		return "hit"
	}
	return "unused"
}
