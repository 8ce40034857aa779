// Package render turns local input — a file, a directory of YAML/JSON files, a
// kustomization directory, or stdin — into a stream of single-object documents,
// each with the file and line it came from.
//
// Entry point: Render.
package render
