package embedded

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func completeJob(name string) *batchv1.Job {
	j := testJob(name, nil)
	j.UID = "0b6f3c52-8f0e-4a8e-9d55-3f2c1f1e2a10"
	j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: "CompletionsReached",
		Message: "Reached expected number of succeeded pods", LastTransitionTime: mt(t0)}}
	j.Status.Succeeded = 1
	return j
}

// TestStoreValues: Jobs and Pods are stored compressed, finished ones in
// the done area; every value reads back as written.
func TestStoreValues(t *testing.T) {
	pending := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p1", Namespace: "ns"}, Spec: podTemplate(corev1.RestartPolicyNever).Spec}
	done := pending.DeepCopy()
	done.Name, done.Status.Phase = "p2", corev1.PodSucceeded
	tests := []struct {
		name           string
		kind           Kind
		obj            any
		newOut         func() any
		wantCompressed bool
		wantBucket     Kind
	}{
		{"finished Job", KindJob, completeJob("done"), func() any { return &batchv1.Job{} }, true, kindJobDone},
		{"running Job", KindJob, testJob("running", nil), func() any { return &batchv1.Job{} }, true, KindJob},
		{"terminal Pod", KindPod, done, func() any { return &corev1.Pod{} }, true, kindPodDone},
		{"pending Pod", KindPod, pending, func() any { return &corev1.Pod{} }, true, KindPod},
		{"CronJob", KindCronJob, testCronJob("c", "* * * * *", nil), func() any { return &batchv1.CronJob{} }, false, KindCronJob},
	}
	s, err := OpenStore(t.TempDir(), DefaultStoreOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := encode(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			want, got := tc.newOut(), tc.newOut()
			if err := decode(raw, want); err != nil {
				t.Fatal(err)
			}
			var stored []byte
			err = s.Update(func(tx *Tx) error {
				if err := tx.Put(tc.kind, "ns/x", tc.obj); err != nil {
					return err
				}
				if err := tx.tx.Bucket([]byte(tc.wantBucket)).ForEach(func(_, v []byte) error {
					stored = bytes.Clone(v)
					return nil
				}); err != nil {
					return err
				}
				_, err := tx.Get(tc.kind, "ns/x", got)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if stored == nil {
				t.Fatalf("nothing stored in bucket %s", tc.wantBucket)
			}
			if tc.wantBucket == kindJobDone || tc.wantBucket == kindPodDone {
				if stored, _, err = splitDoneItem(stored); err != nil {
					t.Fatal(err)
				}
			}
			if c := stored[0] == valueCompressed; c != tc.wantCompressed {
				t.Errorf("stored compressed: %v, want %v", c, tc.wantCompressed)
			}
			if tc.wantCompressed && len(stored) >= len(raw) {
				t.Errorf("stored %d bytes for %d encoded", len(stored), len(raw))
			}
			if !equality.Semantic.DeepEqual(got, want) {
				t.Errorf("read back %+v, want %+v", got, want)
			}
			if err := s.Update(func(tx *Tx) error { return tx.Delete(tc.kind, "ns/x") }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDecompressedErrors(t *testing.T) {
	good, err := codecs[codecJobV1].compress(mustProto(t, completeJob("j")))
	if err != nil {
		t.Fatal(err)
	}
	bomb, err := codecs[codecJobV1].compress(make([]byte, maxValueSize+1))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"no codec", []byte{valueCompressed}, "damaged"},
		{"header only", []byte{valueCompressed, codecJobV1}, "damaged"},
		{"unknown codec", []byte{valueCompressed, 0x7f, 1, 2}, "codec 127, unknown to this jobsync"},
		{"truncated", good[:len(good)/2], "damaged"},
		{"garbage", []byte{valueCompressed, codecPodV1, 0xff, 0xff, 0xff}, "damaged"},
		{"too large", bomb, "exceeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decompressed(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			var j batchv1.Job
			if err := decode(tc.data, &j); err == nil {
				t.Error("decode: no error")
			}
		})
	}
	if out, err := decompressed(good); err != nil || len(out) == 0 {
		t.Fatalf("good value: %v", err)
	}
}

// TestDecompressedPassesOthers: values of earlier versions, and of objects
// not compressed, are read as they are.
func TestDecompressedPassesOthers(t *testing.T) {
	for _, data := range [][]byte{nil, {}, []byte(`{"a":1}`), mustProto(t, completeJob("j"))} {
		out, err := decompressed(data)
		if err != nil || !reflect.DeepEqual(out, data) {
			t.Errorf("%q: got %q, %v", data, out, err)
		}
	}
}

// FuzzDecodeValue: whatever the file holds, reading a value gives an
// object or an error, never a panic.
func FuzzDecodeValue(f *testing.F) {
	good, err := codecs[codecJobV1].compress(mustProto(f, completeJob("j")))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(mustProto(f, completeJob("j")))
	f.Add([]byte{valueCompressed, codecPodV1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var j batchv1.Job
		_ = decode(data, &j)
		var p corev1.Pod
		_ = decode(data, &p)
	})
}
