#!/usr/bin/env bash
# make run: turn examples/ into a local Git repository (once; later runs commit
# any change to examples/), then run the agent on it with the embedded target.
# Everything it writes lives under .run/ (delete it to start afresh).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
repo=.run/examples-repo
state=.run/state
bin=${JOBSYNC_BIN:-bin/jobsync}
mkdir -p "$repo" "$state"

# Sync examples/ (without the deliberately broken ones) into the repo and commit.
if [[ ! -d "$repo/.git" ]]; then
  git -C "$repo" init -q -b main
fi
rsync -a --delete --exclude .git --exclude broken examples/ "$repo/" 2>/dev/null || {
  find "$repo" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
  tar -C examples --exclude broken -cf - . | tar -C "$repo" -xf -
}
git -C "$repo" add -A
if ! git -C "$repo" diff --cached --quiet 2>/dev/null || ! git -C "$repo" rev-parse -q --verify HEAD >/dev/null; then
  git -C "$repo" -c user.name=jobsync -c user.email=jobsync@localhost commit -q -m "examples from $(git rev-parse --short HEAD 2>/dev/null || echo worktree)"
fi

cat <<MSG
jobsync: running the agent on $repo (overlays/dev) with the embedded target.
  In another terminal:  $bin get cronjobs --state-dir $state
                        $bin get jobs --state-dir $state
                        $bin logs <job-or-pod> --state-dir $state
  Stop with Ctrl-C; state (runs, logs) is kept in $state.
MSG
exec "$bin" agent --repo "$repo" --path overlays/dev --target embedded \
  --state-dir "$state" --interval 30s "$@"
