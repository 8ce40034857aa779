package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/gate"
	"github.com/jobsync/jobsync/report"
)

func init() {
	// Schedule policies (DST transitions, minimum interval) sample from now:
	// pin it so that the goldens do not change with the date.
	validateNow = func() time.Time { return time.Date(2026, time.January, 15, 12, 0, 0, 0, time.UTC) }
}

const validateIn = "testdata/validate/in"

// runValidateCLI runs jobsync with args and an empty environment.
func runValidateCLI(t *testing.T, stdin string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code = runEnv(args, strings.NewReader(stdin), &out, &errb, lookup)
	return code, out.String(), errb.String()
}

func TestValidateGolden(t *testing.T) {
	root, err := filepath.Abs("../..") // the Git work tree: file names are relative to it
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			code, out, errs := runValidateCLI(t, "", nil, "validate", "-o", format, validateIn)
			if code != exitFindings {
				t.Fatalf("exit %d, want %d (stderr %q)", code, exitFindings, errs)
			}
			// SARIF records the absolute source root: make it machine-independent.
			out = strings.ReplaceAll(out, filepath.ToSlash(root), "$ROOT")
			assertGolden(t, filepath.Join("validate", format+".golden"), []byte(out))
		})
	}
}

func TestValidateExitCodes(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantErr  string // substring of stderr
		wantOut  string // substring of stdout
	}{
		{"clean", []string{"validate", validateIn + "/clean.yaml"}, "", exitOK, "", "2 objects: 2 valid, 0 invalid"},
		{"errors", []string{"validate", validateIn + "/findings.yaml"}, "", exitFindings, "", "1 invalid"},
		{"warnings pass", []string{"validate", validateIn + "/warnings.yaml"}, "", exitOK, "", "1 warning,"},
		{"warnings fail with strict", []string{"validate", "--strict", validateIn + "/warnings.yaml"}, "", exitFindings, "", "[job-ttl-unset]"},
		{"config turns the warning off", []string{"validate", "--strict", "--config", "testdata/validate/config/off.yaml", validateIn + "/warnings.yaml"}, "", exitOK, "", "0 warnings"},
		{"bad config", []string{"validate", "--config", "testdata/validate/config/bad.yaml", validateIn}, "", exitUsage, "rules.no-such-rule: unknown rule id", ""},
		{"missing config", []string{"validate", "--config", "testdata/validate/config/nope.yaml", validateIn}, "", exitUsage, "nope.yaml", ""},
		{"missing path", []string{"validate", "testdata/validate/does-not-exist"}, "", exitUsage, "does-not-exist", ""},
		{"bad flag", []string{"validate", "--no-such-flag"}, "", exitUsage, "unknown flag: --no-such-flag", ""},
		{"bad format", []string{"validate", "-o", "xml", validateIn}, "", exitUsage, `--output "xml": use one of text, json, sarif, junit, github`, ""},
		{"stdin twice", []string{"validate", "-", "-"}, "", exitUsage, "standard input (-) can be given only once", ""},
		{"stdin clean", []string{"validate", "-"}, mustRead(t, validateIn+"/clean.yaml"), exitOK, "", "2 objects: 2 valid"},
		{"stdin invalid", []string{"validate", "-"}, "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {}\n", exitFindings, "", "-:4: error: Job/x: spec.template.spec.containers: Required value"},
		{"stdin not yaml", []string{"validate", "-"}, "a: [b\n", exitFindings, "", "not valid YAML"},
		{"stdin empty", []string{"validate", "-"}, "", exitOK, "", "-: warning: no objects"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runValidateCLI(t, tc.stdin, nil, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errs)
			}
			if !strings.Contains(errs, tc.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errs, tc.wantErr)
			}
			if !strings.Contains(out, tc.wantOut) {
				t.Errorf("stdout %q, want it to contain %q", out, tc.wantOut)
			}
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestValidateConfigDiscovery(t *testing.T) {
	dir := t.TempDir()
	job := mustRead(t, validateIn+"/warnings.yaml")
	if err := os.WriteFile(filepath.Join(dir, "job.yaml"), []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runValidateCLI(t, "", nil, "validate", "--strict", dir)
	if code != exitFindings {
		t.Fatalf("without .jobsync.yaml: exit %d, want %d\n%s%s", code, exitFindings, out, errs)
	}
	cfg := "rules:\n  job-ttl-unset: \"off\"\n"
	if err := os.WriteFile(filepath.Join(dir, gate.ConfigFileName), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dir, filepath.Join(dir, "job.yaml")} {
		code, out, errs = runValidateCLI(t, "", nil, "validate", "--strict", path)
		if code != exitOK {
			t.Errorf("%s with .jobsync.yaml beside it: exit %d, want 0\n%s%s", path, code, out, errs)
		}
	}
}

func TestValidateColor(t *testing.T) {
	cases := []struct {
		name      string
		tty       bool
		args      []string
		env       map[string]string
		wantColor bool
	}{
		{"terminal", true, []string{"validate", validateIn}, nil, true},
		{"not a terminal", false, []string{"validate", validateIn}, nil, false},
		{"terminal with --no-color", true, []string{"validate", "--no-color", validateIn}, nil, false},
		{"terminal with NO_COLOR", true, []string{"validate", validateIn}, map[string]string{"NO_COLOR": "1"}, false},
		{"terminal with NO_COLOR empty (ignored)", true, []string{"validate", validateIn}, map[string]string{"NO_COLOR": ""}, true},
		{"terminal, json output", true, []string{"validate", "-o", "json", validateIn}, nil, false},
	}
	saved := isTerminal
	t.Cleanup(func() { isTerminal = saved })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isTerminal = func(io.Writer) bool { return tc.tty }
			_, out, _ := runValidateCLI(t, "", tc.env, tc.args...)
			if got := strings.Contains(out, "\x1b["); got != tc.wantColor {
				t.Errorf("coloured output = %v, want %v:\n%q", got, tc.wantColor, out)
			}
		})
	}
}

func TestValidateTooLargeDocument(t *testing.T) {
	dir := t.TempDir()
	big := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: \"" + strings.Repeat("x", 1<<20+10) + "\"\n"
	if err := os.WriteFile(filepath.Join(dir, "big.yaml"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runValidateCLI(t, "", nil, "validate", "--max-document-mb", "1", dir)
	if code != exitFindings || !strings.Contains(out, "document too large") {
		t.Fatalf("exit %d, want 1 with a 'document too large' finding\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

func TestValidateHelpHasExamples(t *testing.T) {
	_, out, _ := runValidateCLI(t, "", nil, "validate", "--help")
	for _, flag := range []string{"-o json", "-o sarif", "-o junit", "-o github", "--strict", "--allow-remote-bases", "--config", "--no-color", "--max-document-mb", "-\n"} {
		if !strings.Contains(out, "jobsync validate "+flag) {
			t.Errorf("validate --help has no example of %q", strings.TrimSpace(flag))
		}
	}
}

func TestValidateRemoteBaseRefused(t *testing.T) {
	dir := t.TempDir()
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - https://github.com/acme/batch//base?ref=v1.0.0\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runValidateCLI(t, "", nil, "validate", dir)
	if code != exitFindings || !strings.Contains(out, "--allow-remote-bases") {
		t.Fatalf("exit %d, want 1 with a finding that names --allow-remote-bases\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

func TestDiffColor(t *testing.T) {
	cases := []struct {
		name, mode string
		tty        bool
		env        map[string]string
		want       bool
	}{
		{"auto on a terminal", "auto", true, nil, true},
		{"auto, not a terminal", "auto", false, nil, false},
		{"auto on a terminal with NO_COLOR", "auto", true, map[string]string{"NO_COLOR": "1"}, false},
		{"always with NO_COLOR", "always", false, map[string]string{"NO_COLOR": "1"}, true},
		{"never on a terminal", "never", true, nil, false},
	}
	saved := isTerminal
	t.Cleanup(func() { isTerminal = saved })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isTerminal = func(io.Writer) bool { return tc.tty }
			s := streams{out: io.Discard, env: func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }}
			got, err := diffUseColor(tc.mode, s)
			if err != nil || got != tc.want {
				t.Errorf("colour %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := diffUseColor("sometimes", streams{}); err == nil || !strings.Contains(err.Error(), "use auto, always or never") {
		t.Errorf("bad mode: %v", err)
	}
}
