package main

import (
	"github.com/spf13/cobra"
)

// agentGitFlags are the Git source's settings. Secrets come from files, never
// from flag values (they would show in ps and shell history).
type agentGitFlags struct {
	usernameFile, passwordFile, tokenFile string
	sshKeyFile, sshPassphraseFile         string
	knownHostsFile                        string
	insecureSkipHostKeyCheck              bool
	caFile                                string
	maxSize                               int64
	recurseSubmodules                     bool
	keyringFile                           string
}

func (g *agentGitFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&g.usernameFile, "git-username-file", "", "file with the HTTPS username")
	fl.StringVar(&g.passwordFile, "git-password-file", "", "file with the HTTPS password or token (basic auth)")
	fl.StringVar(&g.tokenFile, "git-bearer-token-file", "", "file with an HTTPS bearer token")
	fl.StringVar(&g.sshKeyFile, "ssh-key-file", "", "SSH private key for ssh:// and scp-like URLs")
	fl.StringVar(&g.sshPassphraseFile, "ssh-passphrase-file", "", "file with the SSH key's passphrase")
	fl.StringVar(&g.knownHostsFile, "known-hosts-file", "", "known_hosts for SSH host key verification (default ~/.ssh/known_hosts)")
	fl.BoolVar(&g.insecureSkipHostKeyCheck, "insecure-skip-host-key-check", false, "accept any SSH host key (insecure)")
	fl.StringVar(&g.caFile, "ca-file", "", "PEM CA bundle trusted for HTTPS besides the system's")
	fl.Int64Var(&g.maxSize, "max-size", 512<<20, "refuse repositories whose fetch or checkout exceeds this many bytes (0: no limit)")
	fl.BoolVar(&g.recurseSubmodules, "recurse-submodules", false, "fetch submodules (off: left empty)")
	fl.StringVar(&g.keyringFile, "verify-signatures", "", "OpenPGP keyring file: refuse commits not signed by one of its keys")
}
