package render

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRenderKustomize(t *testing.T) {
	tests := []struct {
		name string
		path string
		root string
		want []got
	}{
		{"overlay: origins are the base files with each object's line", "testdata/kust/overlays/dev", "testdata", []got{
			{File: "kust/base/settings.yaml", Line: 1, Name: "dev-settings"},
			{File: "kust/base/backup.yaml", Line: 2, Name: "dev-backup"},
			{File: "kust/base/backup.yaml", Line: 17, Name: "dev-migrate"},
			{File: "kust/overlays/dev/extra.yaml", Line: 3, Name: "dev-runner"},
		}},
		{"the kustomization file named explicitly", "testdata/kust/overlays/dev/kustomization.yaml", "testdata", []got{
			{File: "kust/base/settings.yaml", Line: 1, Name: "dev-settings"},
			{File: "kust/base/backup.yaml", Line: 2, Name: "dev-backup"},
			{File: "kust/base/backup.yaml", Line: 17, Name: "dev-migrate"},
			{File: "kust/overlays/dev/extra.yaml", Line: 3, Name: "dev-runner"},
		}},
		{"generated objects come from the kustomization file, line unknown", "testdata/kust/overlays/prod", "testdata", []got{
			{File: "kust/base/settings.yaml", Line: 1, Name: "settings"},
			{File: "kust/base/backup.yaml", Line: 2, Name: "backup"},
			{File: "kust/base/backup.yaml", Line: 17, Name: "migrate"},
			{File: "kust/overlays/prod/kustomization.yaml", Line: 0, Name: "generated"},
		}},
		{"top kustomization over both overlays", "testdata/kust", "testdata", []got{
			{File: "kust/base/settings.yaml", Line: 1, Name: "dev-settings"},
			{File: "kust/base/backup.yaml", Line: 2, Name: "dev-backup"},
			{File: "kust/base/backup.yaml", Line: 17, Name: "dev-migrate"},
			{File: "kust/overlays/dev/extra.yaml", Line: 3, Name: "dev-runner"},
			{File: "kust/base/settings.yaml", Line: 1, Name: "settings"},
			{File: "kust/base/backup.yaml", Line: 2, Name: "backup"},
			{File: "kust/base/backup.yaml", Line: 17, Name: "migrate"},
			{File: "kust/overlays/prod/kustomization.yaml", Line: 0, Name: "generated"},
		}},
		{"origins relative to the Git work tree without a root", "testdata/kust/overlays/dev", "", []got{
			{File: "render/testdata/kust/base/settings.yaml", Line: 1, Name: "dev-settings"},
			{File: "render/testdata/kust/base/backup.yaml", Line: 2, Name: "dev-backup"},
			{File: "render/testdata/kust/base/backup.yaml", Line: 17, Name: "dev-migrate"},
			{File: "render/testdata/kust/overlays/dev/extra.yaml", Line: 3, Name: "dev-runner"},
		}},
		{"build failure is one error document", "testdata/kust-broken", "testdata", []got{
			{File: "kust-broken/kustomization.yaml", Err: ErrKustomize},
		}},
		{"remote base refused", "testdata/remote/direct", "testdata", []got{
			{File: "remote/direct/kustomization.yaml", Err: ErrRemoteBase},
		}},
		{"remote base of a local base refused", "testdata/remote/nested/overlay", "testdata", []got{
			{File: "remote/nested/base/kustomization.yaml", Err: ErrRemoteBase},
		}},
		{"remote file refused", "testdata/remote/https", "testdata", []got{
			{File: "remote/https/kustomization.yaml", Err: ErrRemoteBase},
		}},
		{"base outside the root refused", "testdata/escape/root/app", "testdata/escape/root", []got{
			{File: "app/kustomization.yaml", Err: ErrOutsideRoot},
		}},
		{"file outside the kustomization directory refused", "testdata/escape/root/files", "testdata/escape/root", []got{
			{File: "files/kustomization.yaml", Err: ErrKustomize},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Root = tt.root
			docs, err := Render([]string{tt.path}, opts)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			compare(t, docs, tt.want)
			for _, d := range docs {
				if bytes.Contains(d.Data, []byte("config.kubernetes.io/origin")) {
					t.Errorf("%s:%d: origin annotation left in Data:\n%s", d.Origin.File, d.Origin.Line, d.Data)
				}
			}
		})
	}
}

// TestKustomizeErrorText checks that errors are readable: relative paths,
// the flag to use, no absolute or temporary paths.
func TestKustomizeErrorText(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, root string
		contains         []string
	}{
		{"missing resource", "testdata/kust-broken", "testdata",
			[]string{"kustomize build kust-broken: ", "missing.yaml"}},
		{"remote base names the flag", "testdata/remote/direct", "testdata",
			[]string{"kustomize build remote/direct: remote base \"github.com/example/repo//deploy?ref=v1.0.0\"", "--allow-remote-bases"}},
		{"outside root names the root", "testdata/escape/root/app", "testdata/escape/root",
			[]string{"kustomize build app: ", "outside the root"}},
		{"kustomize's own root-only restriction", "testdata/escape/root/files", "testdata/escape/root",
			[]string{"kustomize build files: ", "cm.yaml", "security"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Root = tt.root
			docs, err := Render([]string{tt.path}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 1 || docs[0].Err == nil {
				t.Fatalf("want one error document, got %+v", docs)
			}
			msg := docs[0].Err.Error()
			for _, c := range tt.contains {
				if !strings.Contains(msg, c) {
					t.Errorf("error %q does not contain %q", msg, c)
				}
			}
			for _, abs := range []string{wd, os.TempDir()} {
				if strings.Contains(msg, abs) {
					t.Errorf("error %q contains the absolute path %s", msg, abs)
				}
			}
		})
	}
}

func TestKustomizeKeepsUserOriginAnnotations(t *testing.T) {
	docs, err := Render([]string{"testdata/kust-userorigin"}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	compare(t, docs, []got{{File: "kust-userorigin/cm.yaml", Line: 1, Name: "cm"}})
	if !bytes.Contains(docs[0].Data, []byte("config.kubernetes.io/origin")) {
		t.Errorf("the kustomization asked for origin annotations; Data lost them:\n%s", docs[0].Data)
	}
}

// TestKustomizeRemoteAllowed loads a remote resource from a real HTTP server
// when remote bases are allowed, and refuses it otherwise.
func TestKustomizeRemoteAllowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\n")
	}))
	defer srv.Close()
	dir := t.TempDir()
	k := fmt.Sprintf("resources:\n  - %s/cm.yaml\n", srv.URL)
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprint("allow=", allow), func(t *testing.T) {
			opts := DefaultOptions()
			opts.Root = dir
			opts.AllowRemoteBases = allow
			docs, err := Render([]string{dir}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !allow {
				compare(t, docs, []got{{File: "kustomization.yaml", Err: ErrRemoteBase}})
				return
			}
			if len(docs) != 1 || docs[0].Err != nil {
				t.Fatalf("got %+v", docs)
			}
			compare(t, docs, []got{{File: docs[0].Origin.File, Name: "remote"}})
		})
	}
}

// TestKustomizeGolden pins the rendered bytes and origins of the fixture tree.
func TestKustomizeGolden(t *testing.T) {
	docs, err := Render([]string{"testdata/kust"}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, d := range docs {
		fmt.Fprintf(&b, "# %s:%d\n%s---\n", d.Origin.File, d.Origin.Line, d.Data)
	}
	golden := filepath.Join("testdata", "golden", "kust.yaml.golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("render differs from %s (run with -update to accept):\n%s", golden, b.String())
	}
}

func TestKustomizeKeepsUserBuildMetadata(t *testing.T) {
	docs, err := Render([]string{"testdata/kust/overlays/prod"}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if !bytes.Contains(d.Data, []byte("app.kubernetes.io/managed-by: kustomize-")) {
			t.Errorf("%s:%d: buildMetadata managedByLabel was lost:\n%s", d.Origin.File, d.Origin.Line, d.Data)
		}
	}
}

// TestKustomizeRemoteGitBaseAllowed builds a kustomization whose base is a
// real git repository (file:// URL, cloned by kustomize with the git CLI).
func TestKustomizeRemoteGitBaseAllowed(t *testing.T) {
	repo := t.TempDir()
	files := map[string]string{
		"base/kustomization.yaml": "resources:\n  - cm.yaml\n",
		"base/cm.yaml":            "# from git\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-git\n",
	}
	for name, content := range files {
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	tmp := t.TempDir() // kustomize clones here; the clone must be removed after the build
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	k := fmt.Sprintf("namePrefix: x-\nresources:\n  - file://%s//base?ref=main\n", repo)
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Root = dir
	opts.AllowRemoteBases = true
	docs, err := Render([]string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Err != nil {
		t.Fatalf("got %+v", docs)
	}
	compare(t, docs, []got{{File: docs[0].Origin.File, Name: "x-from-git"}})
	if !strings.Contains(docs[0].Origin.File, "base/cm.yaml") {
		t.Errorf("origin %q does not name the file in the repository", docs[0].Origin.File)
	}
	assertNoCloneDirs(t, tmp)
}
