// Package slowwrite writes files the way that makes reloading them unsafe:
// in place (truncate, then write), one line at a time, pausing between
// lines, as an editor saving without a rename, an interrupted or slow copy,
// or a writer that stalls mid-file does. While it runs the file holds, in
// turn, the truncation of the new content at every line boundary. The
// reload-safety tests use it to show that no such state reaches a proxy.
// Only tests import it.
package slowwrite
