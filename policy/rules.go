package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Severity is what a policy finding counts as: an error (fails validation), a
// warning, or off (not reported).
type Severity string

const (
	SeverityOff     Severity = "off"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Kinds a rule applies to.
const (
	KindJob     = "Job"
	KindCronJob = "CronJob"
)

// Rule ids. They are stable: users write them in .jobsync.yaml and in the
// jobsync.io/ignore annotation.
const (
	RuleConcurrencyUnset       = "cronjob-concurrency-unset"
	RuleStartingDeadlineUnset  = "cronjob-starting-deadline-unset"
	RuleStartingDeadlineShort  = "cronjob-starting-deadline-too-short"
	RuleTimeZoneUnset          = "cronjob-timezone-unset"
	RuleHistoryLimits          = "cronjob-history-limits"
	RuleScheduleTooFrequent    = "cronjob-schedule-too-frequent"
	RuleScheduleDST            = "cronjob-schedule-dst"
	RuleActiveDeadlineUnset    = "job-active-deadline-unset"
	RuleTTLUnset               = "job-ttl-unset"
	RuleRestartPolicyOnFailure = "restart-policy-on-failure"
	RuleImageTag               = "image-tag-mutable"
	RuleResourcesUnset         = "container-resources-unset"
	RuleEnvLiteralSecret       = "env-literal-secret"
	RuleIgnoreAnnotation       = "ignore-annotation-invalid"
	RuleOnChangeAnnotation     = "on-change-annotation-invalid"
)

// IgnoreAnnotation on an object's metadata lists, comma-separated, the rule ids
// not to report for that object.
const IgnoreAnnotation = "jobsync.io/ignore"

// docsURL is where each rule is documented (with an anchor per id).
const docsURL = "https://github.com/jobsync/jobsync/blob/main/docs/policies.md"

// Rule describes one policy.
type Rule struct {
	// ID is the stable kebab-case id findings carry in Finding.Rule.
	ID string
	// Kinds are the object kinds the rule checks (KindJob, KindCronJob).
	Kinds []string
	// DefaultSeverity applies unless .jobsync.yaml says otherwise.
	DefaultSeverity Severity
	// Summary says in one line what the rule checks.
	Summary string
	// Rationale says in one line why it matters.
	Rationale string
	// Hint says how to fix a finding.
	Hint string
}

// HelpURI is the rule's section of docs/policies.md.
func (r Rule) HelpURI() string { return docsURL + "#" + r.ID }

var both = []string{KindJob, KindCronJob}

// rules is the catalogue, in the order of docs/policies.md.
var rules = []Rule{
	{ID: RuleConcurrencyUnset, Kinds: []string{KindCronJob}, DefaultSeverity: SeverityWarning,
		Summary:   "CronJob without spec.concurrencyPolicy.",
		Rationale: "The default, Allow, starts a new Job while the previous one still runs, so slow runs pile up.",
		Hint:      "set spec.concurrencyPolicy to Forbid (skip a run while one is active) or Replace, or Allow explicitly"},
	{ID: RuleStartingDeadlineUnset, Kinds: []string{KindCronJob}, DefaultSeverity: SeverityWarning,
		Summary:   "CronJob without spec.startingDeadlineSeconds.",
		Rationale: "After a controller outage every CronJob starts its missed run at once however late (a burst), and past 100 missed slots the controller also emits TooManyMissedTimes.",
		Hint:      "set spec.startingDeadlineSeconds to how late a run may still start, e.g. 300"},
	{ID: RuleStartingDeadlineShort, Kinds: []string{KindCronJob}, DefaultSeverity: SeverityWarning,
		Summary:   "CronJob with spec.startingDeadlineSeconds below 10.",
		Rationale: "The CronJob controller checks about every 10 seconds, so a shorter deadline can make every run miss its window.",
		Hint:      "set spec.startingDeadlineSeconds to 10 or more (60 or more is safer)"},
	{ID: RuleTimeZoneUnset, Kinds: []string{KindCronJob}, DefaultSeverity: SeverityWarning,
		Summary:   "CronJob without spec.timeZone.",
		Rationale: "The schedule then follows the controller's local zone, which differs between clusters and is not visible in Git.",
		Hint:      `set spec.timeZone to an IANA zone, e.g. "Etc/UTC" or "Europe/Berlin"`},
	{ID: RuleHistoryLimits, Kinds: []string{KindCronJob}, DefaultSeverity: SeverityWarning,
		Summary:   "CronJob history limits unset or 0.",
		Rationale: "Unset keeps the defaults (3 successful, 1 failed) implicitly; 0 deletes finished Jobs and their pods and logs at once, leaving nothing to debug.",
		Hint:      "set spec.successfulJobsHistoryLimit and spec.failedJobsHistoryLimit explicitly, at least 1"},
	{ID: RuleScheduleTooFrequent, Kinds: []string{KindCronJob}, DefaultSeverity: SeverityWarning,
		Summary:   "CronJob schedule fires more often than the configured minimum interval.",
		Rationale: "Each run creates a Job and a pod; very frequent schedules load the API server and pile up when runs are slow.",
		Hint:      "run less often, or use a long-running Deployment or a worker loop for near-continuous work"},
	{ID: RuleScheduleDST, Kinds: []string{KindCronJob}, DefaultSeverity: SeverityWarning,
		Summary:   "CronJob schedule lands in a daylight-saving gap or overlap of its time zone.",
		Rationale: "robfig/cron, which the controller uses, skips runs whose wall-clock time does not exist and runs twice those that happen twice.",
		Hint:      `move the schedule out of the transition hours (often 01:00-03:59) or use timeZone "Etc/UTC"`},
	{ID: RuleActiveDeadlineUnset, Kinds: both, DefaultSeverity: SeverityWarning,
		Summary:   "Job without spec.activeDeadlineSeconds.",
		Rationale: "A hung Job runs forever, holds its resources and, with concurrencyPolicy Forbid, blocks every later run.",
		Hint:      "set activeDeadlineSeconds in the Job spec to an upper bound of the run time"},
	{ID: RuleTTLUnset, Kinds: []string{KindJob}, DefaultSeverity: SeverityWarning,
		Summary:   "Standalone Job without spec.ttlSecondsAfterFinished.",
		Rationale: "A finished Job and its pods are never cleaned up; they accumulate in the namespace.",
		Hint:      "set spec.ttlSecondsAfterFinished, e.g. 86400 to keep a finished Job for a day"},
	{ID: RuleRestartPolicyOnFailure, Kinds: both, DefaultSeverity: SeverityWarning,
		Summary:   "Pod template with restartPolicy OnFailure.",
		Rationale: "The container restarts in place, so the logs of failed attempts are lost, and podFailurePolicy cannot be used.",
		Hint:      "set restartPolicy: Never (each retry gets a new pod and keeps its logs) and tune backoffLimit"},
	{ID: RuleImageTag, Kinds: both, DefaultSeverity: SeverityWarning,
		Summary:   "Container image without a tag or with :latest.",
		Rationale: "Each run may pull a different image, so runs are neither reproducible nor reviewable in Git.",
		Hint:      "pin the image to a version tag or a digest (image@sha256:...)"},
	{ID: RuleResourcesUnset, Kinds: both, DefaultSeverity: SeverityWarning,
		Summary:   "Container without resource requests or limits.",
		Rationale: "Without requests the scheduler cannot place the pod sensibly, and without limits one run can starve its node.",
		Hint:      "set resources.requests (cpu, memory) and resources.limits (at least memory)"},
	{ID: RuleEnvLiteralSecret, Kinds: both, DefaultSeverity: SeverityError,
		Summary:   "Secret-looking environment variable with a literal value.",
		Rationale: "A password, token or key written in the manifest is stored in Git history and readable by anyone who can read the object.",
		Hint:      "store the value in a Secret and use env[].valueFrom.secretKeyRef"},
	{ID: RuleIgnoreAnnotation, Kinds: both, DefaultSeverity: SeverityWarning,
		Summary:   "jobsync.io/ignore annotation naming an unknown rule or in the wrong place.",
		Rationale: "A misspelt or misplaced suppression silently suppresses nothing.",
		Hint:      "list known rule ids (docs/policies.md) in the object's own metadata.annotations"},
	{ID: RuleOnChangeAnnotation, Kinds: []string{KindJob}, DefaultSeverity: SeverityError,
		Summary:   "Job with a jobsync.io/on-change value that is not a mode.",
		Rationale: "When the Job's spec changes, apply and the agent cannot tell how to replace it, and the change fails.",
		Hint:      "use recreate-when-finished (the default), recreate or ignore"},
}

// Rules returns every policy rule, in documentation order.
func Rules() []Rule {
	out := make([]Rule, len(rules))
	for i, r := range rules {
		r.Kinds = slices.Clone(r.Kinds)
		out[i] = r
	}
	return out
}

// lookup returns the rule with id.
func lookup(id string) (Rule, bool) {
	for _, r := range rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// ruleIDs returns every rule id, comma-separated, for error messages.
func ruleIDs() string {
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = r.ID
	}
	return strings.Join(ids, ", ")
}

// Explain returns a few lines on the rule with id: what it checks, why, how
// to fix it, its default severity and kinds; or a line saying it is unknown.
func Explain(id string) string {
	r, ok := lookup(id)
	if !ok {
		return fmt.Sprintf("unknown rule %q; known rules: %s\n", id, ruleIDs())
	}
	return fmt.Sprintf("%s (%s, default severity %s)\n  %s\n  Why: %s\n  Fix: %s\n  Docs: %s\n",
		r.ID, strings.Join(r.Kinds, ", "), r.DefaultSeverity, r.Summary, r.Rationale, r.Hint, r.HelpURI())
}
