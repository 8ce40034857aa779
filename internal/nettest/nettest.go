package nettest

import (
	"net"
	"testing"
)

// FreeLoopbackAddr returns a loopback host:port that was free a moment ago,
// for a server under test that binds the address itself.
func FreeLoopbackAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
