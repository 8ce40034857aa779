package policy

import (
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jobsync/jobsync/manifests"
)

// testNow anchors the schedule samples: the DST fixtures look at 2026.
var testNow = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// ruleCase is one rule with a fixture that breaks only that rule.
type ruleCase struct {
	rule    string
	fixture string
	clean   string   // a fixture of the same kind that the rule accepts
	fields  []string // the exact fields of the expected findings, in order
	message string   // a substring of the first finding's message
}

var ruleCases = []ruleCase{
	{RuleConcurrencyUnset, "cronjob-concurrency-unset.yaml", "cronjob-concurrency-allow.yaml",
		[]string{"spec.concurrencyPolicy"}, "default Allow"},
	{RuleStartingDeadlineUnset, "cronjob-starting-deadline-unset.yaml", "cronjob-good.yaml",
		[]string{"spec.startingDeadlineSeconds"}, "TooManyMissedTimes"},
	{RuleStartingDeadlineShort, "cronjob-starting-deadline-too-short.yaml", "cronjob-good.yaml",
		[]string{"spec.startingDeadlineSeconds"}, "startingDeadlineSeconds is 5"},
	{RuleTimeZoneUnset, "cronjob-timezone-unset.yaml", "cronjob-good.yaml",
		[]string{"spec.timeZone"}, "timeZone is not set"},
	{RuleHistoryLimits, "cronjob-history-limits.yaml", "cronjob-good.yaml",
		[]string{"spec.successfulJobsHistoryLimit", "spec.failedJobsHistoryLimit"}, "successfulJobsHistoryLimit is not set"},
	{RuleScheduleTooFrequent, "cronjob-schedule-too-frequent.yaml", "cronjob-good.yaml",
		[]string{"spec.schedule"}, `"*/2 * * * *" runs as often as every 2m, more often than the minimum interval of 5m`},
	{RuleScheduleDST, "cronjob-schedule-dst.yaml", "cronjob-good.yaml",
		[]string{"spec.schedule", "spec.schedule"}, "2026-03-29 02:30 does not exist in Europe/Berlin (the clock goes from 02:00 to 03:00): robfig/cron v3"},
	{RuleActiveDeadlineUnset, "cronjob-active-deadline-unset.yaml", "cronjob-good.yaml",
		[]string{"spec.jobTemplate.spec.activeDeadlineSeconds"}, "never stopped"},
	{RuleActiveDeadlineUnset, "job-active-deadline-unset.yaml", "job-good.yaml",
		[]string{"spec.activeDeadlineSeconds"}, "never stopped"},
	{RuleOnChangeAnnotation, "job-on-change-invalid.yaml", "job-good.yaml",
		[]string{"metadata.annotations[jobsync.io/on-change]"}, `"Recreate" is not a mode`},
	{RuleTTLUnset, "job-ttl-unset.yaml", "job-good.yaml",
		[]string{"spec.ttlSecondsAfterFinished"}, "never deleted"},
	{RuleRestartPolicyOnFailure, "cronjob-restart-policy-on-failure.yaml", "cronjob-good.yaml",
		[]string{"spec.jobTemplate.spec.template.spec.restartPolicy"}, "logs of failed attempts are lost"},
	{RuleRestartPolicyOnFailure, "job-restart-policy-on-failure.yaml", "job-good.yaml",
		[]string{"spec.template.spec.restartPolicy"}, "logs of failed attempts are lost"},
	{RuleImageTag, "cronjob-image-latest.yaml", "cronjob-good.yaml",
		[]string{"spec.jobTemplate.spec.template.spec.containers[0].image"}, `uses the :latest tag`},
	{RuleImageTag, "job-image-latest.yaml", "job-good.yaml",
		[]string{"spec.template.spec.initContainers[0].image", "spec.template.spec.containers[0].image"}, `image "registry.example.com/wait" has no tag`},
	{RuleResourcesUnset, "cronjob-resources-unset.yaml", "cronjob-good.yaml",
		[]string{"spec.jobTemplate.spec.template.spec.containers[0].resources"}, `container "backup" sets no resource requests or limits`},
	{RuleResourcesUnset, "job-resources-unset.yaml", "job-good.yaml",
		[]string{"spec.template.spec.containers[0].resources"}, `container "migrate"`},
	{RuleEnvLiteralSecret, "cronjob-env-literal-secret.yaml", "cronjob-good.yaml",
		[]string{"spec.jobTemplate.spec.template.spec.containers[0].env[0].value"}, "env DB_PASSWORD has a literal value"},
	{RuleEnvLiteralSecret, "job-env-literal-secret.yaml", "job-good.yaml",
		[]string{"spec.template.spec.containers[0].env[2].value"}, "env stripe-api-key has a literal value"},
}

// fields returns the fields of fs.
func fields(fs []manifests.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Field
	}
	return out
}

func TestRules(t *testing.T) {
	for _, tc := range ruleCases {
		rule, ok := lookup(tc.rule)
		if !ok {
			t.Fatalf("unknown rule %s", tc.rule)
		}
		// The severity the rule has when it is not the default.
		other := SeverityError
		if rule.DefaultSeverity == SeverityError {
			other = SeverityWarning
		}
		name := tc.rule + "/" + strings.TrimSuffix(tc.fixture, ".yaml")
		tests := []struct {
			name     string
			fixture  string
			file     string
			ignore   string
			cfg      Config
			severity Severity // where the findings must be; off = nowhere
		}{
			{name: "fires", fixture: tc.fixture, file: "base/x.yaml", cfg: DefaultConfig(), severity: rule.DefaultSeverity},
			{name: "does-not-fire", fixture: tc.clean, file: "base/x.yaml", cfg: DefaultConfig(), severity: SeverityOff},
			{name: "suppressed-by-annotation", fixture: tc.fixture, file: "base/x.yaml", ignore: "image-tag-mutable, " + tc.rule, cfg: DefaultConfig(), severity: SeverityOff},
			{name: "off-in-config", fixture: tc.fixture, file: "base/x.yaml", cfg: Config{Rules: map[string]Severity{tc.rule: SeverityOff}}, severity: SeverityOff},
			{name: "off-for-path", fixture: tc.fixture, file: "overlays/dev/jobs/x.yaml",
				cfg: Config{Overrides: []Override{{Paths: []string{"overlays/dev/**"}, Rules: map[string]Severity{tc.rule: SeverityOff}}}}, severity: SeverityOff},
			{name: "other-path-keeps-default", fixture: tc.fixture, file: "overlays/prod/x.yaml",
				cfg: Config{Overrides: []Override{{Paths: []string{"overlays/dev/**"}, Rules: map[string]Severity{tc.rule: SeverityOff}}}}, severity: rule.DefaultSeverity},
			{name: "severity-changed", fixture: tc.fixture, file: "base/x.yaml", cfg: Config{Rules: map[string]Severity{tc.rule: other}}, severity: other},
			{name: "override-wins-over-rules", fixture: tc.fixture, file: "overlays/dev/x.yaml",
				cfg: Config{Rules: map[string]Severity{tc.rule: SeverityOff}, Overrides: []Override{{Paths: []string{"overlays/*/x.yaml"}, Rules: map[string]Severity{tc.rule: SeverityError}}}}, severity: SeverityError},
		}
		for _, c := range tests {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				r := loadResult(t, c.fixture, c.file)
				if c.ignore != "" {
					annotate(t, &r, c.ignore)
				}
				results := []manifests.Result{r}
				Apply(results, c.cfg, testNow)
				got := results[0]
				errs, warns := byRule(got.Errors, tc.rule), byRule(got.Warnings, tc.rule)
				var want []manifests.Finding
				switch c.severity {
				case SeverityOff:
					if len(errs)+len(warns) != 0 {
						t.Fatalf("want no %s findings, got errors %+v warnings %+v", tc.rule, errs, warns)
					}
					return
				case SeverityError:
					want = errs
					if len(warns) != 0 {
						t.Fatalf("want only errors, got warnings %+v", warns)
					}
				case SeverityWarning:
					want = warns
					if len(errs) != 0 {
						t.Fatalf("want only warnings, got errors %+v", errs)
					}
				}
				if !slices.Equal(fields(want), tc.fields) {
					t.Fatalf("fields = %q, want %q (all: errors %+v warnings %+v)", fields(want), tc.fields, got.Errors, got.Warnings)
				}
				for _, f := range want {
					wantType := ""
					if c.severity == SeverityError {
						wantType = TypePolicyViolation
					}
					if f.Type != wantType || f.Hint != rule.Hint || f.Line != 1 || f.Message == "" {
						t.Errorf("finding %+v: want type %q, the rule's hint, line 1", f, wantType)
					}
				}
				if !strings.Contains(want[0].Message, tc.message) {
					t.Errorf("message %q does not contain %q", want[0].Message, tc.message)
				}
				// The fixture breaks only this rule.
				for _, f := range append(slices.Clone(got.Errors), got.Warnings...) {
					if f.Rule != tc.rule {
						t.Errorf("unexpected finding of another rule: %+v", f)
					}
				}
			})
		}
	}
}

// TestEveryRuleCovered makes sure every rule with a check has a case above.
func TestEveryRuleCovered(t *testing.T) {
	for _, r := range Rules() {
		if r.ID == RuleIgnoreAnnotation {
			continue // TestIgnoreAnnotation
		}
		if !slices.ContainsFunc(ruleCases, func(c ruleCase) bool { return c.rule == r.ID }) {
			t.Errorf("rule %s has no test case", r.ID)
		}
	}
}

func TestCleanFixtures(t *testing.T) {
	for _, f := range []string{"cronjob-good.yaml", "job-good.yaml", "cronjob-concurrency-allow.yaml"} {
		t.Run(f, func(t *testing.T) {
			results := []manifests.Result{loadResult(t, f, "x.yaml")}
			Apply(results, DefaultConfig(), testNow)
			if len(results[0].Errors)+len(results[0].Warnings) != 0 {
				t.Fatalf("findings on a clean fixture: errors %+v warnings %+v", results[0].Errors, results[0].Warnings)
			}
		})
	}
}

func TestIgnoreAnnotation(t *testing.T) {
	const field = "metadata.annotations[jobsync.io/ignore]"
	tests := []struct {
		name      string
		fixture   string
		ignore    string
		cfg       Config
		wantIgn   []string // fields of RuleIgnoreAnnotation warnings
		msg       string
		suppresed string // a rule that must not be reported
	}{
		{name: "unknown id", fixture: "cronjob-timezone-unset.yaml", ignore: "cronjob-timezone-unset,no-such-rule",
			cfg: DefaultConfig(), wantIgn: []string{field}, msg: `unknown rule id "no-such-rule"`, suppresed: RuleTimeZoneUnset},
		{name: "spaces and empty items", fixture: "cronjob-timezone-unset.yaml", ignore: " cronjob-timezone-unset , ,",
			cfg: DefaultConfig(), suppresed: RuleTimeZoneUnset},
		{name: "cannot ignore itself", fixture: "job-good.yaml", ignore: "ignore-annotation-invalid,typo",
			cfg: DefaultConfig(), wantIgn: []string{field}, msg: `"typo"`},
		{name: "on jobTemplate is reported", fixture: "cronjob-ignore-on-template.yaml",
			cfg: DefaultConfig(), wantIgn: []string{"spec.jobTemplate.metadata.annotations[jobsync.io/ignore]"}, msg: "only read from the CronJob's own metadata.annotations"},
		{name: "off in config", fixture: "job-good.yaml", ignore: "typo",
			cfg: Config{Rules: map[string]Severity{RuleIgnoreAnnotation: SeverityOff}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := loadResult(t, tc.fixture, "x.yaml")
			if tc.ignore != "" {
				annotate(t, &r, tc.ignore)
			}
			results := []manifests.Result{r}
			Apply(results, tc.cfg, testNow)
			got := byRule(results[0].Warnings, RuleIgnoreAnnotation)
			if !slices.Equal(fields(got), tc.wantIgn) {
				t.Fatalf("ignore findings = %+v, want fields %q", got, tc.wantIgn)
			}
			if tc.msg != "" && !strings.Contains(got[0].Message, tc.msg) {
				t.Errorf("message %q does not contain %q", got[0].Message, tc.msg)
			}
			if tc.suppresed != "" && len(byRule(results[0].Warnings, tc.suppresed)) != 0 {
				t.Errorf("%s reported despite the annotation", tc.suppresed)
			}
		})
	}
}

func TestApplySkips(t *testing.T) {
	bad := loadResult(t, "job-ttl-unset.yaml", "x.yaml")
	notChecked := bad
	notChecked.Checked = false
	undecoded := bad
	undecoded.Object = nil
	typedNil := bad
	typedNil.Object = (*batchv1.Job)(nil)
	results := []manifests.Result{notChecked, undecoded, typedNil, {File: "y.yaml", Kind: "ConfigMap", Checked: false}}
	Apply(results, DefaultConfig(), testNow)
	for i, r := range results {
		if len(r.Errors)+len(r.Warnings) != 0 {
			t.Errorf("result %d: findings %+v %+v on a result that must be skipped", i, r.Errors, r.Warnings)
		}
	}
}

// TestTypedFallback checks the policies without the raw document: set-ness
// then comes from the typed object.
func TestTypedFallback(t *testing.T) {
	r := loadResult(t, "cronjob-timezone-unset.yaml", "x.yaml")
	annotate(t, &r, "cronjob-starting-deadline-unset")
	r.Unstructured = nil
	results := []manifests.Result{r}
	Apply(results, DefaultConfig(), testNow)
	if got := fields(results[0].Warnings); !slices.Equal(got, []string{"spec.timeZone"}) {
		t.Fatalf("warnings = %q, want only spec.timeZone", got)
	}
}

func TestMinScheduleInterval(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		fires    bool
	}{
		{name: "default 5m", interval: 0, fires: true},
		{name: "2m allows every 2m", interval: 2 * time.Minute, fires: false},
		{name: "1h", interval: time.Hour, fires: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			results := []manifests.Result{loadResult(t, "cronjob-schedule-too-frequent.yaml", "x.yaml")}
			Apply(results, Config{MinScheduleInterval: metav1.Duration{Duration: tc.interval}}, testNow)
			if got := len(byRule(results[0].Warnings, RuleScheduleTooFrequent)) > 0; got != tc.fires {
				t.Fatalf("fired = %v, want %v", got, tc.fires)
			}
		})
	}
}
