// Package reconcile is the gate and the loop between a rendered, validated
// revision and a target. It plans a ChangeSet (creates, updates, recreates of
// immutable Jobs, prunes) against the target's inventory, hands it to a Target
// (cluster or embedded), and records what happened as data.
//
// The entry points are Plan (pure: desired objects + inventory → ChangeSet) and
// Loop (source → render → validate → plan → apply → prune → status, one straight
// flow per tick).
package reconcile
