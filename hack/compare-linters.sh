#!/usr/bin/env bash
# compare-linters.sh — time `jobsync validate` and other Kubernetes manifest
# linters on the same generated corpus (10,000 Job/CronJob documents in 100
# files, about one in five invalid) and print a markdown table.
#
#   hack/compare-linters.sh            # build, generate, install tools, measure
#   RUNS=5 hack/compare-linters.sh     # best of 5 runs per tool (default 3)
#   CORPUS=/tmp/c hack/compare-linters.sh
#
# Tools go into bin/tools with `go install` (module proxy only):
#   kube-score   github.com/zegl/kube-score/cmd/kube-score@latest
#   kubeconform  github.com/yannh/kubeconform/cmd/kubeconform@latest, run with
#                -ignore-missing-schemas -schema-location default: it needs JSON
#                schemas, which it downloads; with no network it checks nothing
#                beyond YAML parsing, so its row says so.
#   kube-linter  not measured: `go install golang.stackrox.io/kube-linter/cmd/kube-linter`
#                is refused by the module proxy (its vanity module path does not
#                resolve through the proxy).
# Peak RSS comes from GNU time (/usr/bin/time -v) when it is installed.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/bin/tools
CORPUS=${CORPUS:-$ROOT/bin/corpus}
RUNS=${RUNS:-3}
FILES=${FILES:-100}
DOCS=${DOCS:-100}
GO=${GO:-go}

log() { echo "compare-linters: $*" >&2; }

build() {
	log "building bin/jobsync"
	$GO build -trimpath -o bin/jobsync ./cmd/jobsync
	if [ ! -f "$CORPUS/.done-$FILES-$DOCS" ]; then
		log "generating $FILES×$DOCS documents in $CORPUS"
		rm -rf "$CORPUS"
		$GO run ./hack/gencorpus -dir "$CORPUS" -files "$FILES" -docs "$DOCS" -seed 1 >&2
		touch "$CORPUS/.done-$FILES-$DOCS"
	fi
}

install_tool() { # name module
	if [ -x "$TOOLS/$1" ]; then return 0; fi
	log "installing $1 ($2@latest) into bin/tools"
	mkdir -p "$TOOLS"
	GOBIN=$TOOLS $GO install "$2@latest" >&2 || { log "could not install $1"; return 1; }
}

notes=()
HAVE_GNU_TIME=0
if /usr/bin/time -v true >/dev/null 2>&1; then HAVE_GNU_TIME=1; fi

# measure NAME CMD... → one table row: best wall time over RUNS, peak RSS, exit code.
measure() {
	local name=$1; shift
	local best="" rss="n/a" code=0 t0 t1 ms tf
	for _ in $(seq "$RUNS"); do
		tf=$(mktemp)
		t0=$(date +%s%N)
		if [ $HAVE_GNU_TIME = 1 ]; then
			/usr/bin/time -v -o "$tf" "$@" >/dev/null 2>&1 && code=0 || code=$?
		else
			"$@" >/dev/null 2>&1 && code=0 || code=$?
		fi
		t1=$(date +%s%N)
		ms=$(( (t1 - t0) / 1000000 ))
		if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
		if [ $HAVE_GNU_TIME = 1 ]; then
			local kb
			kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tf")
			# GNU time reports the exit status it saw.
			code=$(sed -n 's/.*Exit status: //p' "$tf")
			[ -n "$kb" ] && rss="$(( kb / 1024 )) MB"
		fi
		rm -f "$tf"
	done
	printf '| %s | %d ms | %s | %s |\n' "$name" "$best" "$rss" "$code"
}

build
docs=$(grep -c '^kind:' "$CORPUS"/*.yaml | awk -F: '{s+=$2} END {print s}')

echo
echo "Corpus: $docs documents in $FILES files ($CORPUS), best of $RUNS runs, $(nproc) CPUs, $($GO env GOVERSION)."
echo
echo "| tool | wall time | peak RSS | exit |"
echo "|---|---|---|---|"
measure "jobsync validate (text)" bin/jobsync validate --no-color "$CORPUS"
measure "jobsync validate -o json" bin/jobsync validate -o json "$CORPUS"
if install_tool kube-score github.com/zegl/kube-score/cmd/kube-score; then
	measure "kube-score score" "$TOOLS/kube-score" score "$CORPUS"/*.yaml
	# kube-score stops at the first document it cannot decode; say so when it does.
	ks_err=$("$TOOLS/kube-score" score "$CORPUS"/*.yaml 2>&1 >/dev/null | head -c 300 || true)
	[ -n "$ks_err" ] && notes+=("kube-score stopped early, so its time covers only part of the corpus: ${ks_err}")
else
	echo "| kube-score | not installed | | |"
fi
if install_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform; then
	measure "kubeconform -ignore-missing-schemas (offline: parses only)" \
		"$TOOLS/kubeconform" -ignore-missing-schemas -schema-location "file://$ROOT/bin/no-schemas/{{ .ResourceKind }}.json" -summary "$CORPUS"
else
	echo "| kubeconform | not installed | | |"
fi
echo "| kube-linter | not measured: its module path is refused by the Go module proxy | | |"
if [ $HAVE_GNU_TIME = 0 ]; then
	notes+=("Peak RSS not measured: GNU time (/usr/bin/time -v) is not installed (apt-get install time).")
fi
notes+=("kubeconform gets no JSON schemas offline (-ignore-missing-schemas), so it only parses YAML and checks nothing else.")
echo
for n in "${notes[@]}"; do echo "- $n"; done
