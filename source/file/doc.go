// Package file is the configuration source that reads files: the
// configuration paths and the secrets directory `trustgate serve` is
// given. It loads them through the pipeline and tells the ADS server when
// to load again; the server itself never touches a file.
//
// Pipeline position: before everything. files -> (this package) ->
// model.Load -> ... -> pipeline -> xds/server. It imports the model and the
// pipeline (to load) and the server's Source contract; the server does not
// import it, and no stage after the model may.
//
// The contract it implements is xds/server's Source (two methods) and,
// optionally, Settling; any other source (the Kubernetes API, say) plugs
// into the server the same way:
//
//	type Source interface {
//		Load() (Config, error)                          // the configuration as it is now
//		Watch(ctx context.Context, reload func()) error // call reload after changes, until ctx ends
//	}
//	type Settling interface{ Settling() bool }      // changes wait to settle: no held-back retry now
//
// A source whose Load finds its input changed while it was read returns
// server.ErrInputsChanged; the server then changes nothing, and the source
// calls reload once its input has settled (even for the server's first
// load, before anything watched). A source that only needs "load now" can
// instead give the server a Loader (server.Options.Loader) and call
// Server.Reload itself.
//
// Reloads are transactions over settled input (watch.go, inputs.go):
//
//   - an atomic replacement (a file renamed into place, a Kubernetes
//     "..data" swap, a removal) loads after Options.Debounce, at the latest
//     ten debounces after the first change;
//   - a file written in place loads only once it has not changed for
//     Options.Settle, so a writer that pauses mid-file never causes a load;
//   - Load records every input file's size, time, type and inode before and
//     after reading, and drops a load during which any changed
//     (server.ErrInputsChanged): it is read again once settled.
//
// Directories are watched recursively; hidden files and directories
// (editors' swap files, ".git", Kubernetes' "..<timestamp>" directories) are
// skipped, as the model's loader skips them.
package file
