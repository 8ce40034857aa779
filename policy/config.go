package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	yamlv3 "go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// DefaultMinScheduleInterval is the default of minScheduleInterval.
const DefaultMinScheduleInterval = 5 * time.Minute

// Config is the parsed .jobsync.yaml. The zero Config behaves as DefaultConfig.
type Config struct {
	// Rules sets the severity of rules by id; rules not named keep their default.
	Rules map[string]Severity `json:"rules,omitempty"`
	// MinScheduleInterval is the smallest allowed gap between two runs of a
	// CronJob (rule cronjob-schedule-too-frequent); 0 means the default, 5m.
	MinScheduleInterval metav1.Duration `json:"minScheduleInterval,omitempty"`
	// Overrides change severities for files matching their paths; later
	// overrides win over earlier ones and over Rules.
	Overrides []Override `json:"overrides,omitempty"`
}

// Override sets rule severities for some files.
type Override struct {
	// Paths are slash-separated globs matched against Result.File: path.Match
	// per segment, and "**" matches any number of segments ("overlays/dev/**").
	Paths []string `json:"paths"`
	// Rules sets the severity of rules by id for those files.
	Rules map[string]Severity `json:"rules"`
}

// DefaultConfig returns every rule at its default severity.
func DefaultConfig() Config {
	return Config{MinScheduleInterval: metav1.Duration{Duration: DefaultMinScheduleInterval}}
}

// UnmarshalJSON accepts off, warning and error. YAML 1.1 (which
// sigs.k8s.io/yaml reads) turns an unquoted off (or no) into the boolean
// false, which reaches here as false or "false": that means off too.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		if !v {
			*s = SeverityOff
			return nil
		}
	case string:
		if v == "false" {
			*s = SeverityOff
			return nil
		}
		if sev := Severity(v); sev.valid() {
			*s = sev
			return nil
		}
	}
	return fmt.Errorf("invalid severity %s: use off, warning or error (an unquoted yes or on reads as true)", b)
}

func (s Severity) valid() bool {
	return s == SeverityOff || s == SeverityWarning || s == SeverityError
}

// LoadConfig reads a .jobsync.yaml file strictly: unknown keys, unknown rule
// ids, bad severities, bad globs and wrong types are errors naming the file,
// the line where known, and the field ("x/.jobsync.yaml:3: rules.foo: unknown
// rule id ...").
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("policy config: %w", err)
	}
	cfg, err := parseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s:%w", path, err)
	}
	return cfg, nil
}

// parseConfig parses the contents of a .jobsync.yaml; its errors start with
// the line and a colon ("3: rules.foo: ...") when the line is known, else
// with a space.
func parseConfig(data []byte) (Config, error) {
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(data, &root); err != nil {
		return Config{}, fmt.Errorf(" %w", err)
	}
	if err := checkKeys(&root); err != nil {
		return Config{}, err
	}
	cfg := DefaultConfig()
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return Config{}, fmt.Errorf(" %w", err)
	}
	if cfg.MinScheduleInterval.Duration == 0 {
		cfg.MinScheduleInterval.Duration = DefaultMinScheduleInterval
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf(" %w", err)
	}
	return cfg, nil
}

// lineError is a config problem at a line and field.
func lineError(n *yamlv3.Node, field, format string, args ...any) error {
	return fmt.Errorf("%d: %s: %s", n.Line, field, fmt.Sprintf(format, args...))
}

// checkKeys walks the YAML tree and reports the first unknown key or rule id
// with its line (sigs.k8s.io/yaml's strict mode knows no lines).
func checkKeys(root *yamlv3.Node) error {
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil // empty file: defaults
	}
	doc := root.Content[0]
	if doc.Kind != yamlv3.MappingNode {
		return lineError(doc, "(root)", "must be a mapping with rules, minScheduleInterval and overrides")
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		switch k.Value {
		case "rules":
			if err := checkRuleKeys(v, "rules"); err != nil {
				return err
			}
		case "minScheduleInterval":
			if d, err := time.ParseDuration(v.Value); v.Kind == yamlv3.ScalarNode && (err != nil || d < 0) {
				return lineError(v, k.Value, "invalid duration %q: use a Go duration such as 5m or 1h30m", v.Value)
			}
		case "overrides":
			if err := checkOverrideKeys(v); err != nil {
				return err
			}
		default:
			return lineError(k, k.Value, "unknown field (known: rules, minScheduleInterval, overrides)")
		}
	}
	return nil
}

func checkRuleKeys(m *yamlv3.Node, field string) error {
	if m.Kind != yamlv3.MappingNode {
		return nil // the strict decode reports the type
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if _, ok := lookup(k.Value); !ok {
			return lineError(k, field+"."+k.Value, "unknown rule id (known: %s)", ruleIDs())
		}
		if v.Kind == yamlv3.ScalarNode && !yamlSeverity(v.Value) {
			return lineError(v, field+"."+k.Value, "invalid severity %q: use off, warning or error", v.Value)
		}
	}
	return nil
}

// yamlSeverity reports whether a YAML 1.1 scalar decodes to a severity: warning,
// error, or off and the other spellings of false (which mean off).
func yamlSeverity(v string) bool {
	switch v {
	case "warning", "error", "off", "Off", "OFF", "false", "False", "FALSE", "no", "No", "NO", "n", "N":
		return true
	}
	return false
}

func checkOverrideKeys(seq *yamlv3.Node) error {
	if seq.Kind != yamlv3.SequenceNode {
		return nil
	}
	for i, o := range seq.Content {
		if o.Kind != yamlv3.MappingNode {
			continue
		}
		field := fmt.Sprintf("overrides[%d]", i)
		for j := 0; j+1 < len(o.Content); j += 2 {
			k, v := o.Content[j], o.Content[j+1]
			switch k.Value {
			case "paths":
			case "rules":
				if err := checkRuleKeys(v, field+".rules"); err != nil {
					return err
				}
			default:
				return lineError(k, field+"."+k.Value, "unknown field (known: paths, rules)")
			}
		}
	}
	return nil
}

// Validate checks a Config built in code or loaded: rule ids, severities,
// globs and the interval.
func (c Config) Validate() error {
	var errs []error
	errs = append(errs, validateRules(c.Rules, "rules")...)
	if c.MinScheduleInterval.Duration < 0 {
		errs = append(errs, fmt.Errorf("minScheduleInterval: must not be negative, got %s", c.MinScheduleInterval.Duration))
	}
	for i, o := range c.Overrides {
		field := fmt.Sprintf("overrides[%d]", i)
		if len(o.Paths) == 0 {
			errs = append(errs, fmt.Errorf("%s.paths: required: list the globs this override applies to", field))
		}
		for j, p := range o.Paths {
			if err := validGlob(p); err != nil {
				errs = append(errs, fmt.Errorf("%s.paths[%d]: %q: %w", field, j, p, err))
			}
		}
		errs = append(errs, validateRules(o.Rules, field+".rules")...)
	}
	return errors.Join(errs...)
}

func validateRules(m map[string]Severity, field string) []error {
	var errs []error
	for id, sev := range m {
		if _, ok := lookup(id); !ok {
			errs = append(errs, fmt.Errorf("%s.%s: unknown rule id (known: %s)", field, id, ruleIDs()))
		}
		if !sev.valid() {
			errs = append(errs, fmt.Errorf("%s.%s: invalid severity %q: use off, warning or error", field, id, sev))
		}
	}
	return errs
}

// severity returns the severity of rule id for an object in file.
func (c Config) severity(r Rule, file string) Severity {
	sev := r.DefaultSeverity
	if s, ok := c.Rules[r.ID]; ok {
		sev = s
	}
	for _, o := range c.Overrides {
		if s, ok := o.Rules[r.ID]; ok && matchAny(o.Paths, file) {
			sev = s
		}
	}
	return sev
}

// minInterval returns the configured minimum schedule interval.
func (c Config) minInterval() time.Duration {
	if c.MinScheduleInterval.Duration <= 0 {
		return DefaultMinScheduleInterval
	}
	return c.MinScheduleInterval.Duration
}

func validGlob(p string) error {
	if p == "" {
		return errors.New("empty glob")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "**" {
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			return err
		}
	}
	return nil
}

func matchAny(globs []string, file string) bool {
	for _, g := range globs {
		if Match(g, file) {
			return true
		}
	}
	return false
}

// Match reports whether the slash-separated file matches glob: each segment
// as path.Match, and a "**" segment matching zero or more segments. A leading
// "./" on either is ignored.
func Match(glob, file string) bool {
	glob = strings.TrimPrefix(glob, "./")
	file = strings.TrimPrefix(file, "./")
	return matchSegs(strings.Split(glob, "/"), strings.Split(file, "/"))
}

func matchSegs(g, f []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for i := 0; i <= len(f); i++ {
				if matchSegs(g[1:], f[i:]) {
					return true
				}
			}
			return false
		}
		if len(f) == 0 {
			return false
		}
		if ok, _ := path.Match(g[0], f[0]); !ok {
			return false
		}
		g, f = g[1:], f[1:]
	}
	return len(f) == 0
}
