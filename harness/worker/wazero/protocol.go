package main

// The coordinator-worker protocol (docs/protocol.md): one JSON object a line, commands on stdin,
// events on a private fd. The messages are defined by harness/schema/protocol/*.json.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// protocolVersion 6: a compile's args have `corrupt_cache`, what to do to the cache directory's
// entries after it (5: engine settings have `settings`, RuntimeConfig options by name; 4: an
// instantiate step's args have `functions`, the host functions a scenario declares; 3: a close
// step's args have `always`, run even after the segment ended).
const protocolVersion = 6

// protocolError is a line that is not a command this worker takes: it ends the worker.
type protocolError struct{ reason string }

func (e *protocolError) Error() string { return e.reason }

// command is one decoded line of stdin: its name, and for run_segment the segment, raw.
type command struct {
	Name    string          `json:"name"`
	Segment json.RawMessage `json:"segment"`
}

// Names the Python worker's decoder knows; an event name is decoded, then refused by the loop.
var knownNames = map[string]bool{
	"run_segment": true, "shutdown": true, "fork_segment": true,
	"worker_ready": true, "segment_started": true, "step_started": true, "step_finished": true,
	"segment_finished": true, "worker_failed": true, "server_ready": true,
	"segment_forked": true, "fork_refused": true, "segment_exited": true,
}

func decodeCommand(line []byte) (*command, error) {
	shown := line
	if len(shown) > 200 {
		shown = shown[:200]
	}
	if !utf8.Valid(line) {
		return nil, &protocolError{fmt.Sprintf("not a JSON message (not UTF-8): %q", shown)}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return nil, &protocolError{fmt.Sprintf("not a JSON message: %q (%v)", shown, err)}
	}
	var cmd command
	if err := json.Unmarshal(line, &cmd); err != nil || !knownNames[cmd.Name] {
		return nil, &protocolError{fmt.Sprintf("unknown message: %q", shown)}
	}
	return &cmd, nil
}

// channel reads commands from stdin and writes events, each in one write, on the events fd.
type channel struct {
	commands *bufio.Reader
	events   *os.File
}

// receive is the next command, or nil at the end of the input.
func (c *channel) receive() (*command, error) {
	line, err := c.commands.ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(line) == 0 {
		return nil, nil // the end of the input
	}
	return decodeCommand(bytes.TrimSuffix(line, []byte("\n")))
}

// send writes one event; os.File.Write is unbuffered, so a step_started is out before the
// step runs, and a crash or a hang is pinned on it.
func (c *channel) send(event any) {
	data, err := json.Marshal(event)
	if err != nil {
		panic(fmt.Sprintf("an event the worker cannot encode: %v", err)) // the worker's bug
	}
	if _, err := c.events.Write(append(data, '\n')); err != nil {
		fmt.Fprintf(os.Stderr, "wazero-worker: the event stream is gone: %v\n", err)
		os.Exit(exitProtocol)
	}
}

type runtimeInfo struct {
	Family  string `json:"family"`
	Version string `json:"version"`
	Variant string `json:"variant"`
	Adapter string `json:"adapter"`
}

type workerReady struct {
	Name     string      `json:"name"`
	Protocol int         `json:"protocol"`
	Runtime  runtimeInfo `json:"runtime"`
	Pid      int         `json:"pid"`
}

type workerFailed struct {
	Name         string `json:"name"`
	Reason       string `json:"reason"`
	Detail       string `json:"detail,omitempty"`
	HarnessError bool   `json:"harness_error,omitempty"`
}

type segmentStarted struct {
	Name  string `json:"name"`
	Index int64  `json:"index"`
	Pid   int    `json:"pid"`
}

type stepStarted struct {
	Name  string `json:"name"`
	Index int64  `json:"index"`
	Op    string `json:"op"`
}

type stepFinished struct {
	Name   string      `json:"name"`
	Result *stepResult `json:"result"`
}

type segmentFinished struct {
	Name      string  `json:"name"`
	Index     int64   `json:"index"`
	Completed bool    `json:"completed"`
	Stopped   *string `json:"stopped"`
}
