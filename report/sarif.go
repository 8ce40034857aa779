package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jobsync/jobsync/manifests"
)

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	toolName     = "jobsync"
	toolURI      = "https://github.com/jobsync/jobsync"
	srcRoot      = "%SRCROOT%"
	// fingerprintKey names jobsync's own partial fingerprint: it follows the
	// object, field and rule rather than the line, so moving a document keeps
	// the alert.
	fingerprintKey = "jobsyncFinding/v1"
)

// upstreamRule describes manifests.RuleUpstream when the caller does not.
var upstreamRule = Rule{
	ID:        manifests.RuleUpstream,
	Severity:  SeverityError,
	Summary:   "The Kubernetes API server would reject or warn about this object.",
	Rationale: "jobsync decodes strictly and runs the API server's own validation for batch/v1 Job and CronJob, so a finding here means kubectl apply would fail (or warn) the same way.",
	Hint:      "Fix the field named in the message; the message is the API server's own.",
	HelpURI:   toolURI + "/blob/main/docs/validate.md",
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                   `json:"tool"`
	OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
	Results            []sarifResult               `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifText       `json:"shortDescription"`
	FullDescription      sarifText       `json:"fullDescription"`
	Help                 sarifText       `json:"help"`
	HelpURI              string          `json:"helpUri,omitempty"`
	DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
	Properties           sarifRuleProps  `json:"properties"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags            []string `json:"tags"`
	Precision       string   `json:"precision"`
	ProblemSeverity string   `json:"problem.severity"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           *sarifRegion     `json:"region,omitempty"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

func writeSARIF(w io.Writer, results []manifests.Result, opts Options) error {
	rules, index := sarifRules(results, opts.Rules)
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: toolName, Version: opts.ToolVersion, InformationURI: toolURI, Rules: rules,
		}},
		Results: []sarifResult{},
	}
	if opts.SourceRoot != "" {
		run.OriginalURIBaseIDs = map[string]sarifArtifactLoc{srcRoot: {URI: dirURI(opts.SourceRoot)}}
	}
	for i := range results {
		r := &results[i]
		for j := range r.Errors {
			run.Results = append(run.Results, sarifFinding(r, &r.Errors[j], "error", index))
		}
		for j := range r.Warnings {
			run.Results = append(run.Results, sarifFinding(r, &r.Warnings[j], "warning", index))
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

func sarifFinding(r *manifests.Result, f *manifests.Finding, level string, index map[string]int) sarifResult {
	id := ruleID(f)
	msg := f.Message
	if f.Field != "" {
		msg = f.Field + ": " + msg
	}
	if s := ref(r); s != "" {
		msg = s + ": " + msg
	}
	if f.Hint != "" {
		msg += "\n" + f.Hint
	}
	loc := sarifPhysical{ArtifactLocation: artifactLocation(fileName(r))}
	if line := findingLine(r, f); line > 0 {
		loc.Region = &sarifRegion{StartLine: line}
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{r.File, r.APIVersion, ref(r), f.Field, id, level}, "\x00")))
	return sarifResult{
		RuleID: id, RuleIndex: index[id], Level: level,
		Message:             sarifText{Text: msg},
		Locations:           []sarifLocation{{PhysicalLocation: loc}},
		PartialFingerprints: map[string]string{fingerprintKey: hex.EncodeToString(sum[:16])},
	}
}

// ruleID is the finding's rule, with findings that carry none counted as upstream.
func ruleID(f *manifests.Finding) string {
	if f.Rule == "" {
		return manifests.RuleUpstream
	}
	return f.Rule
}

// sarifRules lists the upstream rule, then the described rules in their order,
// then any rule id the findings carry that neither covers (sorted).
func sarifRules(results []manifests.Result, described []Rule) ([]sarifRule, map[string]int) {
	all := []Rule{upstreamRule}
	index := map[string]int{manifests.RuleUpstream: 0}
	for _, r := range described {
		if _, ok := index[r.ID]; ok {
			if r.ID == manifests.RuleUpstream {
				all[0] = r
			}
			continue
		}
		index[r.ID] = len(all)
		all = append(all, r)
	}
	var extra []string
	seen := map[string]bool{}
	for i := range results {
		for _, fs := range [][]manifests.Finding{results[i].Errors, results[i].Warnings} {
			for j := range fs {
				id := ruleID(&fs[j])
				if _, ok := index[id]; !ok && !seen[id] {
					seen[id] = true
					extra = append(extra, id)
				}
			}
		}
	}
	sort.Strings(extra)
	for _, id := range extra {
		index[id] = len(all)
		all = append(all, Rule{ID: id, Severity: SeverityWarning})
	}
	out := make([]sarifRule, 0, len(all))
	for _, r := range all {
		out = append(out, toSARIFRule(r))
	}
	return out, index
}

func toSARIFRule(r Rule) sarifRule {
	short := r.Summary
	if short == "" {
		short = "jobsync rule " + r.ID
	}
	full := strings.TrimSpace(short + " " + r.Rationale)
	help := full
	md := "**" + short + "**"
	if r.Rationale != "" {
		md += "\n\n" + r.Rationale
	}
	if r.Hint != "" {
		help += "\nFix: " + r.Hint
		md += "\n\n**Fix:** " + r.Hint
	}
	level := "warning"
	severity := "warning"
	if r.Severity == SeverityError {
		level, severity = "error", "error"
	}
	tags := []string{"kubernetes", "batch"}
	if r.ID != manifests.RuleUpstream {
		tags = append(tags, "policy")
	}
	return sarifRule{
		ID: r.ID, Name: ruleName(r.ID),
		ShortDescription:     sarifText{Text: short},
		FullDescription:      sarifText{Text: full},
		Help:                 sarifText{Text: help, Markdown: md},
		HelpURI:              r.HelpURI,
		DefaultConfiguration: sarifRuleConfig{Level: level},
		Properties:           sarifRuleProps{Tags: tags, Precision: "very-high", ProblemSeverity: severity},
	}
}

// ruleName turns a kebab-case id into the PascalCase name SARIF viewers show.
func ruleName(id string) string {
	var b strings.Builder
	up := true
	for _, c := range id {
		switch {
		case c == '-' || c == '_' || c == '.' || c == '/':
			up = true
		case up && c >= 'a' && c <= 'z':
			b.WriteRune(c - 'a' + 'A')
			up = false
		default:
			b.WriteRune(c)
			up = false
		}
	}
	return b.String()
}

// artifactLocation turns a file name into a SARIF artifact location: relative
// names become URI references relative to %SRCROOT%, absolute ones file URIs.
func artifactLocation(file string) sarifArtifactLoc {
	slash := filepath.ToSlash(file)
	if path.IsAbs(slash) {
		return sarifArtifactLoc{URI: (&url.URL{Scheme: "file", Path: slash}).String()}
	}
	return sarifArtifactLoc{URI: (&url.URL{Path: slash}).String(), URIBaseID: srcRoot}
}

// dirURI is the file URI of an absolute directory, with the trailing slash
// SARIF requires of a base URI.
func dirURI(dir string) string {
	slash := filepath.ToSlash(dir)
	if !strings.HasSuffix(slash, "/") {
		slash += "/"
	}
	return (&url.URL{Scheme: "file", Path: slash}).String()
}
