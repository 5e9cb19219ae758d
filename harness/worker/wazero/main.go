// Command wazero-worker is a wasm-compat worker for the wazero runtime: it speaks the
// coordinator-worker protocol (docs/protocol.md) on stdin and a private copy of fd 1, and runs
// each segment's steps through wazero's Go API.
//
//	wazero-worker [--memory-mb N] [--family wazero] [--variant compiler|interpreter]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// Exit codes of the worker.
const (
	exitOK       = 0 // shutdown, or the end of the input
	exitProtocol = 1 // a line that is no command, or the coordinator gone: no event after it
	exitHarness  = 3 // a bug in the worker (or the coordinator), after worker_failed
	exitUnusable = 4 // the runtime cannot be used as asked, after worker_failed
)

const (
	family         = "wazero"
	adapterName    = "wazero-go"
	wazeroModule   = "github.com/tetratelabs/wazero"
	coordinatorEnv = "WASM_COMPAT_COORDINATOR" // the pid of the process that started this worker
	prSetPdeathsig = 1                         // linux/prctl.h
)

// init runs on the main thread, the one the parent-death signal is armed for.
func init() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetPdeathsig, uintptr(syscall.SIGKILL), 0)
}

type options struct {
	memoryMB int
	family   string
	variant  string
}

func parseOptions() options {
	var opts options
	flag.IntVar(&opts.memoryMB, "memory-mb", 0, "cap the process's data at this many MiB")
	flag.StringVar(&opts.family, "family", "", "the runtime family (only wazero)")
	flag.StringVar(&opts.variant, "variant", "", "compiler or interpreter; empty: wazero's default")
	flag.Parse()
	return opts
}

func main() {
	opts := parseOptions()
	dieWithParent()
	events, err := moveProtocolOffStdout()
	if err != nil {
		fmt.Fprintf(os.Stderr, "wazero-worker: cannot set up the event stream: %v\n", err)
		os.Exit(exitProtocol)
	}
	ch := &channel{commands: bufio.NewReaderSize(os.Stdin, 1<<16), events: events}
	if opts.memoryMB > 0 {
		capMemory(opts.memoryMB)
	}
	if reason := unusable(opts); reason != "" {
		ch.send(workerFailed{Name: "worker_failed", Reason: reason})
		os.Exit(exitUnusable)
	}
	os.Exit(serve(ch, opts.variant))
}

// dieWithParent: a worker that outlived its coordinator would spin under init with nobody to
// read it; the parent-death signal (armed in init) covers a later death, this an earlier one.
func dieWithParent() {
	parent, err := strconv.Atoi(os.Getenv(coordinatorEnv))
	if err == nil && os.Getppid() != parent {
		os.Exit(exitProtocol)
	}
}

// moveProtocolOffStdout: events go to a copy of fd 1, and fd 1 points at stderr, so whatever
// wasm or wazero prints cannot corrupt the stream.
func moveProtocolOffStdout() (*os.File, error) {
	fd, err := syscall.Dup(1)
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(fd)
	if err := syscall.Dup3(2, 1, 0); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "events"), nil
}

// capMemory: RLIMIT_DATA, not RLIMIT_AS, so address space reserved up front is free and only
// memory made writable counts.
func capMemory(megabytes int) {
	limit := uint64(megabytes) * 1024 * 1024
	if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		fmt.Fprintf(os.Stderr, "wazero-worker: cannot cap memory: %v\n", err)
	}
}

// unusable is why this worker cannot run as asked ("" when it can): a fact about the
// request, reported as worker_failed, never as a harness error.
func unusable(opts options) string {
	if opts.family != "" && opts.family != family {
		return fmt.Sprintf("this worker runs wazero, not %s", opts.family)
	}
	switch opts.variant {
	case "", "compiler", "interpreter":
	default:
		return fmt.Sprintf("wazero has no variant '%s' (compiler, interpreter, or none)", opts.variant)
	}
	if wazeroVersion() == "" {
		return "cannot tell the linked wazero version (no build info)"
	}
	return ""
}

// wazeroVersion is the wazero release linked into this binary, without its "v".
func wazeroVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, dep := range info.Deps {
		if dep.Path == wazeroModule {
			if dep.Replace != nil && dep.Replace.Version != "" {
				dep = dep.Replace
			}
			return strings.TrimPrefix(dep.Version, "v")
		}
	}
	return ""
}

// serve says worker_ready, then runs segments until shutdown or the end of the input.
func serve(ch *channel, variant string) int {
	ch.send(workerReady{
		Name: "worker_ready", Protocol: protocolVersion, Pid: os.Getpid(),
		Runtime: runtimeInfo{Family: family, Version: wazeroVersion(), Variant: variant, Adapter: adapterName},
	})
	for {
		cmd, err := ch.receive()
		if err != nil {
			fmt.Fprintf(os.Stderr, "wazero-worker: protocol error: %v\n", err)
			return exitProtocol
		}
		if cmd == nil || cmd.Name == "shutdown" {
			return exitOK
		}
		if cmd.Name != "run_segment" {
			fmt.Fprintf(os.Stderr, "wazero-worker: protocol error: '%s' is not a command a worker takes\n", cmd.Name)
			return exitProtocol
		}
		if code := runSegment(ch, variant, cmd.Segment); code != exitOK {
			return code
		}
	}
}

// runSegment answers one run_segment: segment_started before the segment is checked, then
// its steps, then segment_finished; a segment it cannot read ends the worker (exit 3).
func runSegment(ch *channel, variant string, raw json.RawMessage) int {
	var head struct {
		Index *int64 `json:"index"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.Index == nil {
		return harnessFailure(ch, fmt.Sprintf("run_segment: segment has no index: %s", truncate(raw)))
	}
	ch.send(segmentStarted{Name: "segment_started", Index: *head.Index, Pid: os.Getpid()})
	var spec segmentSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return harnessFailure(ch, fmt.Sprintf("run_segment: %v", err))
	}
	if err := checkSpec(&spec); err != nil {
		return harnessFailure(ch, err.Error())
	}
	completed, stopped := newSegment(variant, &spec).run(spec.Steps, ch.send)
	ch.send(segmentFinished{Name: "segment_finished", Index: *head.Index, Completed: completed, Stopped: stopped})
	return exitOK
}

func harnessFailure(ch *channel, reason string) int {
	ch.send(workerFailed{Name: "worker_failed", Reason: "harness error: " + reason, HarnessError: true})
	return exitHarness
}

func truncate(raw json.RawMessage) string {
	if len(raw) > 200 {
		return string(raw[:200]) + "..."
	}
	return string(raw)
}
