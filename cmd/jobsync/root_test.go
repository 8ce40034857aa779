package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// envTestCmd prints two flags' values.
func envTestCmd() *cobra.Command {
	{
		var n int
		var name string
		c := &cobra.Command{Use: "envtest", Hidden: true, RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Printf("n=%d name=%s\n", n, name)
			return nil
		}}
		c.Flags().IntVar(&n, "retry-count", 1, "")
		c.Flags().StringVar(&name, "sync-name", "default", "")
		return c
	}
}

func TestFlagsFromEnv(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		env      map[string]string
		wantOut  string
		wantCode int
		wantErr  string
	}{
		{"defaults", []string{"envtest"}, nil, "n=1 name=default", 0, ""},
		{"env sets flags", []string{"envtest"}, map[string]string{"JOBSYNC_RETRY_COUNT": "5", "JOBSYNC_SYNC_NAME": "prod"}, "n=5 name=prod", 0, ""},
		{"command line wins", []string{"envtest", "--retry-count=2"}, map[string]string{"JOBSYNC_RETRY_COUNT": "5"}, "n=2 name=default", 0, ""},
		{"bad env value", []string{"envtest"}, map[string]string{"JOBSYNC_RETRY_COUNT": "many"}, "", exitUsage, "JOBSYNC_RETRY_COUNT=\"many\": invalid value for --retry-count"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			env := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			root := newRootCmd(streams{in: strings.NewReader(""), out: &out, err: &errb, env: env})
			root.AddCommand(envTestCmd())
			code := execute(root, tc.args, &errb)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tc.wantCode, errb.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("stdout %q, want %q", out.String(), tc.wantOut)
			}
			if tc.wantErr != "" && !strings.Contains(errb.String(), tc.wantErr) {
				t.Errorf("stderr %q, want %q", errb.String(), tc.wantErr)
			}
		})
	}
}
