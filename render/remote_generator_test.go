package render

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestKustomizeGeneratorURLRefused: a generator's file source that is a URL
// would make kustomize's loader fetch it (an internal address, a cloud
// metadata service) and put the answer in a ConfigMap or Secret. Every form
// is refused as a remote base is, and the server is never asked.
func TestKustomizeGeneratorURLRefused(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Write([]byte("token=secret\n"))
	}))
	defer srv.Close()
	url := srv.URL + "/latest/meta-data"
	tests := []struct{ name, kustomization string }{
		{"configMapGenerator files", "configMapGenerator:\n- name: leak\n  files:\n  - " + url + "\n"},
		{"configMapGenerator key=file", "configMapGenerator:\n- name: leak\n  files:\n  - data=" + url + "\n"},
		{"secretGenerator envs", "secretGenerator:\n- name: leak\n  envs:\n  - " + url + "\n"},
		{"secretGenerator env", "secretGenerator:\n- name: leak\n  env: " + url + "\n"},
		{"inline generator", "generators:\n- |\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n  metadata:\n    name: leak\n  files:\n  - " + url + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(tc.kustomization), 0o600); err != nil {
				t.Fatal(err)
			}
			o := DefaultOptions()
			o.Root = dir
			docs, err := Render([]string{dir}, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 1 || !errors.Is(docs[0].Err, ErrRemoteBase) {
				var b strings.Builder
				for _, d := range docs {
					b.WriteString(string(d.Data))
				}
				t.Errorf("documents %+v (%s), want one ErrRemoteBase", docs, b.String())
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("the URL was fetched %d time(s)", n)
			}
			hits.Store(0)
		})
	}
}
