package kubetest

import (
	"io/fs"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/client-go/rest"

	"github.com/trustgate/trustgate/deploy"
)

// RenderChart renders deploy/chart as `helm template --include-crds`
// would, with Helm's own engine: the CRDs first, then every template in
// name order, as one YAML stream.
func RenderChart(release, namespace string, values map[string]any) ([]byte, error) {
	return RenderChartWith(nil, release, namespace, values)
}

// RenderChartWith renders as `helm upgrade` would against the cluster of
// cfg: the chart's lookup calls see the objects there.
func RenderChartWith(cfg *rest.Config, release, namespace string, values map[string]any) ([]byte, error) {
	var files []*loader.BufferedFile
	err := fs.WalkDir(deploy.Chart(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(deploy.Chart(), p)
		if err != nil {
			return err
		}
		files = append(files, &loader.BufferedFile{Name: p, Data: b})
		return nil
	})
	if err != nil {
		return nil, err
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, err
	}
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{Name: release, Namespace: namespace, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	var rendered map[string]string
	if cfg != nil {
		rendered, err = engine.RenderWithClient(ch, vals, cfg)
	} else {
		rendered, err = engine.Render(ch, vals)
	}
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, crd := range ch.CRDObjects() {
		b.WriteString("---\n")
		b.Write(crd.File.Data)
	}
	names := make([]string, 0, len(rendered))
	for n := range rendered {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if strings.TrimSpace(rendered[n]) == "" || strings.HasSuffix(n, "NOTES.txt") {
			continue
		}
		b.WriteString("---\n# Source: " + n + "\n")
		b.WriteString(rendered[n])
		b.WriteString("\n")
	}
	return []byte(b.String()), nil
}
