package kubernetes

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trustgate/trustgate/model"
)

func TestServiceOf(t *testing.T) {
	for name, tc := range map[string]struct {
		host string
		want nsName
		ok   bool
	}{
		"service":        {"backend.edge.svc.cluster.local", nsName{"edge", "backend"}, true},
		"upper case":     {"Backend.Edge.svc.cluster.local", nsName{"edge", "backend"}, true},
		"other domain":   {"backend.edge.svc.example.org", nsName{}, false},
		"pod subdomain":  {"a.backend.edge.svc.cluster.local", nsName{}, false},
		"external":       {"api.example.com", nsName{}, false},
		"empty segments": {".edge.svc.cluster.local", nsName{}, false},
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := serviceOf(tc.host, "cluster.local")
			if got != tc.want || ok != tc.ok {
				t.Errorf("serviceOf(%q) = %v, %v; want %v, %v", tc.host, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestPortProtocol(t *testing.T) {
	app := func(s string) *string { return &s }
	for name, tc := range map[string]struct {
		port corev1.ServicePort
		want string
	}{
		"name http":        {corev1.ServicePort{Name: "http-web"}, "HTTP"},
		"name grpc":        {corev1.ServicePort{Name: "grpc"}, "GRPC"},
		"appProtocol wins": {corev1.ServicePort{Name: "http", AppProtocol: app("kubernetes.io/h2c")}, "HTTP2"},
		"unnamed":          {corev1.ServicePort{}, "TCP"},
		"https":            {corev1.ServicePort{Name: "https"}, "HTTPS"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := portProtocol(tc.port); got != tc.want {
				t.Errorf("portProtocol = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestServiceEntry(t *testing.T) {
	ready, notReady := true, false
	http, port := "http", int32(9090)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "backend", Namespace: "edge"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10", Ports: []corev1.ServicePort{
			{Name: "http", Port: 8080}, {Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
		}},
	}
	slice := func(addrs map[string]*bool) *discoveryv1.EndpointSlice {
		es := &discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv4, Ports: []discoveryv1.EndpointPort{{Name: &http, Port: &port}}}
		for a, r := range addrs {
			es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}, Conditions: discoveryv1.EndpointConditions{Ready: r}})
		}
		return es
	}
	for name, tc := range map[string]struct {
		slices []*discoveryv1.EndpointSlice
		want   []model.WorkloadEntry
	}{
		"ready only, sorted, deduplicated": {
			slices: []*discoveryv1.EndpointSlice{slice(map[string]*bool{"10.1.0.2": &ready, "10.1.0.3": &notReady, "10.1.0.1": nil}), slice(map[string]*bool{"10.1.0.2": &ready})},
			want: []model.WorkloadEntry{
				{Address: "10.1.0.1", Ports: map[string]uint32{"http": 9090}},
				{Address: "10.1.0.2", Ports: map[string]uint32{"http": 9090}},
			},
		},
		"no ready endpoint: the cluster IP": {
			slices: []*discoveryv1.EndpointSlice{slice(map[string]*bool{"10.1.0.3": &notReady})},
			want:   []model.WorkloadEntry{{Address: "10.96.0.10", Ports: map[string]uint32{"http": 8080}}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			se := serviceEntry("backend.edge.svc.cluster.local", svc, tc.slices)
			if diff := cmp.Diff(tc.want, se.Spec.Endpoints); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]model.ServicePort{{Number: 8080, Name: "http", Protocol: "HTTP"}}, se.Spec.Ports); diff != "" {
				t.Errorf("ports (-want +got), UDP left out:\n%s", diff)
			}
		})
	}
	headless := svc.DeepCopy()
	headless.Spec.ClusterIP = corev1.ClusterIPNone
	if se := serviceEntry("backend.edge.svc.cluster.local", headless, nil); se != nil {
		t.Errorf("a headless Service without endpoints got a ServiceEntry %v; its host must stay DNS", se.Spec)
	}
}

func TestMergeConditionsKeepsOthers(t *testing.T) {
	then := "2026-01-01T00:00:00Z"
	current := []any{
		map[string]any{"type": "Reconciled", "status": "True"}, // Istio's
		map[string]any{"type": istioPrefix + ConditionAccepted, "status": "True", "lastTransitionTime": then},
		map[string]any{"type": istioPrefix + ConditionProgrammed, "status": "True", "lastTransitionTime": then},
	}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	got := mergeConditions(current, istioPrefix, []condition{
		{Type: ConditionAccepted, Status: "True", Reason: "Valid"},
		{Type: ConditionProgrammed, Status: "False", Reason: "HeldBack"},
	}, 3, now)
	if len(got) != 3 || got[0].(map[string]any)["type"] != "Reconciled" {
		t.Fatalf("conditions = %v; want Istio's Reconciled kept and ours replaced", got)
	}
	if at := got[1].(map[string]any)["lastTransitionTime"]; at != then {
		t.Errorf("Accepted kept its status but its transition time became %v", at)
	}
	if at := got[2].(map[string]any)["lastTransitionTime"]; at != "2026-02-01T00:00:00Z" {
		t.Errorf("Programmed changed status but its transition time is %v", at)
	}
}

func TestMergeMessagesKeepsIstios(t *testing.T) {
	current := []any{
		map[string]any{"type": map[string]any{"code": "IST0101"}, "level": "ERROR"},
		map[string]any{"type": map[string]any{"code": codeError}, "level": "ERROR", "message": "old"},
	}
	got := mergeMessages(current, ObjectResult{Errors: []string{"spec.x: bad"}, Warnings: []string{"w"}})
	want := []any{
		map[string]any{"type": map[string]any{"code": "IST0101"}, "level": "ERROR"},
		message(codeError, "TrustgateError", "ERROR", "spec.x: bad"),
		message(codeWarning, "TrustgateWarning", "WARNING", "w"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("validationMessages (-want +got):\n%s", diff)
	}
}

func TestOutcomeAttributesErrors(t *testing.T) {
	gw := objectRef{Kind: servedKind{kind: kinds[0]}, Namespace: "edge", Name: "gw", Generation: 2}
	vs := objectRef{Kind: servedKind{kind: kinds[1]}, Namespace: "edge", Name: "app", Generation: 1}
	notFound := &model.FieldError{Object: "Gateway edge/gw", Path: "spec.servers[0].tls.credentialName", Msg: "secret not found", Err: model.ErrSecretNotFound}
	err := errors.Join(
		&model.ErrorList{Errs: []*model.FieldError{notFound, {Object: "Secret edge/x", Path: "data", Msg: "bad"}}},
		errors.New("translating: boom"),
	)
	out := outcomeOf(evaluation{objects: []objectRef{gw, vs}, err: err})
	if out.OK {
		t.Error("an outcome with errors is OK")
	}
	if diff := cmp.Diff([]string{"spec.servers[0].tls.credentialName: secret not found"}, out.Objects[0].Errors); diff != "" {
		t.Errorf("Gateway errors (-want +got):\n%s", diff)
	}
	if len(out.Objects[0].SecretNotFound) != 1 {
		t.Errorf("the missing Secret is not marked: %v", out.Objects[0].SecretNotFound)
	}
	if len(out.Objects[1].Errors) != 0 {
		t.Errorf("the VirtualService got errors not its own: %v", out.Objects[1].Errors)
	}
	if diff := cmp.Diff([]string{"Secret edge/x: data: bad", "translating: boom"}, out.Global); diff != "" {
		t.Errorf("global errors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Gateway edge/gw"}, out.Blocking); diff != "" {
		t.Errorf("blocking (-want +got):\n%s", diff)
	}
}

// TestSecretDocumentKeepsOnlyTrustgateKeys: of a Secret read from the API,
// only the keys trustgate reads are kept.
func TestSecretDocumentKeepsOnlyTrustgateKeys(t *testing.T) {
	doc, err := secretDocument(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "edge"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"tls.crt": []byte("C"), "tls.key": []byte("K"), "db-password": []byte("hunter2")},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := string(doc)
	want := `{"apiVersion":"v1","data":{"tls.crt":"Qw==","tls.key":"Sw=="},"kind":"Secret","metadata":{"name":"s","namespace":"edge"},"type":"kubernetes.io/tls"}`
	if got != want {
		t.Errorf("document = %s\nwant       %s", got, want)
	}
}

// TestSecretFindingsGoToTheirUsers: a finding about a Secret shows on the
// objects that name it.
func TestSecretFindingsGoToTheirUsers(t *testing.T) {
	gw := objectRef{Kind: servedKind{kind: kinds[0]}, Namespace: "edge", Name: "gw", Generation: 1}
	vs := objectRef{Kind: servedKind{kind: kinds[1]}, Namespace: "edge", Name: "app", Generation: 1}
	w := wanted{users: map[nsName][]string{{"edge", "gw"}: {"Gateway edge/gw"}}}
	diag := "Secret edge/gw: serving certificate of chain c: the key does not match"
	out := outcomeOf(evaluation{objects: []objectRef{gw, vs}, wanted: w, err: errors.Join(errors.New(diag))})
	if diff := cmp.Diff([]string{diag}, out.Objects[0].Errors); diff != "" {
		t.Errorf("Gateway errors (-want +got):\n%s", diff)
	}
	if len(out.Objects[1].Errors) != 0 || len(out.Global) != 0 {
		t.Errorf("the finding went elsewhere too: VirtualService %v, global %v", out.Objects[1].Errors, out.Global)
	}
}

// TestJudgeCountsOnlyWhatTheChangeBrings: the webhook refuses an object
// for its own errors and for errors it adds elsewhere, not for errors that
// were there before (an expired CRL on another Gateway, say).
func TestJudgeCountsOnlyWhatTheChangeBrings(t *testing.T) {
	gw := objectRef{Kind: servedKind{kind: kinds[0]}, Namespace: "edge", Name: "gw"}
	vs := objectRef{Kind: servedKind{kind: kinds[1]}, Namespace: "edge", Name: "app"}
	pol := objectRef{Kind: servedKind{kind: kinds[5]}, Namespace: "edge", Name: "p"}
	before := &Outcome{Objects: []ObjectResult{
		{Ref: gw, Errors: []string{"Secret edge/gw: CRL expired"}},
		{Ref: vs}, {Ref: pol},
	}, Global: []string{"old global"}}
	after := &Outcome{Objects: []ObjectResult{
		{Ref: gw, Errors: []string{"Secret edge/gw: CRL expired"}},
		{Ref: vs, Errors: []string{"spec.http: bad", "spec.tls: secret missing"}, SecretNotFound: []string{"spec.tls: secret missing"}, Warnings: []string{"w"}},
		{Ref: pol, Errors: []string{"spec.targetRef.sectionName: no such server"}},
	}, Global: []string{"old global", "new global"}}
	errs, warnings := judge(vs, before, after)
	wantErrs := []string{
		"VirtualService edge/app: spec.http: bad",
		"this change breaks ClientCertificatePolicy edge/p: spec.targetRef.sectionName: no such server",
		"new global",
	}
	if diff := cmp.Diff(wantErrs, errs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"VirtualService edge/app: spec.tls: secret missing", "VirtualService edge/app: w"}, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
