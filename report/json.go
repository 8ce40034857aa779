package report

import (
	"encoding/json"
	"io"

	"github.com/jobsync/jobsync/manifests"
)

// The -o json document, field for field as DESIGN.md fixes it. Errors and
// warnings are always arrays (never null).
type jsonDoc struct {
	Results []jsonResult `json:"results"`
	Summary jsonSummary  `json:"summary"`
}

type jsonResult struct {
	File       string        `json:"file"`
	Line       int           `json:"line"`
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Namespace  string        `json:"namespace"`
	Name       string        `json:"name"`
	Valid      bool          `json:"valid"`
	Errors     []jsonError   `json:"errors"`
	Warnings   []jsonWarning `json:"warnings"`
}

type jsonError struct {
	Field   string `json:"field"`
	Type    string `json:"type"`
	Message string `json:"message"`
	Rule    string `json:"rule"`
}

type jsonWarning struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Rule    string `json:"rule"`
}

type jsonSummary struct {
	Objects  int `json:"objects"`
	Valid    int `json:"valid"`
	Invalid  int `json:"invalid"`
	Warnings int `json:"warnings"`
}

func writeJSON(w io.Writer, results []manifests.Result) error {
	doc := jsonDoc{Results: make([]jsonResult, 0, len(results))}
	for i := range results {
		r := &results[i]
		jr := jsonResult{
			File: r.File, Line: r.Line, APIVersion: r.APIVersion, Kind: r.Kind,
			Namespace: r.Namespace, Name: r.Name, Valid: r.Valid(),
			Errors:   make([]jsonError, 0, len(r.Errors)),
			Warnings: make([]jsonWarning, 0, len(r.Warnings)),
		}
		for _, f := range r.Errors {
			jr.Errors = append(jr.Errors, jsonError{Field: f.Field, Type: f.Type, Message: f.Message, Rule: f.Rule})
		}
		for _, f := range r.Warnings {
			jr.Warnings = append(jr.Warnings, jsonWarning{Field: f.Field, Message: f.Message, Rule: f.Rule})
		}
		doc.Results = append(doc.Results, jr)
	}
	s := Summarize(results)
	doc.Summary = jsonSummary{Objects: s.Objects, Valid: s.Valid, Invalid: s.Invalid, Warnings: s.Warnings}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
