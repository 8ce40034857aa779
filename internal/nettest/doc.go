// Package nettest holds network helpers for tests that run real servers.
package nettest
