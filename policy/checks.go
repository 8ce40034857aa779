package policy

import (
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/robfig/cron/v3"

	"github.com/jobsync/jobsync/schedule"
)

// check runs one rule on an object.
type check struct {
	id string
	fn func(o object) []hit
}

// checks implement the rules; runChecks runs those whose rule covers the kind.
var checks = []check{
	{RuleConcurrencyUnset, checkConcurrency},
	{RuleStartingDeadlineUnset, checkStartingDeadlineUnset},
	{RuleStartingDeadlineShort, checkStartingDeadlineShort},
	{RuleTimeZoneUnset, checkTimeZone},
	{RuleHistoryLimits, checkHistoryLimits},
	{RuleScheduleTooFrequent, checkFrequency},
	{RuleScheduleDST, checkDST},
	{RuleActiveDeadlineUnset, checkActiveDeadline},
	{RuleTTLUnset, checkTTL},
	{RuleRestartPolicyOnFailure, checkRestartPolicy},
	{RuleImageTag, checkImages},
	{RuleResourcesUnset, checkResources},
	{RuleEnvLiteralSecret, checkEnvSecrets},
	{RuleOnChangeAnnotation, checkOnChange},
}

// Sample sizes for the schedule rules: enough to see weekly and monthly
// patterns and a year of DST transitions, cheap enough for every CronJob.
const (
	frequencyWindow   = 62 * 24 * time.Hour
	frequencyMaxFires = 3000
	dstHorizon        = 366 * 24 * time.Hour
)

// set reports whether the field at path was written in the document; without
// the raw document it falls back to typed (whether the typed field is set).
func (o object) set(typed bool, path ...string) bool {
	if o.raw == nil {
		return typed
	}
	v, found, _ := unstructured.NestedFieldNoCopy(o.raw, path...)
	return found && v != nil
}

// jobSpec returns the Job spec and its field path (a CronJob's jobTemplate).
func (o object) jobSpec() (*batchv1.JobSpec, string) {
	if o.job != nil {
		return &o.job.Spec, "spec"
	}
	return &o.cronJob.Spec.JobTemplate.Spec, "spec.jobTemplate.spec"
}

// podSpec returns the pod template's spec and its field path.
func (o object) podSpec() (*corev1.PodSpec, string) {
	js, p := o.jobSpec()
	return &js.Template.Spec, p + ".template.spec"
}

func checkConcurrency(o object) []hit {
	if o.set(o.cronJob.Spec.ConcurrencyPolicy != "", "spec", "concurrencyPolicy") {
		return nil
	}
	return []hit{{RuleConcurrencyUnset, "spec.concurrencyPolicy",
		"concurrencyPolicy is not set: the default Allow starts a new Job even while the previous one is still running"}}
}

func checkStartingDeadlineUnset(o object) []hit {
	if o.cronJob.Spec.StartingDeadlineSeconds != nil {
		return nil
	}
	return []hit{{RuleStartingDeadlineUnset, "spec.startingDeadlineSeconds",
		"startingDeadlineSeconds is not set: after an outage a missed run starts however late, and after more than 100 missed schedules the controller only reports TooManyMissedTimes"}}
}

func checkStartingDeadlineShort(o object) []hit {
	sds := o.cronJob.Spec.StartingDeadlineSeconds
	if sds == nil || *sds < 0 || *sds >= 10 {
		return nil
	}
	return []hit{{RuleStartingDeadlineShort, "spec.startingDeadlineSeconds",
		fmt.Sprintf("startingDeadlineSeconds is %d: the CronJob controller checks about every 10 seconds, so runs may never start", *sds)}}
}

func checkTimeZone(o object) []hit {
	if o.cronJob.Spec.TimeZone != nil {
		return nil
	}
	return []hit{{RuleTimeZoneUnset, "spec.timeZone",
		"timeZone is not set: the schedule follows the time zone of the kube-controller-manager"}}
}

func checkHistoryLimits(o object) []hit {
	var out []hit
	for _, f := range []struct {
		name string
		val  *int32
		def  int
	}{
		{"successfulJobsHistoryLimit", o.cronJob.Spec.SuccessfulJobsHistoryLimit, 3},
		{"failedJobsHistoryLimit", o.cronJob.Spec.FailedJobsHistoryLimit, 1},
	} {
		field := "spec." + f.name
		switch {
		case !o.set(f.val != nil, "spec", f.name):
			out = append(out, hit{RuleHistoryLimits, field,
				fmt.Sprintf("%s is not set: the API server defaults it to %d, which is not visible in Git", f.name, f.def)})
		case f.val != nil && *f.val == 0:
			out = append(out, hit{RuleHistoryLimits, field,
				fmt.Sprintf("%s is 0: finished Jobs are deleted at once, with their pods and logs", f.name)})
		}
	}
	return out
}

// parseSchedule returns the CronJob's schedule and zone, or ok=false when
// either is invalid (upstream validation reports that).
func parseSchedule(cj *batchv1.CronJob) (cron.Schedule, *time.Location, bool) {
	sched, err := schedule.Parse(cj.Spec.Schedule)
	if err != nil {
		return nil, nil, false
	}
	loc, err := schedule.LoadLocation(cj.Spec.TimeZone)
	if err != nil {
		return nil, nil, false
	}
	return sched, loc, true
}

// parsedSchedule returns the schedule and zone parsed once per object.
func (o object) parsedSchedule() (cron.Schedule, *time.Location, bool) {
	return o.sched, o.loc, o.sched != nil
}

func checkFrequency(o object) []hit {
	sched, loc, ok := o.parsedSchedule()
	if !ok {
		return nil
	}
	limit := o.cfg.minInterval()
	gap, below := schedule.IntervalBelow(sched, loc, o.now, frequencyWindow, limit, frequencyMaxFires)
	if !below {
		return nil
	}
	return []hit{{RuleScheduleTooFrequent, "spec.schedule",
		fmt.Sprintf("schedule %q runs as often as every %s, more often than the minimum interval of %s (minScheduleInterval)",
			o.cronJob.Spec.Schedule, shortDuration(gap), shortDuration(limit))}}
}

func checkDST(o object) []hit {
	sched, loc, ok := o.parsedSchedule()
	if !ok || o.cronJob.Spec.TimeZone == nil {
		return nil
	}
	issues := schedule.DSTIssues(sched, loc, o.now, dstHorizon)
	var out []hit
	for _, kind := range []schedule.DSTKind{schedule.DSTGap, schedule.DSTOverlap} {
		var first *schedule.DSTIssue
		n := 0
		for i := range issues {
			if issues[i].Kind == kind {
				if first == nil {
					first = &issues[i]
				}
				n++
			}
		}
		if first == nil {
			continue
		}
		msg := fmt.Sprintf("schedule %q: %s", o.cronJob.Spec.Schedule, first.Message)
		if n > 1 {
			msg += fmt.Sprintf(" (%d more such run(s) in the next year)", n-1)
		}
		out = append(out, hit{RuleScheduleDST, "spec.schedule", msg})
	}
	return out
}

func checkActiveDeadline(o object) []hit {
	js, p := o.jobSpec()
	if js.ActiveDeadlineSeconds != nil {
		return nil
	}
	return []hit{{RuleActiveDeadlineUnset, p + ".activeDeadlineSeconds",
		"activeDeadlineSeconds is not set: a hung run is never stopped"}}
}

func checkTTL(o object) []hit {
	if o.job.Spec.TTLSecondsAfterFinished != nil {
		return nil
	}
	return []hit{{RuleTTLUnset, "spec.ttlSecondsAfterFinished",
		"ttlSecondsAfterFinished is not set: the finished Job and its pods are never deleted"}}
}

func checkRestartPolicy(o object) []hit {
	ps, p := o.podSpec()
	if ps.RestartPolicy != corev1.RestartPolicyOnFailure {
		return nil
	}
	return []hit{{RuleRestartPolicyOnFailure, p + ".restartPolicy",
		"restartPolicy is OnFailure: failed containers restart in place and the logs of failed attempts are lost"}}
}

// container is one container of the pod template with its field path.
type container struct {
	c     *corev1.Container
	field string
}

// containers lists init containers and containers with their field paths.
func (o object) containers() []container {
	ps, p := o.podSpec()
	var out []container
	for i := range ps.InitContainers {
		out = append(out, container{&ps.InitContainers[i], fmt.Sprintf("%s.initContainers[%d]", p, i)})
	}
	for i := range ps.Containers {
		out = append(out, container{&ps.Containers[i], fmt.Sprintf("%s.containers[%d]", p, i)})
	}
	return out
}

func checkImages(o object) []hit {
	var out []hit
	for _, c := range o.containers() {
		if msg := mutableImage(c.c.Image); msg != "" {
			out = append(out, hit{RuleImageTag, c.field + ".image", fmt.Sprintf("container %q: %s", c.c.Name, msg)})
		}
	}
	return out
}

// mutableImage says why image is not pinned, or "" when it has a version tag
// or a digest (or is empty, which upstream validation reports).
func mutableImage(image string) string {
	image = strings.TrimSpace(image)
	if image == "" || strings.Contains(image, "@") {
		return ""
	}
	name := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(name, ":")
	switch {
	case i < 0:
		return fmt.Sprintf("image %q has no tag, which means :latest", image)
	case name[i+1:] == "latest":
		return fmt.Sprintf("image %q uses the :latest tag", image)
	}
	return ""
}

func checkResources(o object) []hit {
	var out []hit
	for _, c := range o.containers() {
		if len(c.c.Resources.Requests) == 0 && len(c.c.Resources.Limits) == 0 {
			out = append(out, hit{RuleResourcesUnset, c.field + ".resources",
				fmt.Sprintf("container %q sets no resource requests or limits", c.c.Name)})
		}
	}
	return out
}

func checkEnvSecrets(o object) []hit {
	var out []hit
	for _, c := range o.containers() {
		for j, e := range c.c.Env {
			if e.Value == "" || e.ValueFrom != nil || !secretLikeName(e.Name) || onlyReferences(e.Value) {
				continue
			}
			// Never repeat the value: findings end up in CI logs.
			out = append(out, hit{RuleEnvLiteralSecret, fmt.Sprintf("%s.env[%d].value", c.field, j),
				fmt.Sprintf("container %q: env %s has a literal value that looks like a secret", c.c.Name, e.Name)})
		}
	}
	return out
}

// secretWords mark an env name as secret-like; secretExempt suffixes mark a
// name that points at a secret rather than holding one.
var (
	secretWords  = []string{"PASSWORD", "PASSWD", "TOKEN", "SECRET", "API_KEY", "APIKEY", "PRIVATE_KEY", "ACCESS_KEY", "CREDENTIAL"}
	secretExempt = []string{"_FILE", "_PATH", "_DIR", "_NAME", "_ENDPOINT"}
)

func secretLikeName(name string) bool {
	up := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	for _, s := range secretExempt {
		if strings.HasSuffix(up, s) {
			return false
		}
	}
	for _, w := range secretWords {
		if strings.Contains(up, w) {
			return true
		}
	}
	return false
}

// onlyReferences reports whether v is nothing but $(VAR) references, which
// Kubernetes expands from other variables (themselves checked).
func onlyReferences(v string) bool {
	for v != "" {
		if !strings.HasPrefix(v, "$(") {
			return false
		}
		end := strings.IndexByte(v, ')')
		if end < 0 {
			return false
		}
		v = v[end+1:]
	}
	return true
}

// shortDuration formats d without trailing zero units ("5m", "1h30m").
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
