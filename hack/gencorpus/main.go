// Command gencorpus writes the generated validation corpus (mixed valid and
// invalid Jobs and CronJobs) that hack/compare-linters.sh and the benchmarks use:
//
//	go run ./hack/gencorpus -dir /tmp/corpus -files 100 -docs 100 -seed 1
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/jobsync/jobsync/internal/corpus"
)

func main() {
	dir := flag.String("dir", "corpus", "directory to write the files into")
	files := flag.Int("files", 100, "number of files")
	docs := flag.Int("docs", 100, "documents per file")
	seed := flag.Int64("seed", 1, "random seed (the same seed writes the same bytes)")
	flag.Parse()
	if err := corpus.Generate(*dir, *files, *docs, *seed); err != nil {
		fmt.Fprintf(os.Stderr, "gencorpus: %v\n", err)
		os.Exit(2)
	}
	fmt.Printf("%d files × %d documents in %s\n", *files, *docs, *dir)
}
