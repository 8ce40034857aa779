package cluster

import (
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestEventNamePrefix(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "plain", in: "nightly", want: "nightly-"},
		{name: "dotted", in: "a.b", want: "a.b-"},
		{name: "rbac", in: "system:Controller", want: "system-controller-"},
		{name: "edges", in: ".x.", want: "x-"},
		{name: "nothing left", in: "::", want: "object-"},
		{name: "long", in: strings.Repeat("a", 250), want: strings.Repeat("a", 200) + "-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := namePrefix(tc.in)
			if got != tc.want {
				t.Errorf("namePrefix(%q) = %q, want %q", tc.in, got, tc.want)
			}
			// The server appends 5 characters to a prefix of at most 58.
			if errs := validation.IsDNS1123Subdomain(got[:min(len(got), 58)] + "abcde"); len(errs) > 0 {
				t.Errorf("name from %q is invalid: %v", got, errs)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{name: "short", in: "abc", n: 5, want: "abc"},
		{name: "cut", in: "abcdefgh", n: 6, want: "abc…"},
		{name: "rune boundary", in: "ééééé", n: 8, want: "éé…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.in, tc.n)
			if got != tc.want || len(got) > tc.n || !utf8.ValidString(got) {
				t.Errorf("truncate(%q, %d) = %q, want %q (at most %d valid bytes)", tc.in, tc.n, got, tc.want, tc.n)
			}
		})
	}
}
