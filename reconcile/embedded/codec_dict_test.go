package embedded

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

var writeDict = flag.Bool("write-dict", false, "write the compression dictionaries of a new codec version to dict/ (never rewrite a released one)")

// dictSHA256 pins the released dictionaries: values compressed with one
// are only readable with the same bytes, so a dictionary never changes.
// A better one is a new file and a new codec id.
var dictSHA256 = map[string]string{
	"job-v1.bin": "4a38c10ebcb1d8d99ed7966c15113af5780d16964b993df3e926febf35b8c899",
	"pod-v1.bin": "35eaf6e37bbd43067f87015e52088bc297aca57f3ee6898379414022342bb955",
}

func TestDictionariesUnchanged(t *testing.T) {
	for name, want := range dictSHA256 {
		data, err := os.ReadFile(filepath.Join("dict", name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("dict/%s: sha256 %s, want %s: a released dictionary must never change (add a new codec instead)", name, got, want)
		}
	}
}

// TestWriteDictionaries (with -write-dict) builds the dictionaries from
// what the controllers store for a generic CronJob: a succeeded and a
// failed Job with their pods. Its names, image and command are not those
// of the benchmarks, which would flatter the compression figures.
func TestWriteDictionaries(t *testing.T) {
	if !*writeDict {
		t.Skip("only with -write-dict, when adding a codec version")
	}
	// Another day than the tests' t0, which the benchmarks use too.
	base := time.Date(2025, 7, 14, 8, 0, 0, 0, time.UTC)
	c := clocktesting.NewFakeClock(base)
	v := &env{t: t, dir: t.TempDir(), clock: c, runner: newFakeRunner(c)}
	v.open()
	defer v.e.Close()
	cj := &batchv1.CronJob{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: metav1.ObjectMeta{Name: "example", Namespace: "default"},
		Spec: batchv1.CronJobSpec{Schedule: "*/5 * * * *", JobTemplate: batchv1.JobTemplateSpec{
			Spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](0), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "app", Image: "registry.example/team/app:1.0", Args: []string{"--once"}}}}}}}}}
	v.apply(cj)
	var jobs, pods [][]byte
	for i, code := range []int32{1, 0} {
		slot := base.Add(time.Duration(5*(i+1)) * time.Minute)
		c.SetTime(slot.Add(time.Second))
		v.step()
		name := jobName(cj, slot)
		ps, err := v.e.JobPods("default", name)
		if err != nil || len(ps) != 1 {
			t.Fatalf("pods of %s: %v %v", name, ps, err)
		}
		v.exit(ps[0].Name, code)
		j := v.job(name)
		if j == nil || !jobFinished(j) {
			t.Fatalf("job %s did not finish", name)
		}
		if ps, err = v.e.JobPods("default", name); err != nil || len(ps) != 1 {
			t.Fatalf("pods of %s: %v %v", name, ps, err)
		}
		jobs, pods = append(jobs, mustProto(t, j)), append(pods, mustProto(t, &ps[0]))
	}
	// The most common form (succeeded) last: nearer matches cost fewer bits.
	for name, parts := range map[string][][]byte{"job-v1.bin": jobs, "pod-v1.bin": pods} {
		var data []byte
		for _, p := range parts {
			data = append(data, p...)
		}
		if err := os.WriteFile(filepath.Join("dict", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mustProto(t testing.TB, o protoMarshaler) []byte {
	t.Helper()
	data, err := o.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}
