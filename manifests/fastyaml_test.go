package manifests

import (
	"reflect"
	"testing"

	sigsjson "sigs.k8s.io/json"
)

var fastYAMLSamples = []string{
	validJob,
	"a: 1\nb: [x, \"y\", 'z', 3]\nc: {k: v, n: y}\nd:\n- 1\n- -c\n- name: x\n  v: ~\n",
	"labels: {app: y}\nx: yes\nz: 0x1F\nq: 010\nf: 1.5\ng: 1e3\nt: 2024-01-01\n",
	"k: v # comment\n# full\nl:\n  - a\n  -\n    b: c\n",
	"a: 'it''s'\n",
	"a: \"x\\ty\"\n",
	"a: b\n  c: d\n",
	"a: 1\na: 2\n",
	"key :\n",
	"1: a\ntrue: b\n",
	"a: &x 1\nb: *x\n",
	"a: |\n  text\n",
	"- a\n",
	"a:\n- b\n- c\nd: e\n",
	"a: [1, 2,]\n",
	"a: \"unterminated\n",
	"a: b: c\n",
	"\ufeffa: b\n",
	"cpu: 100m\nmem: 1.5Gi\ne: 1e3\nf: 1E\ng: 1.5E\nh: 0x1F\ni: 1_000\nj: 12:30\nk: 2001-12-14\nl: 1.\n",
}

// TestFastYAMLAgrees: whenever the fast reader answers, goyaml.v2 gives the
// same object (and no error).
func TestFastYAMLAgrees(t *testing.T) {
	answered := 0
	for _, s := range fastYAMLSamples {
		if assertFastAgrees(t, []byte(s)) {
			answered++
		}
	}
	if answered < 4 {
		t.Errorf("fast path answered only %d samples", answered)
	}
}

func FuzzFastYAML(f *testing.F) {
	for _, s := range fastYAMLSamples {
		f.Add([]byte(s))
	}
	for _, fx := range loadFixtures(f) {
		f.Add(fx.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { assertFastAgrees(t, data) })
}

func assertFastAgrees(t *testing.T, data []byte) bool {
	t.Helper()
	fast, ok := fastYAML(data)
	if !ok {
		return false
	}
	slow, _, err := slowYAMLToObject(data)
	if err != nil {
		t.Fatalf("fast path accepted %q, goyaml.v2 says %v", data, err)
	}
	if !reflect.DeepEqual(interface{}(fast), slow) {
		t.Fatalf("fast path differs on %q:\n fast %#v\n slow %#v", data, fast, slow)
	}
	j, ok := appendJSON(nil, fast)
	if !ok {
		t.Fatalf("cannot encode %#v", fast)
	}
	var back interface{}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(j, &back); err != nil || !reflect.DeepEqual(back, slow) {
		t.Fatalf("JSON %s does not decode back to %#v: %v", j, slow, err)
	}
	return true
}

// TestFastLineIndexAgrees: the line index built by the fast reader equals
// goyaml.v3's for every fixture it can read.
func TestFastLineIndexAgrees(t *testing.T) {
	fast := 0
	for _, fx := range loadFixtures(t) {
		a := newLineIndex(fx.data, 7)
		if !a.buildFast() {
			continue
		}
		fast++
		b := newLineIndex(fx.data, 7)
		b.buildNodes()
		if !reflect.DeepEqual(a.m, b.m) {
			t.Errorf("%s: fast index has %d paths, goyaml.v3 %d", fx.name, len(a.m), len(b.m))
		}
	}
	if fast < 100 {
		t.Errorf("fast index built for only %d fixtures", fast)
	}
}
