package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/jobsync/jobsync/manifests"
	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/cluster"
	"github.com/jobsync/jobsync/render"
)

// deployNamespace is the namespace deploy/ installs into.
const deployNamespace = "jobsync"

// renderDeploy renders deploy/ (a kustomization), the cluster-wide variant
// and the example Secret with the project's render package, as objects.
func renderDeploy(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	opts := render.DefaultOptions()
	opts.Root = ".."
	docs, err := render.Render([]string{"../deploy", "../deploy/cluster-wide", "../deploy/git-credentials.example.yaml"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, d := range docs {
		if d.Err != nil {
			t.Fatalf("%s:%d: %v", d.Origin.File, d.Origin.Line, d.Err)
		}
		if len(d.Data) == 0 {
			continue
		}
		j, err := yaml.YAMLToJSON(d.Data)
		if err != nil {
			t.Fatalf("%s:%d: %v", d.Origin.File, d.Origin.Line, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatalf("%s:%d: %v", d.Origin.File, d.Origin.Line, err)
		}
		out = append(out, u)
	}
	return out
}

// warnings collects the API server's warning headers.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.list
	w.list = nil
	return l
}

// TestDeployDryRun: every object of deploy/ is accepted by the API server in
// a server-side dry run with strict field validation and without warnings
// (the Namespace enforces the restricted Pod Security Standard, so the
// Deployment's pod template is checked against it too).
func TestDeployDryRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	objs := renderDeploy(t)
	kinds := map[string]int{}
	for _, u := range objs {
		kinds[u.GetKind()]++
	}
	for _, k := range []string{"Namespace", "ServiceAccount", "Role", "RoleBinding", "Deployment", "ClusterRole", "ClusterRoleBinding", "Secret"} {
		if kinds[k] == 0 {
			t.Errorf("deploy/ renders no %s (kinds %v)", k, kinds)
		}
	}
	w := &warnings{}
	cfg := env.RESTConfig()
	cfg.WarningHandler = w
	dyn := dynamic.NewForConfigOrDie(cfg)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(env.Client.Discovery()))
	// The Namespace goes first; it is then created for real, as namespaced
	// objects can only be dry-run in a namespace that exists.
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		return boolCmp(b.GetKind() == "Namespace", a.GetKind() == "Namespace")
	})
	for _, u := range objs {
		id := u.GetKind() + "/" + u.GetName()
		m, err := mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			if u.GetNamespace() != deployNamespace {
				t.Errorf("%s: namespace %q, want %q", id, u.GetNamespace(), deployNamespace)
			}
			ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
		}
		// Server-side apply, so that the run passes whether or not an
		// earlier test installed some of the objects for real.
		data, err := u.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		force := true
		_, err = ri.Patch(ctx, u.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
			DryRun: []string{metav1.DryRunAll}, FieldValidation: metav1.FieldValidationStrict,
			FieldManager: "jobsync-deploy-test", Force: &force,
		})
		if err != nil {
			t.Errorf("%s: server-side dry run: %v", id, err)
		}
		if ws := w.take(); len(ws) > 0 {
			t.Errorf("%s: server-side dry run warns: %v", id, ws)
		}
		if u.GetKind() == "Namespace" {
			createForReal(ctx, t, dyn, m, u)
		}
	}
}

// createForReal creates u, unless it exists.
func createForReal(ctx context.Context, t *testing.T, dyn dynamic.Interface, m *meta.RESTMapping, u *unstructured.Unstructured) {
	t.Helper()
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	if _, err := ri.Create(ctx, u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("%s/%s: %v", u.GetKind(), u.GetName(), err)
	}
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// TestDeploySecurity: the Deployment runs non-root on a read-only root
// filesystem with no privilege escalation and no capabilities, has probes
// and resources; the Roles grant no wildcard.
func TestDeploySecurity(t *testing.T) {
	var deps []appsv1.Deployment
	var rules = map[string][]rbacv1.PolicyRule{}
	for _, u := range renderDeploy(t) {
		switch u.GetKind() {
		case "Deployment":
			var d appsv1.Deployment
			fromUnstructured(t, u, &d)
			deps = append(deps, d)
		case "Role":
			var r rbacv1.Role
			fromUnstructured(t, u, &r)
			rules["Role/"+r.Name] = r.Rules
		case "ClusterRole":
			var r rbacv1.ClusterRole
			fromUnstructured(t, u, &r)
			rules["ClusterRole/"+r.Name] = r.Rules
		}
	}
	if len(deps) != 1 || len(rules) != 2 {
		t.Fatalf("deploy/ renders %d Deployments and roles %v; want 1 and a Role and a ClusterRole", len(deps), rules)
	}
	for _, p := range podProblems(deps[0].Spec.Template.Spec) {
		t.Errorf("Deployment/%s: %s", deps[0].Name, p)
	}
	for name, rs := range rules {
		for _, p := range ruleProblems(rs) {
			t.Errorf("%s: %s", name, p)
		}
	}
}

func fromUnstructured(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
		t.Fatalf("%s/%s: %v", u.GetKind(), u.GetName(), err)
	}
}

// podProblems lists what a hardened pod spec must not lack.
func podProblems(spec corev1.PodSpec) []string {
	var out []string
	psc := spec.SecurityContext
	podNonRoot := psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
	if psc == nil || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		out = append(out, "pod securityContext.runAsUser is unset or 0")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		out = append(out, "pod securityContext.seccompProfile is not RuntimeDefault")
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		out = append(out, "uses a host namespace")
	}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		sc := c.SecurityContext
		bad := func(f string, a ...any) {
			out = append(out, fmt.Sprintf("container %s: ", c.Name)+fmt.Sprintf(f, a...))
		}
		if sc == nil {
			bad("no securityContext")
			continue
		}
		if !podNonRoot && (sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot) {
			bad("runAsNonRoot is not true (pod or container)")
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			bad("runAsUser 0")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			bad("readOnlyRootFilesystem is not true")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			bad("allowPrivilegeEscalation is not false")
		}
		if sc.Privileged != nil && *sc.Privileged {
			bad("privileged")
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			bad("capabilities: must drop ALL and add none")
		}
		if c.LivenessProbe == nil || c.ReadinessProbe == nil {
			bad("no liveness or readiness probe")
		}
		if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
			bad("no cpu request or memory request and limit")
		}
	}
	return out
}

// ruleProblems lists wildcards in RBAC rules.
func ruleProblems(rules []rbacv1.PolicyRule) []string {
	var out []string
	for i, r := range rules {
		for field, vals := range map[string][]string{"verbs": r.Verbs, "resources": r.Resources, "apiGroups": r.APIGroups} {
			for _, v := range vals {
				if v == rbacv1.VerbAll || strings.HasSuffix(v, "/*") {
					out = append(out, fmt.Sprintf("rule %d: wildcard %s %q", i, field, v))
				}
			}
		}
		if len(r.NonResourceURLs) > 0 {
			out = append(out, fmt.Sprintf("rule %d: non-resource URLs %v", i, r.NonResourceURLs))
		}
		if slices.ContainsFunc(r.Verbs, func(v string) bool { return v == "escalate" || v == "bind" || v == "impersonate" }) {
			out = append(out, fmt.Sprintf("rule %d: escalating verbs %v", i, r.Verbs))
		}
	}
	return out
}

// TestDeployCheckers: the checks above catch what they look for.
func TestDeployCheckers(t *testing.T) {
	root, yes := int64(0), true
	tests := []struct {
		name  string
		pod   corev1.PodSpec
		rules []rbacv1.PolicyRule
		want  []string
	}{
		{
			name: "bare pod",
			pod:  corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}},
			want: []string{"pod securityContext.runAsUser is unset or 0", "pod securityContext.seccompProfile is not RuntimeDefault", "container c: no securityContext"},
		},
		{
			name: "root, writable",
			pod: corev1.PodSpec{
				SecurityContext: &corev1.PodSecurityContext{RunAsUser: &root},
				Containers:      []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{Privileged: &yes, AllowPrivilegeEscalation: &yes}}},
			},
			want: []string{
				"pod securityContext.runAsUser is unset or 0", "pod securityContext.seccompProfile is not RuntimeDefault",
				"container c: runAsNonRoot is not true (pod or container)", "container c: readOnlyRootFilesystem is not true",
				"container c: allowPrivilegeEscalation is not false", "container c: privileged",
				"container c: capabilities: must drop ALL and add none", "container c: no liveness or readiness probe",
				"container c: no cpu request or memory request and limit",
			},
		},
		{
			name:  "wildcards",
			rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"pods/*"}, Verbs: []string{"get", "*"}}},
			want:  []string{`rule 0: wildcard apiGroups "*"`, `rule 0: wildcard resources "pods/*"`, `rule 0: wildcard verbs "*"`},
		},
		{
			name:  "escalation",
			rules: []rbacv1.PolicyRule{{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles"}, Verbs: []string{"bind"}}},
			want:  []string{"rule 0: escalating verbs [bind]"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			if tc.pod.Containers != nil {
				got = podProblems(tc.pod)
			}
			got = append(got, ruleProblems(tc.rules)...)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("problems\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestDeployRoleSuffices installs deploy/'s Namespace, ServiceAccount, Role
// and RoleBinding for real and runs the cluster target as that
// ServiceAccount: applying, pruning, reading health, recording Events and
// holding the leader Lease all pass RBAC, so the least-privilege Role is
// enough.
func TestDeployRoleSuffices(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dyn := dynamic.NewForConfigOrDie(env.RESTConfig())
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(env.Client.Discovery()))
	var sa string
	objs := renderDeploy(t)
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		return boolCmp(b.GetKind() == "Namespace", a.GetKind() == "Namespace")
	})
	for _, u := range objs {
		switch u.GetKind() {
		case "ServiceAccount":
			sa = u.GetName()
		case "Namespace", "Role", "RoleBinding":
		default:
			continue
		}
		m, err := mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
		if err != nil {
			t.Fatal(err)
		}
		createForReal(ctx, t, dyn, m, u)
	}
	cfg := env.RESTConfig()
	// The test's Jobs are not hardened: the namespace's Pod Security warns.
	cfg.WarningHandler = rest.NoWarnings{}
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + deployNamespace + ":" + sa,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + deployNamespace, "system:authenticated"},
	}
	// A sync and names of their own, should the test run again on this
	// control plane.
	run := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)
	opts := cluster.DefaultOptions()
	opts.Sync, opts.Namespace, opts.PollInterval = "deploy-rbac-"+run, deployNamespace, 100*time.Millisecond
	tgt, err := cluster.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	named := func(doc string) string { return strings.Replace(doc, "\n  name: ", "\n  name: "+run+"-", 1) }
	suspended := "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: once\nspec:\n  suspend: true\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: main, image: busybox:1}]\n"
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: debug\n"
	// The authorizer learns of the binding from a watch: the first apply may
	// still be refused.
	var applyErr error
	for deadline := time.Now().Add(30 * time.Second); ; {
		if applyErr = applyDocs(ctx, t, tgt, opts.Sync, "r1", named(cm), named(cliCronJob), named(suspended)); applyErr == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if applyErr != nil {
		t.Fatalf("apply as %s: %v", cfg.Impersonate.UserName, applyErr)
	}
	if err := applyDocs(ctx, t, tgt, opts.Sync, "r2", named(cliCronJob), named(suspended)); err != nil {
		t.Fatalf("prune as %s: %v", cfg.Impersonate.UserName, err)
	}
	if _, err := tgt.Health(ctx); err != nil {
		t.Errorf("health as %s: %v", cfg.Impersonate.UserName, err)
	}
	if st := tgt.EventStats(); st.Failed != 0 || st.Recorded != 4 {
		t.Errorf("event stats %+v, want 4 recorded (3 applied, 1 pruned), none failed", st)
	}
	checkLease(ctx, t, kubernetes.NewForConfigOrDie(cfg), opts.Sync, cfg.Impersonate.UserName)
}

// applyDocs plans the YAML documents against the target's inventory and
// applies them.
func applyDocs(ctx context.Context, t *testing.T, tgt *cluster.Target, sync, rev string, docs ...string) error {
	t.Helper()
	inv, err := tgt.Inventory(ctx)
	if err != nil {
		return err
	}
	var results []manifests.Result
	for i, d := range docs {
		j, err := yaml.YAMLToJSON([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatal(err)
		}
		results = append(results, manifests.Result{File: fmt.Sprintf("doc%d.yaml", i), Line: 1, Unstructured: u})
	}
	ds, err := reconcile.DesiredFrom(results, sync, rev, deployNamespace)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := reconcile.Plan(rev, ds, inv, reconcile.DefaultPlanOptions())
	if err != nil {
		t.Fatal(err)
	}
	_, err = tgt.Apply(ctx, cs)
	return err
}

// checkLease creates, reads and renews a Lease as leader election does.
func checkLease(ctx context.Context, t *testing.T, cs kubernetes.Interface, sync, user string) {
	t.Helper()
	leases := cs.CoordinationV1().Leases(deployNamespace)
	holder := "replica-a"
	l, err := leases.Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "jobsync-" + sync},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Lease as %s: %v", user, err)
	}
	if l, err = leases.Get(ctx, l.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("get Lease as %s: %v", user, err)
	}
	holder = "replica-b"
	l.Spec.HolderIdentity = &holder
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update Lease as %s: %v", user, err)
	}
}
