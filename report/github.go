package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jobsync/jobsync/manifests"
)

// writeGitHub writes GitHub Actions workflow commands, one annotation per
// finding, then the summary as a plain log line:
//
//	::error file=F,line=L,title=Kind/namespace/name [rule]::field: message
func writeGitHub(w io.Writer, results []manifests.Result) error {
	bw := bufio.NewWriter(w)
	for i := range results {
		r := &results[i]
		for j := range r.Errors {
			githubCommand(bw, "error", r, &r.Errors[j])
		}
		for j := range r.Warnings {
			githubCommand(bw, "warning", r, &r.Warnings[j])
		}
	}
	fmt.Fprintf(bw, "jobsync: %s\n", summaryLine(Summarize(results)))
	return bw.Flush()
}

func githubCommand(w io.Writer, command string, r *manifests.Result, f *manifests.Finding) {
	props := []string{"file=" + escapeProperty(fileName(r))}
	if line := findingLine(r, f); line > 0 {
		props = append(props, "line="+strconv.Itoa(line))
	}
	title := ref(r)
	if title == "" {
		title = "jobsync"
	}
	title += " [" + ruleID(f) + "]"
	props = append(props, "title="+escapeProperty(title))
	msg := f.Message
	if f.Field != "" {
		msg = f.Field + ": " + msg
	}
	if f.Hint != "" {
		msg += "\n" + f.Hint
	}
	fmt.Fprintf(w, "::%s %s::%s\n", command, strings.Join(props, ","), escapeData(msg))
}

// escapeData escapes a workflow command's message: % CR LF.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command property value: as data, plus : and ,.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
