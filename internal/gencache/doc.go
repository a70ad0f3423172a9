// Package gencache is the cache by generations that the incremental build
// keeps across loads (model's documents, translate's resources): a load
// looks entries up and adds them to the current generation; Commit, at the
// end of a good load, keeps only what that load used, so memory follows the
// configuration and not the history of edits; Abort, after a failed load,
// keeps the last good load's entries as well, so the next good load still
// finds them.
//
// It is a leaf: standard library only.
package gencache
