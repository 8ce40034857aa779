package policy

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestLoadConfigGood(t *testing.T) {
	tests := []struct {
		file string
		want Config
	}{
		{file: "good.yaml", want: Config{
			Rules:               map[string]Severity{RuleTimeZoneUnset: SeverityOff, RuleTTLUnset: SeverityOff, RuleImageTag: SeverityError},
			MinScheduleInterval: metav1.Duration{Duration: 10 * time.Minute},
			Overrides: []Override{{
				Paths: []string{"overlays/dev/**", "sandbox/*.yaml"},
				Rules: map[string]Severity{RuleActiveDeadlineUnset: SeverityOff, RuleImageTag: SeverityWarning},
			}},
		}},
		{file: "empty.yaml", want: DefaultConfig()},
		{file: "comments-only.yaml", want: DefaultConfig()},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := LoadConfig(filepath.Join("testdata", "config", tc.file))
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigBad(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings of the error
	}{
		{file: "unknown-key.yaml", want: []string{"unknown-key.yaml:3: minInterval: unknown field"}},
		{file: "unknown-rule.yaml", want: []string{"unknown-rule.yaml:3: rules.cronjob-timezone: unknown rule id (known: cronjob-concurrency-unset,"}},
		{file: "unknown-override-rule.yaml", want: []string{":4: overrides[0].rules.image-latest: unknown rule id"}},
		{file: "unknown-override-key.yaml", want: []string{":2: overrides[0].path: unknown field (known: paths, rules)"}},
		{file: "bad-severity.yaml", want: []string{`bad-severity.yaml:2: rules.job-ttl-unset: invalid severity "fatal": use off, warning or error`}},
		{file: "severity-true.yaml", want: []string{`severity-true.yaml:2: rules.job-ttl-unset: invalid severity "yes": use off, warning or error`}},
		{file: "bad-interval.yaml", want: []string{`bad-interval.yaml:1: minScheduleInterval: invalid duration "often"`}},
		{file: "negative-interval.yaml", want: []string{`negative-interval.yaml:1: minScheduleInterval: invalid duration "-5m"`}},
		{file: "wrong-type.yaml", want: []string{"wrong-type.yaml: ", "paths"}},
		{file: "bad-glob.yaml", want: []string{`overrides[0].paths[0]: "overlays/[dev/**": syntax error in pattern`}},
		{file: "no-paths.yaml", want: []string{"overrides[0].paths: required"}},
		{file: "not-a-mapping.yaml", want: []string{"not-a-mapping.yaml:1: (root): must be a mapping"}},
		{file: "syntax.yaml", want: []string{"syntax.yaml: yaml: line 3"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, err := LoadConfig(filepath.Join("testdata", "config", tc.file))
			if err == nil {
				t.Fatal("LoadConfig succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadConfigMissing(t *testing.T) {
	_, err := LoadConfig(filepath.Join("testdata", "config", "absent.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "zero", cfg: Config{}},
		{name: "default", cfg: DefaultConfig()},
		{name: "unknown id", cfg: Config{Rules: map[string]Severity{"nope": SeverityOff}}, want: "rules.nope: unknown rule id"},
		{name: "bad severity", cfg: Config{Rules: map[string]Severity{RuleTTLUnset: "info"}}, want: `rules.job-ttl-unset: invalid severity "info"`},
		{name: "empty glob", cfg: Config{Overrides: []Override{{Paths: []string{""}}}}, want: "overrides[0].paths[0]: \"\": empty glob"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		glob, file string
		want       bool
	}{
		{"overlays/dev/**", "overlays/dev/cron.yaml", true},
		{"overlays/dev/**", "overlays/dev/a/b/cron.yaml", true},
		{"overlays/dev/**", "overlays/dev", true},
		{"overlays/dev/**", "overlays/prod/cron.yaml", false},
		{"overlays/*/cron.yaml", "overlays/dev/cron.yaml", true},
		{"overlays/*/cron.yaml", "overlays/dev/x/cron.yaml", false},
		{"**/cron.yaml", "cron.yaml", true},
		{"**/cron.yaml", "a/b/cron.yaml", true},
		{"**/*.yml", "a/b/cron.yaml", false},
		{"a/**/b/*.yaml", "a/x/y/b/c.yaml", true},
		{"a/**/b/*.yaml", "a/b/c.yaml", true},
		{"./base/*.yaml", "base/job.yaml", true},
		{"base/*.yaml", "./base/job.yaml", true},
		{"base/job.yaml", "base/job.yaml", true},
		{"base", "base/job.yaml", false},
		{"**", "anything/at/all.yaml", true},
	}
	for _, tc := range tests {
		t.Run(tc.glob+" "+tc.file, func(t *testing.T) {
			if got := Match(tc.glob, tc.file); got != tc.want {
				t.Fatalf("Match(%q, %q) = %v, want %v", tc.glob, tc.file, got, tc.want)
			}
		})
	}
}
