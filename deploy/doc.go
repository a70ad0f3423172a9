// Package deploy holds the Helm chart (chart/) and embeds it, so the tests
// render and apply exactly what `helm install ./deploy/chart` would, and so
// the ClientCertificatePolicy CRD has one copy: chart/crds, generated from
// the model's types (`go test ./deploy -update`).
//
// It imports only the model (for the CRD's schema test); nothing in the
// trustgate binary imports it.
package deploy
