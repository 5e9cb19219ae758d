package main

// One segment's steps against wazero, streaming a result per step (harness/worker/segment.py).
// Objects live only as long as this process: the next segment finds nothing but the work dir.
// A step's error becomes its result; a panic is never recovered here, so a runtime that
// crashes kills the process with its step in flight, as the coordinator expects.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// segmentSpec is run_segment's segment (run_segment.json).
type segmentSpec struct {
	Index    *int64            `json:"index"`
	Workdir  string            `json:"workdir"`
	Fixtures map[string]string `json:"fixtures"`
	Steps    []*step           `json:"steps"`
	Protocol *int              `json:"protocol"`
}

// step as the coordinator sends it, resolved (common.json#/$defs/step).
type step struct {
	Index  *int64          `json:"index"`
	Op     string          `json:"op"`
	Args   json.RawMessage `json:"args"`
	Expect json.RawMessage `json:"expect"`
	Line   json.RawMessage `json:"line"`
	Known  string          `json:"known"`
	expect expectation
}

// stepResult is what one step did (common.json#/$defs/stepResult); every key always sent.
type stepResult struct {
	Index     int64           `json:"index"`
	Op        string          `json:"op"`
	Line      json.RawMessage `json:"line"`
	Outcome   string          `json:"outcome"`
	ErrorKind *string         `json:"error_kind"`
	ErrorType *string         `json:"error_type"`
	Message   *string         `json:"message"`
	TrapCode  *string         `json:"trap_code"`
	ExitCode  *int64          `json:"exit_code"`
	Signal    *string         `json:"signal"` // only the coordinator sees a signal
	Values    []wasmValue     `json:"values"`
	Detail    map[string]any  `json:"detail"`
	DurationS *float64        `json:"duration_s"`
	Expect    json.RawMessage `json:"expect"`
	Met       bool            `json:"met"`
	Why       *string         `json:"why"`
}

// stepOutput is what a step that ended ok hands to its result.
type stepOutput struct {
	values   []wasmValue
	detail   map[string]any
	exitCode *int64
}

type module struct {
	engineKey string
	compiled  wazero.CompiledModule
}

type instance struct {
	mod        api.Module
	store      string
	stdoutPath string
	exitCode   *int64 // the WASI exit code a call ended with
}

type segment struct {
	ctx          context.Context
	variant      string
	workdir      string
	fixtures     map[string]string
	host         hostLibrary
	declarations declarations
	engines      map[string]*engine
	order        []string // engine keys in the order they were made
	modules      map[string]*module
	stores       map[string]string // store name -> engine key: wazero has no Store
	instances    map[string]*instance
}

func newSegment(variant string, spec *segmentSpec) *segment {
	return &segment{
		ctx:       context.Background(),
		variant:   variant,
		workdir:   spec.Workdir,
		fixtures:  spec.Fixtures,
		engines:   map[string]*engine{},
		modules:   map[string]*module{},
		stores:    map[string]string{},
		instances: map[string]*instance{},
	}
}

// checkSpec: the fields a segment needs, else the coordinator (or this worker) has a bug.
func checkSpec(spec *segmentSpec) error {
	switch {
	case spec.Workdir == "":
		return fmt.Errorf("run_segment: segment.workdir is missing")
	case spec.Fixtures == nil:
		return fmt.Errorf("run_segment: segment.fixtures is missing")
	case spec.Steps == nil:
		return fmt.Errorf("run_segment: segment.steps is missing")
	case spec.Protocol == nil:
		return fmt.Errorf("run_segment: segment.protocol is missing")
	case *spec.Protocol != protocolVersion:
		return fmt.Errorf("run_segment: segment.protocol is %d, this worker speaks %d",
			*spec.Protocol, protocolVersion)
	}
	for n, st := range spec.Steps {
		if st == nil || st.Index == nil || st.Op == "" || len(st.Expect) == 0 {
			return fmt.Errorf("run_segment: step %d lacks index, op or expect", n)
		}
		if err := json.Unmarshal(st.Expect, &st.expect); err != nil || st.expect.Kind == "" {
			return fmt.Errorf("run_segment: step %d: expect is not an expectation", n)
		}
	}
	return nil
}

// run runs the steps in order and says how the segment ended. A step that misses its
// expectation ends it (completed false, the rest neither run nor reported); an observation or
// a known deviation that ends other than ok stops it (the rest reported not_run). Either way
// a later `close` with `always` still runs, as a deferred close does in application code.
func (s *segment) run(steps []*step, send func(any)) (completed bool, stopped *string) {
	completed, ended := true, false
	for _, st := range steps {
		switch {
		case !ended:
			r := s.runStep(st, send)
			if !r.Met {
				completed, ended = false, true
			} else if why := intendedStop(r, st.expect, st.Known != ""); why != "" {
				stopped, ended = &why, true
			}
		case st.alwaysClose():
			s.runStep(st, send)
		case stopped != nil:
			send(stepFinished{"step_finished", notRun(st, *stopped)})
		}
	}
	return completed, stopped
}

func (st *step) alwaysClose() bool {
	var args struct {
		Always *bool `json:"always"`
	}
	return st.Op == "close" && json.Unmarshal(st.Args, &args) == nil && deref(args.Always)
}

func newResult(st *step) *stepResult {
	return &stepResult{
		Index: *st.Index, Op: st.Op, Line: st.Line, Outcome: "not_run",
		Detail: map[string]any{}, Expect: st.Expect,
	}
}

func notRun(st *step, why string) *stepResult {
	r := newResult(st)
	r.Met, r.Why = true, &why
	return r
}

// runStep announces the step, runs it, and sends its result.
func (s *segment) runStep(st *step, send func(any)) *stepResult {
	send(stepStarted{"step_started", *st.Index, st.Op})
	r := newResult(st)
	started := time.Now()
	out, err := s.perform(st)
	duration := round6(time.Since(started).Seconds())
	r.DurationS = &duration
	if err != nil {
		r.fail(classify(err))
		if st.Op == "call" && deref(r.ErrorKind) == "exit" && deref(r.ExitCode) == 0 {
			r.Outcome = "ok" // a WASI exit 0 is a success, still told as an exit
		}
	} else {
		r.Outcome, r.Values, r.ExitCode = "ok", out.values, out.exitCode
		if out.detail != nil {
			r.Detail = out.detail
		}
	}
	s.judge(st, r)
	send(stepFinished{"step_finished", r})
	return r
}

// judge sets met and why: the expectation, a call's stated results, a compile's cache.
func (s *segment) judge(st *step, r *stepResult) {
	var stated struct {
		Results []argument `json:"results"`
		Cache   string     `json:"cache"`
	}
	_ = json.Unmarshal(st.Args, &stated) // a step whose args cannot be read failed already
	met, why := check(st.expect, r, stated.Results)
	if met && r.Outcome == "ok" && stated.Cache != "" {
		r.Detail["cache_expected"] = stated.Cache
		met, why = checkCache(stated.Cache, r.Detail)
	}
	r.Met = met
	if why != "" {
		r.Why = &why
	}
}

func (r *stepResult) fail(f failure) {
	r.Outcome = f.Outcome
	r.ErrorType, r.Message, r.ExitCode = &f.Type, &f.Message, f.ExitCode
	if f.Kind != "" {
		r.ErrorKind = &f.Kind
	}
	if f.TrapCode != "" {
		r.TrapCode = &f.TrapCode
	}
}

func round6(seconds float64) float64 {
	return math.Round(seconds*1e6) / 1e6
}

// perform runs the step's op.
func (s *segment) perform(st *step) (stepOutput, error) {
	ops := map[string]func(json.RawMessage) (stepOutput, error){
		"compile":     s.compile,
		"serialize":   s.serialize,
		"deserialize": s.deserialize,
		"instantiate": s.instantiate,
		"call":        s.call,
		"close":       s.close,
	}
	op, known := ops[st.Op]
	if !known {
		return stepOutput{}, &harnessError{fmt.Sprintf("no op %q", st.Op)}
	}
	return op(st.Args)
}

// decodeArgs reads a step's args, which the coordinator resolved: one it cannot read is a
// harness error, never the runtime's behaviour.
func decodeArgs(raw json.RawMessage, into any) error {
	if err := json.Unmarshal(raw, into); err != nil {
		return &harnessError{fmt.Sprintf("step args: %v", err)}
	}
	return nil
}

// engine is the Runtime for these settings, made on first use.
func (s *segment) engine(settings json.RawMessage) (string, *engine, error) {
	key, err := engineKey(settings)
	if err != nil {
		return "", nil, err
	}
	if made, ok := s.engines[key]; ok {
		return key, made, nil
	}
	made, err := newEngine(s.ctx, settings, s.variant, s.workdir)
	if err != nil {
		return "", nil, err
	}
	s.engines[key] = made
	s.order = append(s.order, key)
	return key, made, nil
}

func missing(kind, name string) error {
	return &scenarioError{fmt.Sprintf(
		"%s '%s' was not created in this segment (its step failed?)", kind, name)}
}

func (s *segment) module(name string) (*module, error) {
	if m, ok := s.modules[name]; ok {
		return m, nil
	}
	return nil, missing("module", name)
}

func (s *segment) instance(name string) (*instance, error) {
	if i, ok := s.instances[name]; ok {
		return i, nil
	}
	return nil, missing("instance", name)
}
