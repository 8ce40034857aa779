package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/jobsync/jobsync/manifests"
)

var casesDir = flag.String("cases", filepath.Join("..", "manifests", "testdata", "cases"), "directory of validation fixtures (*.yaml) for TestConformance")

// verdict is valid or not, and the field paths of the errors.
type verdict struct {
	valid  bool
	fields []string // sorted, unique
	// detail is what produced the verdict (the server's message), for reports.
	detail string
}

func (v verdict) String() string {
	if v.valid {
		return "valid"
	}
	if v.unplaced() {
		return "invalid (no field path)"
	}
	return "invalid " + fmt.Sprint(v.fields)
}

// unplaced reports an error without a field path: the server's decode
// errors for some values (a malformed quantity) name none.
func (v verdict) unplaced() bool { return !v.valid && slices.Equal(v.fields, []string{""}) }

// agrees compares validity and field paths; when the server names no field
// (server.unplaced), validity only.
func (v verdict) agrees(server verdict) bool {
	if server.unplaced() {
		return v.valid == server.valid
	}
	return v.valid == server.valid && slices.Equal(v.fields, server.fields)
}

func newVerdict(fields []string, detail string) verdict {
	v := verdict{valid: len(fields) == 0, detail: detail}
	seen := map[string]bool{}
	for _, f := range fields {
		if !seen[f] {
			seen[f] = true
			v.fields = append(v.fields, f)
		}
	}
	sort.Strings(v.fields)
	return v
}

// TestConformance sends every validation fixture to the real kube-apiserver
// (create with dryRun=All and fieldValidation=Strict, the body exactly as in
// the file) and checks that manifests.Check, what `jobsync validate` runs,
// reaches the same verdict: valid or not, and the same set of field paths.
// It logs the agreement count and lists every disagreement in the failure.
func TestConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(*casesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no fixtures in %s: the conformance test needs manifests/testdata/cases/*.yaml (one object each, headed by `# want: valid` or `# want: <CauseType> <field.path>` lines)", *casesDir)
	}
	sort.Strings(files)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv := newDryRunner(t, ctx)
	var disagree, headerOff []string
	unplaced := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		server := srv.verdict(ctx, t, data)
		ours := check(name, data)
		if server.unplaced() {
			unplaced++
		}
		t.Logf("%s: ours %s, server %s", name, ours, server)
		if !ours.agrees(server) {
			disagree = append(disagree, fmt.Sprintf("%s: ours %s, server %s (server said: %s)", name, ours, server, server.detail))
		}
		if want, ok := headerVerdict(data); ok && !want.agrees(server) {
			headerOff = append(headerOff, fmt.Sprintf("%s: header says %s, server %s", name, want, server))
		}
	}
	agree := len(files) - len(disagree)
	summary := fmt.Sprintf("conformance: %d/%d fixtures agree with kube-apiserver (dryRun=All, fieldValidation=Strict); %d disagree; %d compared on validity only (the server named no field)",
		agree, len(files), len(disagree), unplaced)
	t.Log(summary)
	fmt.Println(summary)
	for _, h := range headerOff {
		t.Logf("fixture header differs from the server (fix the fixture): %s", h)
	}
	if len(disagree) > 0 {
		t.Errorf("%s:\n  %s", summary, strings.Join(disagree, "\n  "))
	}
}

// check runs manifests.Check on one fixture; a panic is a verdict too (and
// a bug to fix), so that one fixture cannot hide the others.
func check(name string, data []byte) (v verdict) {
	defer func() {
		if r := recover(); r != nil {
			v = verdict{fields: []string{fmt.Sprintf("<panic: %v>", r)}}
		}
	}()
	return oursVerdict(manifests.Check([]manifests.Input{{File: name, Line: 1, Data: data}}, manifests.DefaultOptions()))
}

// oursVerdict is manifests.Check's verdict on one document: its upstream errors.
func oursVerdict(res []manifests.Result) verdict {
	var fields []string
	for _, r := range res {
		for _, e := range r.Errors {
			if e.Rule == manifests.RuleUpstream || e.Rule == "" {
				fields = append(fields, e.Field)
			}
		}
		if len(r.Errors) > 0 && len(fields) == 0 {
			fields = append(fields, "")
		}
	}
	return newVerdict(fields, "")
}

// headerVerdict reads the fixture's `# want:` lines.
func headerVerdict(data []byte) (verdict, bool) {
	var fields []string
	found := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "#") {
			break
		}
		w, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(line, "#")), "want:")
		if !ok {
			continue
		}
		found = true
		parts := strings.Fields(w)
		if len(parts) == 1 && parts[0] == "valid" {
			continue
		}
		if len(parts) >= 2 {
			fields = append(fields, parts[1])
		} else {
			fields = append(fields, "")
		}
	}
	return newVerdict(fields, ""), found
}

// dryRunner sends documents to the API server as they are.
type dryRunner struct {
	client     kubernetes.Interface
	mapper     *restmapper.DeferredDiscoveryRESTMapper
	namespaces map[string]bool
	defaultNS  string
}

func newDryRunner(t *testing.T, ctx context.Context) *dryRunner {
	ns := newNamespace(t, ctx, "conformance")
	cfg := env.RESTConfig()
	cfg.WarningHandler = rest.NoWarnings{} // warnings are not verdicts
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &dryRunner{
		client:     client,
		mapper:     restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(env.Client.Discovery())),
		namespaces: map[string]bool{ns: true}, defaultNS: ns,
	}
}

// head is what routes a document: its kind and namespace.
type head struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

// path returns the collection URL the document is created in. Documents
// that do not say what they are go to batch/v1 Jobs, where the server
// rejects them in its own words.
func (d *dryRunner) path(ctx context.Context, t *testing.T, data []byte) string {
	var h head
	_ = yaml.Unmarshal(data, &h)
	gvr := schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	namespaced := true
	if gv, err := schema.ParseGroupVersion(h.APIVersion); err == nil && h.Kind != "" {
		if m, err := d.mapper.RESTMapping(gv.WithKind(h.Kind).GroupKind(), gv.Version); err == nil {
			gvr, namespaced = m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace
		}
	}
	prefix := "/apis/" + gvr.Group + "/" + gvr.Version
	if gvr.Group == "" {
		prefix = "/api/" + gvr.Version
	}
	if !namespaced {
		return prefix + "/" + gvr.Resource
	}
	ns := h.Metadata.Namespace
	if ns == "" {
		ns = d.defaultNS
	}
	d.ensureNamespace(ctx, t, ns)
	return prefix + "/namespaces/" + ns + "/" + gvr.Resource
}

// ensureNamespace creates a namespace a fixture names, so that the dry run
// judges the object and not the namespace's absence.
func (d *dryRunner) ensureNamespace(ctx context.Context, t *testing.T, ns string) {
	if d.namespaces[ns] {
		return
	}
	d.namespaces[ns] = true
	_, err := env.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) && !apierrors.IsInvalid(err) {
		t.Fatalf("Namespace/%s: %v", ns, err)
	}
}

// verdict creates the document with dryRun=All and fieldValidation=Strict.
func (d *dryRunner) verdict(ctx context.Context, t *testing.T, data []byte) verdict {
	rc := d.client.Discovery().RESTClient()
	err := rc.Post().AbsPath(d.path(ctx, t, data)).
		Param("dryRun", metav1.DryRunAll).Param("fieldValidation", "Strict").
		SetHeader("Content-Type", "application/yaml").Body(data).Do(ctx).Error()
	if err == nil {
		return newVerdict(nil, "created (dry run)")
	}
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		t.Fatalf("dry run: %v", err)
	}
	return statusVerdict(se.Status())
}

// Field paths in the server's decode errors, which come without causes.
var (
	strictField = regexp.MustCompile(`(?:unknown|duplicate) field "([^"]+)"`)
	typeField   = regexp.MustCompile(`Go struct field [A-Za-z0-9_]+\.([^ ]+) of type`)
)

func statusVerdict(st metav1.Status) verdict {
	var fields []string
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			fields = append(fields, c.Field)
		}
	}
	if len(fields) == 0 {
		for _, re := range []*regexp.Regexp{strictField, typeField} {
			for _, m := range re.FindAllStringSubmatch(st.Message, -1) {
				fields = append(fields, m[1])
			}
		}
	}
	if len(fields) == 0 {
		fields = []string{""}
	}
	return newVerdict(fields, fmt.Sprintf("%s %d: %s", st.Reason, st.Code, st.Message))
}
