package labelset

// Selects reports whether a selector selects labels: every label of the
// selector is among them with the same value. An empty selector selects
// every label set (Istio's workloadSelector and Gateway selector rule).
func Selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
