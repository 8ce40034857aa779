package jobchange

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// Annotation chooses how a changed Job is replaced.
const Annotation = "jobsync.io/on-change"

// Mode is a value of Annotation.
type Mode string

// Modes of Annotation.
const (
	RecreateWhenFinished Mode = "recreate-when-finished"
	Recreate             Mode = "recreate"
	Ignore               Mode = "ignore"
)

// ParseMode reads an Annotation value; "" is RecreateWhenFinished.
func ParseMode(v string) (Mode, error) {
	switch m := Mode(v); m {
	case "":
		return RecreateWhenFinished, nil
	case RecreateWhenFinished, Recreate, Ignore:
		return m, nil
	}
	return "", fmt.Errorf("%s: %q is not a mode: use %s, %s or %s", Annotation, v, RecreateWhenFinished, Recreate, Ignore)
}

// State is what the existing Job is doing.
type State int

// States of a Job.
const (
	Running   State = iota // may still run pods
	Finished               // Complete or Failed
	Suspended              // spec.suspend: runs no pods
)

// Action is what to do with the existing Job.
type Action int

// Actions of a Decision.
const (
	ReplaceNow Action = iota // delete it and create the new spec
	Defer                    // leave it; replace it once it has finished
	Keep                     // leave it for good (the change is ignored)
)

// Decision is Decide's answer, with the reason a user reads.
type Decision struct {
	Action Action
	Reason string
}

// Reasons of the decisions that leave the old Job.
const (
	ReasonDeferred = "spec changed while the Job is running: it is recreated once it finishes (" + Annotation + ": " + string(RecreateWhenFinished) + ")"
	ReasonIgnored  = "spec changed; the existing Job is kept (" + Annotation + ": " + string(Ignore) + ")"
)

// Decide says what to do with an existing Job in state whose spec changed
// and cannot be updated in place, per the new spec's Annotation value. An
// unknown value is an error (and the old Job is left).
func Decide(annotation string, state State) (Decision, error) {
	mode, err := ParseMode(annotation)
	if err != nil {
		return Decision{Action: Keep}, err
	}
	switch {
	case mode == Ignore:
		return Decision{Action: Keep, Reason: ReasonIgnored}, nil
	case mode == RecreateWhenFinished && state == Running:
		return Decision{Action: Defer, Reason: ReasonDeferred}, nil
	}
	return Decision{Action: ReplaceNow}, nil
}

// StateOf returns the Job's state: finished first, then suspended.
func StateOf(j *batchv1.Job) State {
	switch {
	case FinishedCondition(j) != nil:
		return Finished
	case ptr.Deref(j.Spec.Suspend, false):
		return Suspended
	}
	return Running
}

// FinishedCondition returns the Job's Complete or Failed condition that is
// True, or nil while it has not finished.
func FinishedCondition(j *batchv1.Job) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		c := &j.Status.Conditions[i]
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// FinishedType is the type of FinishedCondition (Complete or Failed), or "".
func FinishedType(j *batchv1.Job) batchv1.JobConditionType {
	if c := FinishedCondition(j); c != nil {
		return c.Type
	}
	return ""
}
