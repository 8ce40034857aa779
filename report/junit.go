package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/jobsync/jobsync/manifests"
)

// JUnit XML: one testsuite per file (in the order files first appear), one
// testcase per object, one failure per error; warnings go to the testcase's
// system-out and objects jobsync does not check are skipped.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	File      string         `xml:"file,attr"`
	Line      int            `xml:"line,attr,omitempty"`
	Skipped   *junitSkipped  `xml:"skipped"`
	Failures  []junitFailure `xml:"failure"`
	SystemOut string         `xml:"system-out,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, results []manifests.Result) error {
	doc := junitSuites{Name: toolName}
	byFile := map[string]int{}
	for i := range results {
		r := &results[i]
		file := fileName(r)
		si, ok := byFile[file]
		if !ok {
			si = len(doc.Suites)
			byFile[file] = si
			doc.Suites = append(doc.Suites, junitSuite{Name: file})
		}
		s := &doc.Suites[si]
		c := junitTestcase(r)
		s.Tests++
		doc.Tests++
		if len(c.Failures) > 0 {
			s.Failures++
			doc.Failures++
		}
		if c.Skipped != nil {
			s.Skipped++
			doc.Skipped++
		}
		s.Cases = append(s.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitTestcase(r *manifests.Result) junitCase {
	file := fileName(r)
	name := ref(r)
	if name == "" {
		name = fmt.Sprintf("document at line %d", r.Line)
	}
	c := junitCase{Name: name, Classname: file, File: file, Line: r.Line}
	if notChecked(r) {
		c.Skipped = &junitSkipped{Message: "not checked: jobsync validates batch/v1 Job and CronJob only"}
	}
	for i := range r.Errors {
		f := &r.Errors[i]
		body := location(file, findingLine(r, f)) + ": " + describe(r, f)
		if f.Hint != "" {
			body += "\n" + f.Hint
		}
		typ := f.Type
		if typ == "" {
			typ = ruleID(f)
		}
		c.Failures = append(c.Failures, junitFailure{Message: fieldMessage(f), Type: typ, Body: body})
	}
	var out strings.Builder
	for i := range r.Warnings {
		f := &r.Warnings[i]
		fmt.Fprintf(&out, "%s: warning: %s\n", location(file, findingLine(r, f)), describe(r, f))
	}
	c.SystemOut = out.String()
	return c
}
