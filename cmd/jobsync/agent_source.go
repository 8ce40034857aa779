package main

// agentGitFlags are the agent's Git source settings: those of `jobsync
// source fetch`, registered the same way.
type agentGitFlags = sourceFlags
