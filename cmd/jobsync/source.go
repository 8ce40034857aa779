package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/source"
)

// sourceFlags are the Git source's settings. Secrets come from files (or the
// environment variables in sourceSecretEnv), never from flag values: those
// show in ps and shell history. The agent uses the same flags.
type sourceFlags struct {
	usernameFile, passwordFile, tokenFile string
	sshKeyFile, sshPassphraseFile         string
	knownHostsFile                        string
	insecureSkipHostKeyCheck              bool
	caFile                                string
	maxSize                               int64
	recurseSubmodules                     bool
	keyringFile                           string
}

// sourceSecretEnv names the environment variables read when the matching
// file flag is not given.
var sourceSecretEnv = struct{ username, password, token, passphrase string }{
	"JOBSYNC_GIT_USERNAME", "JOBSYNC_GIT_PASSWORD", "JOBSYNC_GIT_BEARER_TOKEN", "JOBSYNC_SSH_PASSPHRASE",
}

func (g *sourceFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&g.usernameFile, "git-username-file", "", "file with the HTTPS username (or $"+sourceSecretEnv.username+")")
	fl.StringVar(&g.passwordFile, "git-password-file", "", "file with the HTTPS password or token, basic auth (or $"+sourceSecretEnv.password+")")
	fl.StringVar(&g.tokenFile, "git-bearer-token-file", "", "file with an HTTPS bearer token (or $"+sourceSecretEnv.token+")")
	fl.StringVar(&g.sshKeyFile, "ssh-key-file", "", "SSH private key for ssh:// and user@host:path URLs")
	fl.StringVar(&g.sshPassphraseFile, "ssh-passphrase-file", "", "file with the SSH key's passphrase (or $"+sourceSecretEnv.passphrase+")")
	fl.StringVar(&g.knownHostsFile, "known-hosts-file", "", "known_hosts for SSH host key verification (default ~/.ssh/known_hosts)")
	fl.BoolVar(&g.insecureSkipHostKeyCheck, "insecure-skip-host-key-check", false, "accept any SSH host key (insecure)")
	fl.StringVar(&g.caFile, "ca-file", "", "PEM CA bundle trusted for HTTPS besides the system's")
	fl.Int64Var(&g.maxSize, "max-size", source.DefaultMaxSize, "refuse repositories whose fetch or checkout exceeds this many bytes (0: no limit)")
	fl.BoolVar(&g.recurseSubmodules, "recurse-submodules", false, "fetch submodules (off: left as empty directories)")
	fl.StringVar(&g.keyringFile, "verify-signatures", "", "OpenPGP keyring file: refuse commits not signed by one of its keys")
}

// newSource returns a local source when repo is an existing directory and
// ref is empty, else a Git source for the URL (or local repository) repo.
func newSource(repo, ref, path, cacheDir string, g *sourceFlags, env func(string) (string, bool)) (source.Source, error) {
	if st, err := os.Stat(repo); err == nil && st.IsDir() {
		if ref == "" {
			return source.NewLocal(source.LocalOptions{Dir: filepath.Join(repo, filepath.FromSlash(path))})
		}
		// A local repository with --ref: fetch that ref as from any remote.
		abs, err := filepath.Abs(repo)
		if err != nil {
			return nil, fmt.Errorf("--repo %s: %w", repo, err)
		}
		repo = "file://" + filepath.ToSlash(abs)
	} else if !strings.Contains(repo, ":") {
		// No scheme and no user@host:path: it was meant as a directory.
		return nil, fmt.Errorf("%s: no such directory, and not a Git URL (https://, ssh://, git://, file:// or user@host:path)", repo)
	}
	opts := source.DefaultGitOptions()
	opts.URL, opts.Path, opts.MaxSize, opts.RecurseSubmodules = repo, path, g.maxSize, g.recurseSubmodules
	if ref == "" {
		ref = "HEAD" // the remote's default branch, as --help says
	}
	r, err := source.ParseRef(ref)
	if err != nil {
		return nil, fmt.Errorf("--ref: %w", err)
	}
	opts.Ref = r
	if cacheDir == "" {
		if cacheDir, err = defaultSourceCache(); err != nil {
			return nil, err
		}
	}
	opts.CacheDir = cacheDir
	if opts.Auth, err = g.auth(env); err != nil {
		return nil, err
	}
	if g.keyringFile != "" {
		if opts.Keyring, err = os.ReadFile(g.keyringFile); err != nil {
			return nil, fmt.Errorf("--verify-signatures: %w", err)
		}
	}
	return source.NewGit(opts)
}

// reconcileSource adapts src to the reconcile loop: Snapshot.Dir is the
// checked-out tree with the sub-path applied. observe, when not nil, sees
// every successful fetch (to log a rewritten history, a cache reset or
// skipped submodules).
func reconcileSource(src source.Source, observe func(source.Artifact)) reconcile.Source {
	return reconcile.SourceFunc(func(ctx context.Context) (reconcile.Snapshot, error) {
		a, err := src.Fetch(ctx)
		if err != nil {
			return reconcile.Snapshot{}, err
		}
		if observe != nil {
			observe(a)
		}
		return reconcile.Snapshot{Revision: a.Revision, Dir: a.Dir}, nil
	})
}

func defaultSourceCache() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no --cache-dir and no user cache directory: %w", err)
	}
	return filepath.Join(dir, "jobsync", "source"), nil
}

// auth reads the credential files (or environment variables).
func (g *sourceFlags) auth(env func(string) (string, bool)) (source.Auth, error) {
	var a source.Auth
	secrets := []struct {
		flag, file, env string
		dst             *string
	}{
		{"--git-username-file", g.usernameFile, sourceSecretEnv.username, &a.Username},
		{"--git-password-file", g.passwordFile, sourceSecretEnv.password, &a.Password},
		{"--git-bearer-token-file", g.tokenFile, sourceSecretEnv.token, &a.BearerToken},
		{"--ssh-passphrase-file", g.sshPassphraseFile, sourceSecretEnv.passphrase, &a.SSHPassphrase},
	}
	for _, s := range secrets {
		if s.file == "" {
			if v, ok := lookup(env, s.env); ok {
				*s.dst = v
			}
			continue
		}
		b, err := os.ReadFile(s.file)
		if err != nil {
			return a, fmt.Errorf("%s: %w", s.flag, err)
		}
		*s.dst = strings.TrimRight(string(b), "\r\n")
	}
	files := []struct {
		flag, file string
		dst        *[]byte
	}{
		{"--ssh-key-file", g.sshKeyFile, &a.SSHKey},
		{"--known-hosts-file", g.knownHostsFile, &a.KnownHosts},
		{"--ca-file", g.caFile, &a.CABundle},
	}
	for _, f := range files {
		if f.file == "" {
			continue
		}
		b, err := os.ReadFile(f.file)
		if err != nil {
			return a, fmt.Errorf("%s: %w", f.flag, err)
		}
		*f.dst = b
	}
	if g.knownHostsFile == "" {
		if home, err := os.UserHomeDir(); err == nil {
			a.KnownHosts, _ = os.ReadFile(filepath.Join(home, ".ssh", "known_hosts")) // none: every host is unknown
		}
	}
	a.InsecureSkipHostKeyCheck = g.insecureSkipHostKeyCheck
	return a, nil
}

func lookup(env func(string) (string, bool), name string) (string, bool) {
	if env == nil {
		return "", false
	}
	return env(name)
}

func newSourceCmd(s streams) *cobra.Command {
	c := &cobra.Command{
		Use:     "source",
		Short:   "Try the Git and local-directory sources by hand",
		Example: `  jobsync source fetch https://github.com/acme/batch.git --ref main --path overlays/prod`,
	}
	c.AddCommand(newSourceFetchCmd(s))
	return c
}

func newSourceFetchCmd(s streams) *cobra.Command {
	var (
		g                   sourceFlags
		ref, path, cacheDir string
	)
	c := &cobra.Command{
		Use:   "fetch URL|DIR",
		Short: "Fetch one revision of a repository into the cache and print its revision and directory",
		Long: `fetch resolves --ref on the server (a branch, a tag, a semver range over tags
such as ">=1.2.0 <2.0.0", or a full commit hash), fetches what the cache does not
have yet (shallow for branches and tags), writes the tree into the cache and
prints:

  revision: main@sha1:<commit>
  dir:      <the checked-out tree, with --path applied>
  history:  initial | unchanged | fast-forward | rewritten | unknown

A local directory gives "<branch>@sha1:<HEAD>" (plus "+dirty:sha256:<hash>" when
files differ from HEAD) in a Git working tree, or "sha256:<content hash>".

Credentials are read from files (or JOBSYNC_GIT_USERNAME, JOBSYNC_GIT_PASSWORD,
JOBSYNC_GIT_BEARER_TOKEN, JOBSYNC_SSH_PASSPHRASE) and never printed. SSH host
keys are checked against --known-hosts-file (default ~/.ssh/known_hosts).

Exit status: 0, or 1 when the fetch failed, or 2 on a usage error.`,
		Example: `  jobsync source fetch https://github.com/example/jobs.git --ref main --path overlays/prod
  jobsync source fetch git@github.com:example/jobs.git --ref 'semver:>=1.2.0 <2.0.0' --ssh-key-file ~/.ssh/id_ed25519
  JOBSYNC_GIT_PASSWORD=$TOKEN jobsync source fetch https://git.example.com/jobs.git --ref v1.4.2 --ca-file ca.pem
  jobsync source fetch . `,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := newSource(args[0], ref, path, cacheDir, &g, s.env)
			if err != nil {
				return withCode(exitUsage, err)
			}
			a, err := src.Fetch(cmd.Context())
			if err != nil {
				return withCode(exitFindings, err)
			}
			fmt.Fprintf(s.out, "revision: %s\ndir:      %s\nhistory:  %s\n", a.Revision, a.Dir, a.History)
			if a.CacheReset != "" {
				fmt.Fprintf(s.err, "note: %s\n", a.CacheReset)
			}
			if len(a.SkippedSubmodules) > 0 {
				fmt.Fprintf(s.err, "note: submodules left empty (use --recurse-submodules): %s\n", strings.Join(a.SkippedSubmodules, ", "))
			}
			return nil
		},
	}
	g.register(c)
	c.Flags().StringVar(&ref, "ref", "", `branch, tag, "semver:RANGE", commit hash, or "branch:"/"tag:"/"commit:" prefixed; default: the remote's default branch, or a local directory as it is`)
	c.Flags().StringVar(&path, "path", "", "directory inside the repository to hand out")
	c.Flags().StringVar(&cacheDir, "cache-dir", "", "cache of repositories and checkouts (default <user cache>/jobsync/source)")
	return c
}
