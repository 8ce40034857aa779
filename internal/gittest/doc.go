// Package gittest runs real Git servers on loopback and builds real Git
// repositories with the git CLI, for tests of anything that fetches from Git.
//
// Nothing here is a fake: repositories are made by the `git` binary (commits,
// tags, force-pushes, submodules, `git fast-import` for big histories) and
// served by the real server programs:
//
//   - StartDaemon: `git daemon` (git://). Each accepted connection is handed
//     to `git daemon --inetd`, so there is no port race and nothing to poll.
//   - StartHTTP: `git http-backend` behind net/http/cgi (smart HTTP), with
//     optional basic auth, bearer token and TLS (a throwaway CA).
//   - StartSSHD: OpenSSH `sshd -i` per connection, with a throwaway host key,
//     a throwaway client key (optionally passphrase-protected) and a
//     known_hosts line for it.
//
// Every server listens on 127.0.0.1, serves every bare repository below one
// base directory, can be stopped and restarted on the same address (to test
// "server down"), and is torn down by t.Cleanup.
//
// The entry point is NewRepo, then one of the Start functions:
//
//	base := t.TempDir()
//	repo := gittest.NewRepo(t, base, "app.git")
//	first := repo.Commit("first", map[string]string{"job.yaml": "..."})
//	srv := gittest.StartHTTP(t, base, gittest.HTTPOptions{Username: "u", Password: "p"})
//	url := srv.URL("app.git")
//
// LargeRepo builds (once per machine, cached under os.UserCacheDir) a bare
// repository with many commits for benchmarks; ImportRepo copies it into a
// test's base directory so that the test can push to it.
//
// The tests need the git CLI (with git-http-backend) and OpenSSH's sshd:
// on Debian, `apt-get install git openssh-server`.
package gittest
