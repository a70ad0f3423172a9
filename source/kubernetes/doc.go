// Package kubernetes is a configuration source beside the files: it reads
// trustgate's objects from the Kubernetes API with client-go informers and
// hands them to the same decoder, validation, IR and translation as files
// (model.LoadDocuments, compile.FromModel). The server and the pipeline do
// not know where a configuration came from.
//
// Pipeline position: API server -> this package -> model -> pipeline ->
// xds/server, which it feeds as a server.Source (Load, Watch), as
// source/file does for files. It also writes each object's result back to its status (one
// replica, chosen by a coordination.k8s.io Lease), and answers a validating
// admission webhook with the same validation and certificate diagnosis as
// `trustgate check`.
//
// Decisions, and why:
//
//   - Objects are read as unstructured (dynamic informers) and decoded by
//     trustgate's own model, not with istio.io/client-go's typed objects.
//     One decoder means one validation path: an unknown field, a wrong type
//     or a bad value gets the same message from a file, from the API and
//     from the webhook, and every error names its object the way a file
//     error does ("Gateway edge/shared: spec.servers[0].tls.mode: ...").
//     It also avoids a second copy of every Istio type and its generated
//     clientset, and lets one informer read whichever of v1, v1beta1 and
//     v1alpha3 the API server serves.
//   - A broken object never takes down what was working: the whole
//     configuration is accepted or held back, as with files (last good).
//     Istio accepts object by object, but for an authentication gateway
//     dropping one object is not neutral: without a broken
//     AuthorizationPolicy DENY or ClientCertificatePolicy, requests it
//     refused would pass. So the last good configuration stays served, in
//     full, and the status of every object says whether its current
//     generation is accepted and whether it is served or held back (and by
//     which objects). The admission webhook refuses most broken objects
//     before they are stored, so holding back is the rare case.
//   - Secrets are watched as metadata only (names, labels, resourceVersion:
//     no data); the data of a Secret is read (GET) only when a
//     configuration references it, and only the keys trustgate reads are
//     kept. Namespace and label selectors narrow what is watched.
//   - A finding about a Secret (its data, or the certificate diagnosis)
//     shows on the objects that name the Secret, in status and as Events.
//   - Kubernetes Service destinations ("name.ns.svc.cluster.local", or a
//     short name, expanded with Istio's namespace rule) are served over EDS
//     from the Service's ready EndpointSlice endpoints.
//   - Of client-go, only the REST, dynamic and metadata clients and the
//     informer cache: the typed groups read and written (Services,
//     EndpointSlices, Secrets, Events, Leases) through REST clients with a
//     scheme of their three groups, and the status writer's election is
//     client-go's algorithm on that client (clients.go, elect.go). client-go's
//     typed clients, informer factories and leader election link every
//     generated client of every API group: half of the binary's packages
//     and about 10 ms of every start of it, `translate` included
//     (internal/layers keeps them out).
//
// This package must not import go-control-plane; it feeds xds/server
// through server.Config only.
package kubernetes
