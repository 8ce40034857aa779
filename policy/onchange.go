package policy

import "github.com/jobsync/jobsync/jobchange"

// checkOnChange reports a jobsync.io/on-change value the targets would
// refuse when the Job changes (see package jobchange).
func checkOnChange(o object) []hit {
	if o.job == nil {
		return nil
	}
	v, ok := o.job.Annotations[jobchange.Annotation]
	if !ok {
		return nil
	}
	if _, err := jobchange.ParseMode(v); err != nil {
		return []hit{{RuleOnChangeAnnotation, "metadata.annotations[" + jobchange.Annotation + "]", err.Error()}}
	}
	return nil
}
