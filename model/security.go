package model

// AuthorizationPolicy is security.istio.io AuthorizationPolicy (v1, v1beta1);
// field names as in Istio's reference.
type AuthorizationPolicy struct {
	Object `json:",inline"`
	Spec   AuthorizationPolicySpec `json:"spec"`
}

// AuthorizationPolicySpec is AuthorizationPolicy.spec.
type AuthorizationPolicySpec struct {
	Selector   *WorkloadSelector       `json:"selector,omitempty"`
	TargetRef  *PolicyTargetReference  `json:"targetRef,omitempty"`
	TargetRefs []PolicyTargetReference `json:"targetRefs,omitempty"`
	Action     string                  `json:"action,omitempty"`
	Rules      []Rule                  `json:"rules,omitempty"`
}

// WorkloadSelector selects proxies by label.
type WorkloadSelector struct {
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

// PolicyTargetReference names the object a policy attaches to.
type PolicyTargetReference struct {
	Group       string `json:"group,omitempty"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Namespace   string `json:"namespace,omitempty"`
	SectionName string `json:"sectionName,omitempty"`
}

// Rule is one authorization rule: some From AND some To AND every When.
type Rule struct {
	From []RuleFrom  `json:"from,omitempty"`
	To   []RuleTo    `json:"to,omitempty"`
	When []Condition `json:"when,omitempty"`
}

// RuleFrom wraps a Source.
type RuleFrom struct {
	Source Source `json:"source"`
}

// RuleTo wraps an Operation.
type RuleTo struct {
	Operation Operation `json:"operation"`
}

// Source is who sends the request; fields are AND-ed, values OR-ed.
type Source struct {
	Principals        []string `json:"principals,omitempty"`
	NotPrincipals     []string `json:"notPrincipals,omitempty"`
	IPBlocks          []string `json:"ipBlocks,omitempty"`
	NotIPBlocks       []string `json:"notIpBlocks,omitempty"`
	RemoteIPBlocks    []string `json:"remoteIpBlocks,omitempty"`
	NotRemoteIPBlocks []string `json:"notRemoteIpBlocks,omitempty"`
}

// Operation is what the request does; fields are AND-ed, values OR-ed.
type Operation struct {
	Hosts      []string `json:"hosts,omitempty"`
	NotHosts   []string `json:"notHosts,omitempty"`
	Ports      []string `json:"ports,omitempty"`
	NotPorts   []string `json:"notPorts,omitempty"`
	Methods    []string `json:"methods,omitempty"`
	NotMethods []string `json:"notMethods,omitempty"`
	Paths      []string `json:"paths,omitempty"`
	NotPaths   []string `json:"notPaths,omitempty"`
}

// Condition is one `when` entry.
type Condition struct {
	Key       string   `json:"key"`
	Values    []string `json:"values,omitempty"`
	NotValues []string `json:"notValues,omitempty"`
}

// Secret is a Kubernetes v1 Secret holding certificates.
type Secret struct {
	Object     `json:",inline"`
	Type       string            `json:"type,omitempty"`
	Data       map[string]string `json:"data,omitempty"`
	StringData map[string]string `json:"stringData,omitempty"`
	Immutable  *bool             `json:"immutable,omitempty"`
}
