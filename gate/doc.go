// Package gate is the one check a revision passes before anything uses it:
// render → manifests.Check → batch policies → a Verdict. jobsync validate,
// apply, diff and the agent's reconcile loop all call Run, so that they
// judge the same path the same way, from any directory.
//
// The root of a run is render.FindRoot of its first path (--root, else the
// Git work tree holding it, else the path itself): kustomize loads nothing
// outside it, file names are relative to it, and the policy configuration
// is the nearest .jobsync.yaml from that path up to the root (FindConfig),
// unless one is named explicitly. See docs/validate.md.
package gate
