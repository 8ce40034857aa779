package policy

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jobsync/jobsync/manifests"
)

func TestRuleCatalogue(t *testing.T) {
	kebab := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, r := range Rules() {
		t.Run(r.ID, func(t *testing.T) {
			if !kebab.MatchString(r.ID) {
				t.Errorf("id %q is not kebab-case", r.ID)
			}
			if seen[r.ID] {
				t.Errorf("duplicate id %q", r.ID)
			}
			seen[r.ID] = true
			if r.DefaultSeverity != SeverityWarning && r.DefaultSeverity != SeverityError {
				t.Errorf("default severity %q", r.DefaultSeverity)
			}
			if r.Summary == "" || r.Rationale == "" || r.Hint == "" || len(r.Kinds) == 0 {
				t.Errorf("incomplete rule %+v", r)
			}
			if strings.Contains(r.Rationale, "\n") {
				t.Errorf("rationale is more than one line")
			}
			for _, k := range r.Kinds {
				if k != KindJob && k != KindCronJob {
					t.Errorf("kind %q", k)
				}
			}
			if r.ID != RuleIgnoreAnnotation && !slices.ContainsFunc(checks, func(c check) bool { return c.id == r.ID }) {
				t.Errorf("no check implements %s", r.ID)
			}
		})
	}
	// Rules returns a copy: callers cannot change the catalogue.
	rs := Rules()
	rs[0].Kinds[0] = "Pod"
	if Rules()[0].Kinds[0] == "Pod" {
		t.Fatal("Rules shares its Kinds slices")
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		id   string
		want []string
	}{
		{id: RuleTimeZoneUnset, want: []string{"cronjob-timezone-unset (CronJob, default severity warning)", "Why: ", "Fix: set spec.timeZone", "docs/policies.md#cronjob-timezone-unset"}},
		{id: RuleEnvLiteralSecret, want: []string{"(Job, CronJob, default severity error)", "secretKeyRef"}},
		{id: "nope", want: []string{`unknown rule "nope"; known rules: cronjob-concurrency-unset`}},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			got := Explain(tc.id)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Explain(%q) = %q, want it to contain %q", tc.id, got, w)
				}
			}
		})
	}
}

// TestDocsListEveryRule keeps docs/policies.md in step with the catalogue.
func TestDocsListEveryRule(t *testing.T) {
	data, err := os.ReadFile("../docs/policies.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, r := range Rules() {
		row := "| `" + r.ID + "` | " + string(r.DefaultSeverity) + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/policies.md has no table row starting %q", row)
		}
		if !strings.Contains(doc, `<a id="`+r.ID+`"></a>`) {
			t.Errorf("docs/policies.md has no anchor for %s", r.ID)
		}
	}
}

func TestMutableImage(t *testing.T) {
	tests := []struct {
		image string
		want  string // substring; "" = pinned
	}{
		{"busybox", "has no tag"},
		{"busybox:latest", ":latest"},
		{"busybox:1.36", ""},
		{"registry.example.com:5000/team/app", "has no tag"},
		{"registry.example.com:5000/team/app:2.1", ""},
		{"registry.example.com:5000/team/app:latest", ":latest"},
		{"app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""},
		{"app:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.image, func(t *testing.T) {
			got := mutableImage(tc.image)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("mutableImage(%q) = %q, want %q", tc.image, got, tc.want)
			}
		})
	}
}

func TestSecretLikeName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"DB_PASSWORD", true}, {"password", true}, {"GITHUB_TOKEN", true}, {"client-secret", true},
		{"STRIPE_API_KEY", true}, {"apikey", true}, {"AWS_SECRET_ACCESS_KEY", true}, {"SSH_PRIVATE_KEY", true},
		{"DB_PASSWORD_FILE", false}, {"TOKEN_PATH", false}, {"SECRET_NAME", false}, {"LOG_LEVEL", false},
		{"USER", false}, {"CACHE_DIR", false}, {"KEYCLOAK_URL", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := secretLikeName(tc.name); got != tc.want {
				t.Fatalf("secretLikeName(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

func TestOnlyReferences(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"$(A)", true}, {"$(A)$(B)", true}, {"x$(A)", false}, {"$(A", false}, {"hunter2", false}, {"$(A)b", false},
	}
	for _, tc := range tests {
		t.Run(tc.v, func(t *testing.T) {
			if got := onlyReferences(tc.v); got != tc.want {
				t.Fatalf("onlyReferences(%q) = %v, want %v", tc.v, got, tc.want)
			}
		})
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5m", 90 * time.Minute: "1h30m", time.Hour: "1h", 30 * time.Second: "30s", 90 * time.Second: "1m30s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// BenchmarkApply measures the policies on a mix of CronJobs and Jobs (the
// validate target is 10,000 documents in 0.5 s including decoding).
func BenchmarkApply(b *testing.B) {
	var base []manifests.Result
	for _, f := range []string{"cronjob-good.yaml", "cronjob-schedule-dst.yaml", "cronjob-schedule-too-frequent.yaml", "job-good.yaml", "job-env-literal-secret.yaml"} {
		base = append(base, loadResult(b, f, "base/x.yaml"))
	}
	cfg := Config{MinScheduleInterval: metav1.Duration{Duration: time.Minute}}
	results := make([]manifests.Result, 1000)
	b.ReportAllocs()
	for b.Loop() {
		for i := range results {
			results[i] = base[i%len(base)]
			results[i].Errors, results[i].Warnings = nil, nil
		}
		Apply(results, cfg, testNow)
	}
}
