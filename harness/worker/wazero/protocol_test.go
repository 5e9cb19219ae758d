package main

import "testing"

func TestALineThatIsNoMessageIsAProtocolError(t *testing.T) {
	for _, line := range []string{
		`{"name": "frobnicate"}`, `{"name": "run_segment", `, `["run_segment"]`, "\xff\xfe",
		`{"segment": {}}`, `{"name": 5}`,
	} {
		if _, err := decodeCommand([]byte(line)); err == nil {
			t.Errorf("%q was taken", line)
		}
	}
}

func TestCommandsAndEventsAreDecodedByName(t *testing.T) {
	for _, name := range []string{"run_segment", "shutdown", "step_started"} {
		cmd, err := decodeCommand([]byte(`{"name": "` + name + `"}`))
		if err != nil || cmd.Name != name {
			t.Errorf("%s: %v %v", name, cmd, err)
		}
	}
}

func TestASegmentWithoutItsFieldsIsRefused(t *testing.T) {
	three := protocolVersion
	for _, spec := range []segmentSpec{
		{Fixtures: map[string]string{}, Steps: []*step{}, Protocol: &three},
		{Workdir: "/w", Steps: []*step{}, Protocol: &three},
		{Workdir: "/w", Fixtures: map[string]string{}, Protocol: &three},
		{Workdir: "/w", Fixtures: map[string]string{}, Steps: []*step{}},
	} {
		if err := checkSpec(&spec); err == nil {
			t.Errorf("%+v was taken", spec)
		}
	}
}
