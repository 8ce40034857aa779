package report

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobsync/jobsync/manifests"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixture is a hand-built set of results covering every shape a report meets:
// a clean object, errors with and without field lines, warnings with hints,
// a warning-only object, objects that are not checked, a document that did
// not decode, a removed API version, a duplicate, and names that need escaping.
func fixture() []manifests.Result {
	return []manifests.Result{
		{
			File: "base/backup.yaml", Line: 1, APIVersion: "batch/v1", Kind: "CronJob",
			Namespace: "ops", Name: "pg-backup", Checked: true,
		},
		{
			File: "base/report.yaml", Line: 1, APIVersion: "batch/v1", Kind: "CronJob",
			Namespace: "ops", Name: "weekly-report", Checked: true,
			Errors: []manifests.Finding{
				{Field: "spec.schedule", Type: "FieldValueInvalid", Message: `Invalid value: "0 0 * * 7": end of range (7) above maximum (6): 7`, Rule: manifests.RuleUpstream, Line: 7},
				{Field: "spec.jobTemplate.spec.template.spec.restartPolicy", Type: "FieldValueRequired", Message: "Required value: valid values: \"OnFailure\", \"Never\"", Rule: manifests.RuleUpstream},
			},
			Warnings: []manifests.Finding{
				{Field: "spec.timeZone", Message: "timeZone is not set: the schedule follows the controller's zone", Rule: "cronjob-timezone-unset", Line: 6, Hint: "set spec.timeZone, e.g. Europe/Berlin"},
			},
		},
		{
			File: "base/settings.yaml", Line: 1, APIVersion: "v1", Kind: "ConfigMap",
			Namespace: "ops", Name: "settings",
		},
		{
			File: "base/etl.yaml", Line: 12, APIVersion: "batch/v1", Kind: "CronJob",
			Namespace: "data", Name: "etl", Checked: true,
			Warnings: []manifests.Finding{
				{Field: "spec.concurrencyPolicy", Message: "concurrencyPolicy is not set (Allow): runs can overlap", Rule: "cronjob-concurrency-unset", Line: 15, Hint: "set spec.concurrencyPolicy: Forbid (or Replace)"},
				{Field: "spec.jobTemplate.spec.template.spec.containers[0].image", Message: `image "busybox:latest" is not pinned`, Rule: "image-not-pinned", Line: 22},
			},
		},
		{
			File: "broken/binary.yaml", Line: 1, Checked: false,
			Errors: []manifests.Finding{
				{Type: "FieldValueInvalid", Message: "error converting YAML to JSON: yaml: control characters are not allowed", Rule: manifests.RuleUpstream},
			},
		},
		{
			File: "broken/old.yaml", Line: 3, APIVersion: "batch/v1beta1", Kind: "CronJob",
			Namespace: "default", Name: "old",
			Errors: []manifests.Finding{
				{Field: "apiVersion", Type: "FieldValueNotSupported", Message: `batch/v1beta1 CronJob is no longer served (removed in Kubernetes 1.25): use apiVersion: batch/v1`, Rule: manifests.RuleUpstream},
			},
		},
		{
			File: "weird, dir/a:b%c.yaml", Line: 2, APIVersion: "batch/v1", Kind: "Job",
			Namespace: "default", Name: "shard", Checked: true,
			Errors: []manifests.Finding{
				{Field: "metadata.name", Type: "FieldValueDuplicate", Message: "Duplicate value: Job/default/shard is also defined at base/shard.yaml:1\n(100% the same name)", Rule: manifests.RuleUpstream},
				{Field: "spec.template.spec.containers[0].env[0].value", Type: "FieldValueInvalid", Message: "looks like a secret in a literal env value", Rule: "env-literal-secret", Line: 20, Hint: "use valueFrom.secretKeyRef"},
			},
		},
		{
			File: "overlays/prod/kustomization.yaml", Line: 1, APIVersion: "v1", Kind: "Namespace", Name: "prod",
		},
	}
}

// rules describes the policy ids the fixture uses, as cmd would from policy.Rules().
func rules() []Rule {
	return []Rule{
		{ID: "cronjob-timezone-unset", Severity: SeverityWarning, Summary: "CronJob without spec.timeZone.", Rationale: "The schedule then follows the controller's zone.", Hint: "Set spec.timeZone.", HelpURI: "https://github.com/jobsync/jobsync/blob/main/docs/policies.md#cronjob-timezone-unset"},
		{ID: "cronjob-concurrency-unset", Severity: SeverityWarning, Summary: "CronJob without spec.concurrencyPolicy.", Rationale: "The default Allow lets runs overlap.", Hint: "Set Forbid or Replace."},
		{ID: "env-literal-secret", Severity: SeverityError, Summary: "Secret-looking literal env value."},
	}
}

func TestWriteGolden(t *testing.T) {
	tests := []struct {
		name    string
		format  string
		results []manifests.Result
		opts    Options
	}{
		{name: "text", format: FormatText, results: fixture(), opts: DefaultOptions()},
		{name: "text-default-format", format: "", results: fixture(), opts: DefaultOptions()},
		{name: "text-color", format: FormatText, results: fixture(), opts: Options{Color: true}},
		{name: "text-empty", format: FormatText, results: nil, opts: DefaultOptions()},
		{name: "json", format: FormatJSON, results: fixture(), opts: DefaultOptions()},
		{name: "json-empty", format: FormatJSON, results: nil, opts: DefaultOptions()},
		{name: "sarif", format: FormatSARIF, results: fixture(), opts: Options{Rules: rules(), ToolVersion: "v1.2.3", SourceRoot: "/src/my repo"}},
		{name: "sarif-empty", format: FormatSARIF, results: nil, opts: DefaultOptions()},
		{name: "junit", format: FormatJUnit, results: fixture(), opts: DefaultOptions()},
		{name: "github", format: FormatGitHub, results: fixture(), opts: DefaultOptions()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.format, tc.results, tc.opts); err != nil {
				t.Fatalf("Write: %v", err)
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test ./report -update): %v", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s output differs from %s (-want +got):\n%s", tc.format, golden, diff)
			}
		})
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, "yaml", fixture(), DefaultOptions())
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("Write(yaml) error = %v, want ErrUnknownFormat", err)
	}
	if buf.Len() != 0 {
		t.Errorf("Write(yaml) wrote %q, want nothing", buf.String())
	}
}

func TestSummarize(t *testing.T) {
	got := Summarize(fixture())
	want := Summary{Objects: 8, Valid: 4, Invalid: 4, Warnings: 3, Errors: 6, NotChecked: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summarize (-want +got):\n%s", diff)
	}
}

func TestEscapeGitHub(t *testing.T) {
	tests := []struct {
		name, in, data, prop string
	}{
		{name: "plain", in: "spec.schedule", data: "spec.schedule", prop: "spec.schedule"},
		{name: "percent first", in: "100%0A", data: "100%250A", prop: "100%250A"},
		{name: "newlines", in: "a\r\nb", data: "a%0D%0Ab", prop: "a%0D%0Ab"},
		{name: "comma colon", in: "a,b:c", data: "a,b:c", prop: "a%2Cb%3Ac"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := escapeData(tc.in); got != tc.data {
				t.Errorf("escapeData(%q) = %q, want %q", tc.in, got, tc.data)
			}
			if got := escapeProperty(tc.in); got != tc.prop {
				t.Errorf("escapeProperty(%q) = %q, want %q", tc.in, got, tc.prop)
			}
		})
	}
}
