package embedded

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
)

// storeState lists, in ForEach order, the Jobs of the store as
// "key:running|done", and counts the entries of each Job bucket.
func storeState(t *testing.T, s *Store) (string, map[Kind]int) {
	t.Helper()
	var list []string
	n := map[Kind]int{}
	err := s.View(func(tx *Tx) error {
		for _, k := range []Kind{KindJob, kindJobDone, kindJobDoneIndex} {
			n[k] = tx.tx.Bucket([]byte(k)).Stats().KeyN
		}
		return forEachTyped(tx, KindJob, func(key string, j *batchv1.Job) {
			state := "running"
			if jobFinished(j) {
				state = "done"
			}
			list = append(list, key+":"+state)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(list, ","), n
}

func TestStoreDoneArea(t *testing.T) {
	s, err := OpenStore(t.TempDir(), DefaultStoreOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	put := func(key string, j *batchv1.Job) func(*Tx) error {
		return func(tx *Tx) error { return tx.Put(KindJob, key, j) }
	}
	steps := []struct {
		name  string
		do    func(*Tx) error
		want  string
		count map[Kind]int
	}{
		{"running and done interleaved", func(tx *Tx) error {
			for _, f := range []func(*Tx) error{put("ns/a", testJob("a", nil)), put("ns/b", completeJob("b")), put("ns/c", testJob("c", nil)), put("ns/d", completeJob("d"))} {
				if err := f(tx); err != nil {
					return err
				}
			}
			return nil
		}, "ns/a:running,ns/b:done,ns/c:running,ns/d:done", map[Kind]int{KindJob: 2, kindJobDone: 2, kindJobDoneIndex: 2}},
		{"a Job finishes: it moves", put("ns/a", completeJob("a")),
			"ns/a:done,ns/b:done,ns/c:running,ns/d:done", map[Kind]int{KindJob: 1, kindJobDone: 3, kindJobDoneIndex: 3}},
		{"a done Job rewritten: one entry", put("ns/b", completeJob("b")),
			"ns/a:done,ns/b:done,ns/c:running,ns/d:done", map[Kind]int{KindJob: 1, kindJobDone: 3, kindJobDoneIndex: 3}},
		{"a done Job deleted", func(tx *Tx) error { return tx.Delete(KindJob, "ns/b") },
			"ns/a:done,ns/c:running,ns/d:done", map[Kind]int{KindJob: 1, kindJobDone: 2, kindJobDoneIndex: 2}},
		{"a key reused by a running Job", put("ns/d", testJob("d", nil)),
			"ns/a:done,ns/c:running,ns/d:running", map[Kind]int{KindJob: 2, kindJobDone: 1, kindJobDoneIndex: 1}},
		{"a running Job deleted", func(tx *Tx) error { return tx.Delete(KindJob, "ns/c") },
			"ns/a:done,ns/d:running", map[Kind]int{KindJob: 1, kindJobDone: 1, kindJobDoneIndex: 1}},
		// Version 3 kept finished Jobs among the running ones.
		{"a finished Job as version 3 stored it", func(tx *Tx) error {
			return tx.tx.Bucket([]byte(KindJob)).Put([]byte("ns/e"), mustProto(t, completeJob("e")))
		}, "ns/a:done,ns/d:running,ns/e:done", map[Kind]int{KindJob: 2, kindJobDone: 1, kindJobDoneIndex: 1}},
		{"which moves when written", put("ns/e", completeJob("e")),
			"ns/a:done,ns/d:running,ns/e:done", map[Kind]int{KindJob: 1, kindJobDone: 2, kindJobDoneIndex: 2}},
	}
	for _, st := range steps {
		if err := s.Update(st.do); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, n := storeState(t, s)
		if got != st.want {
			t.Errorf("%s: Jobs %s, want %s", st.name, got, st.want)
		}
		for k, want := range st.count {
			if n[k] != want {
				t.Errorf("%s: bucket %s has %d entries, want %d", st.name, k, n[k], want)
			}
		}
	}
	var j batchv1.Job
	err = s.View(func(tx *Tx) error {
		ok, err := tx.Get(KindJob, "ns/a", &j)
		if !ok && err == nil {
			t.Error("ns/a: not found")
		}
		if ok, _ := tx.Get(KindJob, "ns/b", &batchv1.Job{}); ok {
			t.Error("ns/b: found after its deletion")
		}
		return err
	})
	if err != nil || j.Name != "a" || !jobFinished(&j) {
		t.Errorf("Get ns/a: %s finished=%v, %v", j.Name, jobFinished(&j), err)
	}
}

// TestStoreDoneEvents: a done object's events move into its item and are
// read, added to and deleted there; they go with the object.
func TestStoreDoneEvents(t *testing.T) {
	s, err := OpenStore(t.TempDir(), DefaultStoreOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ek := EventKey(KindJob, "ns", "a")
	ev := func(msg string) Event {
		return Event{Type: EventNormal, Reason: ReasonCompleted, Message: msg, Time: t0}
	}
	state := func() (string, bool) {
		t.Helper()
		var msgs []string
		var inBucket bool
		err := s.View(func(tx *Tx) error {
			inBucket = tx.tx.Bucket([]byte(KindEvent)).Get([]byte(ek)) != nil
			evs, err := tx.Events(ek)
			for _, e := range evs {
				msgs = append(msgs, e.Message)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(msgs, ","), inBucket
	}
	steps := []struct {
		name         string
		do           func(*Tx) error
		want         string
		wantInBucket bool
	}{
		{"running", func(tx *Tx) error {
			if err := tx.Put(KindJob, "ns/a", testJob("a", nil)); err != nil {
				return err
			}
			return tx.AddEvent(ek, ev("1"))
		}, "1", true},
		{"finished: the ring moves", func(tx *Tx) error { return tx.Put(KindJob, "ns/a", completeJob("a")) }, "1", false},
		{"an event on the done Job: it stays where it is", func(tx *Tx) error {
			seq := string(tx.tx.Bucket([]byte(kindJobDoneIndex)).Get([]byte("ns/a")))
			if err := tx.AddEvent(ek, ev("2")); err != nil {
				return err
			}
			if now := string(tx.tx.Bucket([]byte(kindJobDoneIndex)).Get([]byte("ns/a"))); now != seq {
				t.Errorf("sequence %x after an event, was %x", now, seq)
			}
			return nil
		}, "1,2", false},
		{"rewritten: the ring stays", func(tx *Tx) error { return tx.Put(KindJob, "ns/a", completeJob("a")) }, "1,2", false},
		{"events dropped", func(tx *Tx) error { return tx.DeleteEvents(ek) }, "", false},
		{"new events", func(tx *Tx) error { return tx.AddEvent(ek, ev("3")) }, "3", false},
		{"running again: the ring moves back", func(tx *Tx) error { return tx.Put(KindJob, "ns/a", testJob("a", nil)) }, "3", true},
		{"finished again", func(tx *Tx) error { return tx.Put(KindJob, "ns/a", completeJob("a")) }, "3", false},
		{"deleted: its events with it", func(tx *Tx) error { return tx.Delete(KindJob, "ns/a") }, "", false},
	}
	for _, st := range steps {
		if err := s.Update(st.do); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, inBucket := state()
		if got != st.want || inBucket != st.wantInBucket {
			t.Errorf("%s: events %q (in the event bucket: %v), want %q (%v)", st.name, got, inBucket, st.want, st.wantInBucket)
		}
	}
	var j batchv1.Job
	if err := s.View(func(tx *Tx) error {
		if ok, err := tx.Get(KindJob, "ns/a", &j); ok || err != nil {
			t.Errorf("Get after delete: %v, %v", ok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
