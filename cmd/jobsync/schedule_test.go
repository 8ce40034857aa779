package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestScheduleCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		golden   string
		stderr   string
		contains []string
	}{
		{name: "dir", args: []string{"schedule", "--from", "2026-03-07T12:00:00Z", "-n", "3", "testdata/schedule/in"},
			code: exitFindings, golden: "schedule/dir.golden", stderr: "1 CronJob(s) with a schedule or time zone that does not parse"},
		{name: "one file no pileup", args: []string{"schedule", "--from", "2026-10-31T12:00:00Z", "-n", "2", "--pileup=false", "testdata/schedule/in/cronjobs.yaml"},
			code: exitOK, golden: "schedule/file.golden"},
		{name: "heat map svg", args: []string{"schedule", "--svg", "--tz", "Europe/Paris", "--from", "2026-03-25T12:00:00Z", "testdata/schedule/in"},
			code: exitFindings, golden: "schedule/heatmap.svg", stderr: "1 CronJob(s) with a schedule or time zone that does not parse"},
		{name: "heat map png", args: []string{"schedule", "--png", "--from", "2026-03-25T12:00:00Z", "testdata/schedule/in"},
			code: exitFindings, contains: []string{"\x89PNG"}},
		{name: "heat map bad zone", args: []string{"schedule", "--svg", "--tz", "Mars/Olympus", "testdata/schedule/in"}, code: exitUsage, stderr: `--tz "Mars/Olympus"`},
		{name: "svg and png", args: []string{"schedule", "--svg", "--png", "testdata/schedule/in"}, code: exitUsage, stderr: "none of the others can be"},
		{name: "stdin without cronjobs", args: []string{"schedule", "-"}, code: exitOK, contains: []string{"no CronJobs found"}},
		{name: "bad count", args: []string{"schedule", "-n", "0", "testdata/schedule/in"}, code: exitUsage, stderr: "--count must be at least 1"},
		{name: "bad from", args: []string{"schedule", "--from", "tomorrow", "testdata/schedule/in"}, code: exitUsage, stderr: "--from"},
		{name: "missing path", args: []string{"schedule", "testdata/schedule/nope"}, code: exitUsage, stderr: "nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			stdin := strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
			code := runEnv(tc.args, stdin, &out, &errb, func(string) (string, bool) { return "", false })
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, errb.String())
			}
			if !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tc.stderr)
			}
			for _, c := range tc.contains {
				if !strings.Contains(out.String(), c) {
					t.Errorf("stdout %q does not contain %q", out.String(), c)
				}
			}
			if tc.golden != "" {
				assertGolden(t, tc.golden, out.Bytes())
			}
		})
	}
}
