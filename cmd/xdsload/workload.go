package main

import (
	"io"
	"path/filepath"

	"github.com/trustgate/trustgate/internal/scalecfg"
	"github.com/trustgate/trustgate/labelset"
)

// workload is the configuration on disk and how to change it.
type workload struct {
	opts            scalecfg.Options
	config, secrets string
}

func newWorkload(dir string, o scalecfg.Options) (*workload, error) {
	w := &workload{
		opts:    o,
		config:  filepath.Join(dir, scalecfg.IstioFile),
		secrets: filepath.Join(dir, scalecfg.SecretsDir),
	}
	return w, scalecfg.Write(dir, w.opts, false)
}

func (w *workload) groupKey() string { return labelset.Key(scalecfg.Selector) }

// apply makes one change, by atomic replacement of files: the next revision
// of host 0's route (the configuration file renamed into place), or a new
// wildcard certificate (certs writes each file by rename).
func (w *workload) apply(change string) error {
	if change == "cert" {
		return scalecfg.Rotate(w.secrets)
	}
	w.opts.Rev++
	return scalecfg.ReplaceFile(w.config, func(out io.Writer) error { return scalecfg.Istio(out, w.opts) })
}
