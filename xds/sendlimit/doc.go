// Package sendlimit knows, before anything is sent, whether the ADS server
// can send a configuration: the limit gRPC enforces on one response, and
// the size of the largest response of each resource type.
//
// Pipeline position: after translate, shared by the pipeline and the ADS
// server, which must not import each other. The server takes its send limit
// from here (gRPC's MaxSendMsgSize) and checks every snapshot against it;
// the pipeline checks every proxy group at load, so `trustgate check` and a
// reload refuse what could not be sent, naming the object, instead of the
// push failing later. It imports translate's Resources and go-control-plane's
// type URLs; it must not import the model, the IR, the pipeline or the
// server.
package sendlimit
