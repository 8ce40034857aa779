package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// sarifShape is, for each SARIF 2.1.0 object this package writes, the
// properties the OASIS schema requires and the ones it allows (the schema sets
// additionalProperties false on all of them), plus the ones GitHub code
// scanning documents as required for an upload.
var sarifShape = map[string]struct{ required, allowed []string }{
	"sarifLog": {
		required: []string{"version", "runs", "$schema"},
		allowed:  []string{"$schema", "version", "runs", "inlineExternalProperties", "properties"},
	},
	"run": {
		required: []string{"tool", "results"},
		allowed: []string{"tool", "invocations", "conversion", "language", "versionControlProvenance",
			"originalUriBaseIds", "artifacts", "logicalLocations", "graphs", "results", "automationDetails",
			"runAggregates", "baselineGuid", "redactionTokens", "defaultEncoding", "defaultSourceLanguage",
			"newlineSequences", "columnKind", "externalPropertyFileReferences", "threadFlowLocations",
			"taxonomies", "addresses", "translations", "policies", "webRequests", "webResponses",
			"specialLocations", "properties"},
	},
	"tool": {required: []string{"driver"}, allowed: []string{"driver", "extensions", "properties"}},
	"toolComponent": {
		required: []string{"name", "rules"},
		allowed: []string{"guid", "name", "organization", "product", "productSuite", "shortDescription",
			"fullDescription", "fullName", "version", "semanticVersion", "dottedQuadFileVersion",
			"releaseDateUtc", "downloadUri", "informationUri", "globalMessageStrings", "notifications",
			"rules", "taxa", "locations", "language", "contents", "isComprehensive",
			"localizedDataSemanticVersion", "minimumRequiredLocalizedDataSemanticVersion",
			"associatedComponent", "translationMetadata", "supportedTaxonomies", "properties"},
	},
	"reportingDescriptor": {
		required: []string{"id", "shortDescription", "fullDescription", "help"},
		allowed: []string{"id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames",
			"shortDescription", "fullDescription", "messageStrings", "defaultConfiguration", "helpUri",
			"help", "relationships", "properties"},
	},
	"multiformatMessageString": {required: []string{"text"}, allowed: []string{"text", "markdown", "properties"}},
	"reportingConfiguration":   {allowed: []string{"enabled", "level", "rank", "parameters", "properties"}},
	"result": {
		required: []string{"message", "ruleId", "locations"},
		allowed: []string{"guid", "correlationGuid", "ruleId", "ruleIndex", "rule", "taxa", "kind", "level",
			"message", "analysisTarget", "locations", "webRequest", "webResponse", "fingerprints",
			"partialFingerprints", "codeFlows", "graphs", "graphTraversals", "stacks", "relatedLocations",
			"suppressions", "baselineState", "rank", "attachments", "hostedViewerUri", "workItemUris",
			"provenance", "fixes", "properties"},
	},
	"message":          {required: []string{"text"}, allowed: []string{"text", "markdown", "id", "arguments", "properties"}},
	"location":         {required: []string{"physicalLocation"}, allowed: []string{"id", "physicalLocation", "logicalLocations", "message", "annotations", "relationships", "properties"}},
	"physicalLocation": {required: []string{"artifactLocation"}, allowed: []string{"address", "artifactLocation", "region", "contextRegion", "properties"}},
	"artifactLocation": {required: []string{"uri"}, allowed: []string{"uri", "uriBaseId", "index", "description", "properties"}},
	"region": {
		required: []string{"startLine"},
		allowed: []string{"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength",
			"byteOffset", "byteLength", "snippet", "message", "sourceLanguage", "properties"},
	},
}

// checker walks a decoded SARIF log and collects every shape violation.
type checker struct{ problems []string }

func (c *checker) failf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// object checks v is an object of the named SARIF kind and returns it.
func (c *checker) object(at, kind string, v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		c.failf("%s: want a %s object, got %T", at, kind, v)
		return nil
	}
	shape := sarifShape[kind]
	for _, k := range shape.required {
		if s, isString := m[k].(string); m[k] == nil || (isString && s == "") {
			c.failf("%s: %s lacks required property %q", at, kind, k)
		}
	}
	allowed := map[string]bool{}
	for _, k := range shape.allowed {
		allowed[k] = true
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !allowed[k] {
			c.failf("%s: %s has property %q that the schema does not allow", at, kind, k)
		}
	}
	return m
}

func (c *checker) array(at string, v any) []any {
	a, ok := v.([]any)
	if !ok {
		c.failf("%s: want an array, got %T", at, v)
	}
	return a
}

func (c *checker) level(at string, v any) {
	switch v {
	case "none", "note", "warning", "error":
	default:
		c.failf("%s: level %v not one of none, note, warning, error", at, v)
	}
}

func (c *checker) log(doc any) {
	log := c.object("$", "sarifLog", doc)
	if log["version"] != "2.1.0" {
		c.failf("$.version = %v, want 2.1.0", log["version"])
	}
	for i, rv := range c.array("$.runs", log["runs"]) {
		at := fmt.Sprintf("$.runs[%d]", i)
		run := c.object(at, "run", rv)
		driver := c.object(at+".tool.driver", "toolComponent", c.object(at+".tool", "tool", run["tool"])["driver"])
		ids := c.rules(at+".tool.driver.rules", c.array(at+".tool.driver.rules", driver["rules"]))
		for i, r := range c.array(at+".results", run["results"]) {
			c.result(fmt.Sprintf("%s.results[%d]", at, i), r, ids)
		}
	}
}

func (c *checker) rules(at string, rules []any) map[string]int {
	ids := map[string]int{}
	for i, rv := range rules {
		rat := fmt.Sprintf("%s[%d]", at, i)
		r := c.object(rat, "reportingDescriptor", rv)
		id, _ := r["id"].(string)
		if _, dup := ids[id]; dup {
			c.failf("%s: duplicate rule id %q", rat, id)
		}
		ids[id] = i
		for _, k := range []string{"shortDescription", "fullDescription", "help"} {
			c.object(rat+"."+k, "multiformatMessageString", r[k])
		}
		if dc, ok := r["defaultConfiguration"]; ok {
			c.level(rat+".defaultConfiguration.level", c.object(rat+".defaultConfiguration", "reportingConfiguration", dc)["level"])
		}
	}
	return ids
}

func (c *checker) result(at string, rv any, ids map[string]int) {
	r := c.object(at, "result", rv)
	c.object(at+".message", "message", r["message"])
	c.level(at+".level", r["level"])
	id, _ := r["ruleId"].(string)
	idx, known := ids[id]
	if !known {
		c.failf("%s: ruleId %q is not in tool.driver.rules", at, id)
	}
	if ri, ok := r["ruleIndex"].(float64); ok && int(ri) != idx {
		c.failf("%s: ruleIndex %v does not point at rule %q (index %d)", at, ri, id, idx)
	}
	locs := c.array(at+".locations", r["locations"])
	if len(locs) == 0 {
		c.failf("%s: no locations (GitHub needs one)", at)
	}
	for j, lv := range locs {
		lat := fmt.Sprintf("%s.locations[%d]", at, j)
		pl := c.object(lat+".physicalLocation", "physicalLocation", c.object(lat, "location", lv)["physicalLocation"])
		al := c.object(lat+".physicalLocation.artifactLocation", "artifactLocation", pl["artifactLocation"])
		if u, _ := al["uri"].(string); u != "" {
			if _, err := url.Parse(u); err != nil || strings.ContainsAny(u, " \\") {
				c.failf("%s: uri %q is not a URI reference", lat, u)
			}
		}
		if rg, ok := pl["region"]; ok {
			if line, _ := c.object(lat+".physicalLocation.region", "region", rg)["startLine"].(float64); line < 1 {
				c.failf("%s: region.startLine %v < 1", lat, line)
			}
		}
	}
}

func TestSARIFShape(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{name: "with rule metadata and source root", opts: Options{Rules: rules(), ToolVersion: "v1.2.3", SourceRoot: "/src/my repo"}},
		{name: "defaults", opts: DefaultOptions()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, FormatSARIF, fixture(), tc.opts); err != nil {
				t.Fatal(err)
			}
			var doc any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("SARIF is not JSON: %v", err)
			}
			var c checker
			c.log(doc)
			for _, p := range c.problems {
				t.Error(p)
			}
			results := doc.(map[string]any)["runs"].([]any)[0].(map[string]any)["results"].([]any)
			if s := Summarize(fixture()); len(results) != s.Errors+s.Warnings {
				t.Errorf("SARIF has %d results, want one per finding (%d)", len(results), s.Errors+s.Warnings)
			}
		})
	}
}

// TestSARIFShapeCheckerCatches keeps the checker honest: broken logs must fail.
func TestSARIFShapeCheckerCatches(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{name: "missing version", doc: `{"$schema":"x","runs":[]}`, want: `lacks required property "version"`},
		{name: "unknown property", doc: `{"$schema":"x","version":"2.1.0","runs":[],"extra":1}`, want: `property "extra"`},
		{name: "result without rule", doc: `{"$schema":"x","version":"2.1.0","runs":[{"tool":{"driver":{"name":"j","rules":[]}},"results":[{"ruleId":"r","level":"error","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"},"region":{"startLine":0}}}]}]}]}`, want: "not in tool.driver.rules"},
		{name: "line zero", doc: `{"$schema":"x","version":"2.1.0","runs":[{"tool":{"driver":{"name":"j","rules":[]}},"results":[{"ruleId":"r","level":"error","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"},"region":{"startLine":0}}}]}]}]}`, want: "startLine 0 < 1"},
		{name: "bad level", doc: `{"$schema":"x","version":"2.1.0","runs":[{"tool":{"driver":{"name":"j","rules":[{"id":"r","shortDescription":{"text":"s"},"fullDescription":{"text":"f"},"help":{"text":"h"}}]}},"results":[{"ruleId":"r","level":"fatal","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"}}}]}]}]}`, want: "level fatal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var doc any
			if err := json.Unmarshal([]byte(tc.doc), &doc); err != nil {
				t.Fatal(err)
			}
			var c checker
			c.log(doc)
			if !strings.Contains(strings.Join(c.problems, "\n"), tc.want) {
				t.Errorf("problems %q do not mention %q", c.problems, tc.want)
			}
		})
	}
}
