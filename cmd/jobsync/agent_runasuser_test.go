package main

import (
	"strings"
	"testing"
)

func TestParseRunAsUser(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		uid, gid int64
		err      string
	}{
		{name: "default nobody", in: "65534:65534", uid: 65534, gid: 65534},
		{name: "uid alone is also the gid", in: "1000", uid: 1000, gid: 1000},
		{name: "root kept", in: "0", uid: 0, gid: 0},
		{name: "uid and gid", in: "1000:2000", uid: 1000, gid: 2000},
		{name: "a name", in: "nobody", err: "want UID or UID:GID"},
		{name: "negative", in: "-1", err: "want UID or UID:GID"},
		{name: "bad gid", in: "1000:x", err: "want UID or UID:GID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			uid, gid, err := parseRunAsUser(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "--run-as-user") {
					t.Fatalf("parseRunAsUser(%q) = %d, %d, %v; want an error with %q", tc.in, uid, gid, err, tc.err)
				}
				return
			}
			if err != nil || uid != tc.uid || gid != tc.gid {
				t.Fatalf("parseRunAsUser(%q) = %d, %d, %v; want %d, %d", tc.in, uid, gid, err, tc.uid, tc.gid)
			}
		})
	}
}
