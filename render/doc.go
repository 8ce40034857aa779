// Package render turns local input — a file, a directory of YAML/JSON files, a
// kustomization directory, or stdin — into a stream of single-object documents,
// each with the file and line it came from.
//
// Entry points: RenderContext, and Render without a context.
//
// # What a path means
//
//   - "-": Options.Stdin, read as a YAML stream (JSON is YAML); Origin.File is "-".
//   - A file: rendered whatever its name or extension. A file named like a
//     kustomization file (kustomization.yaml, kustomization.yml,
//     Kustomization) means its directory, built with kustomize.
//   - A directory holding a kustomization file: `kustomize build` of that
//     directory, nothing else (exactly what kustomize itself would output).
//     Point at the top kustomization (say examples/, which lists
//     overlays/dev and overlays/prod) to check every environment at once.
//   - Any other directory: plain-file mode. Every *.yaml, *.yml and *.json
//     file below it (extension case-insensitive), sorted by slash-separated
//     path; hidden files and directories (.git, .github, .jobsync.yaml,
//     .gitlab-ci.yml, ...) are skipped, symlinks to regular files are
//     followed, symlinked directories are not. Kustomizations met in
//     subdirectories are NOT built: a directory without its own kustomization
//     file is plain files all the way down, so their resources and patch
//     files are rendered as they are written. Only the kustomization files
//     themselves are skipped, being build configuration rather than objects.
//     To check a kustomize layout, name its top kustomization directory (or
//     each overlay) instead.
//
// A path that does not exist is Render's error ("render: path X: no such file
// or directory"); so is "-" without Options.Stdin. Everything else that is
// wrong is a Document with Err, so that a caller reports it against the file
// and goes on with the rest.
//
// # Documents
//
// A YAML stream is cut at "---" (and "...") lines; each document's Data is
// the file's own bytes from its first line that is not blank, a comment or a
// separator, and Origin.Line is that line (1-based), so line n of Data is line
// Origin.Line+n-1 of the file. Documents holding only comments or white space
// are dropped. A file with no object at all (empty, comments only, an empty
// List) is one Document with neither Data nor Err, for the caller to report
// as "no objects".
//
// A .json file holds one value; a top-level JSON array is expanded into one
// document per element, each with its own line. A document of `kind: List`
// (YAML or JSON) is expanded into its items: block-style items keep their
// own text, de-indented so that the line rule above still holds; flow-style
// items (JSON) are re-encoded as compact JSON and only Origin.Line is
// meaningful for them. A List that cannot be cut cleanly (items that are not
// mappings, anchors and aliases in flow items) stays one document for the
// decoder to judge.
//
// Files with NUL bytes or invalid UTF-8 are one document with ErrBinary;
// documents over Options.MaxDocumentBytes are ErrTooLarge documents (their
// neighbours are kept); unreadable files are one document with the read error.
//
// # Kustomize
//
// Builds use sigs.k8s.io/kustomize/api/krusty with plugins off (no exec, Go
// or Helm plugins; builtin generators and transformers work) and load
// restrictions root-only: a kustomization reads files only inside its own
// directory tree and reaches other directories only as bases. Bases, in turn,
// must lie inside the root (see FindRoot): Options.Root when given; else the
// Git work tree holding the first path; else that path itself. The current
// directory plays no part, so a path renders the same from any directory.
// A kustomization outside that root is fenced by its own Git work tree, else
// its own directory. Loads past the fence fail with ErrOutsideRoot, whose
// message names --root when no Git work tree holds the kustomization. Remote bases and files (http(s)://, git@...,
// github.com/..., ?ref=...) are refused with ErrRemoteBase, which names the
// --allow-remote-bases flag, unless Options.AllowRemoteBases is set; the
// check follows local bases, so a remote base two levels down is found too.
//
// Each output object's Origin is the file it came from (kustomize origin
// annotations are switched on for the build and removed from Data again,
// unless the kustomization asked for them itself), and the line of the
// object in that file, found by kind and name (kustomize prefixes and
// suffixes allowed). Generated objects (configMapGenerator, ...) point at
// the kustomization file with Line 0. A failed build is one document with
// ErrKustomize for the kustomization file, its message with paths made
// relative.
//
// # Limits
//
// A render is bounded (docs/security-rendering.md): every file kustomize
// loads first goes through a pre-load check (checkYAML: aliases that would
// expand past 100,000 added nodes or 1,000 levels are ErrAliasBomb, since
// kyaml expands them without limit) and counts against
// Options.MaxTotalBytes; documents past Options.MaxDocuments or
// MaxTotalBytes, and a render past Options.Timeout, become one ErrLimit
// document naming the flag that raises the limit. RenderContext's context
// is checked between files and at every kustomize load; when it ends, the
// render returns its error and no documents, abandoning a kustomize build
// under way. kustomize's git clones are removed after each build.
package render
