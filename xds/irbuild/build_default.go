package irbuild

// markDefaultServer makes the only server of a port that terminates TLS the
// default server of that port: its chain then also takes clients that send
// no SNI (curl https://127.0.0.1:8443/, many IoT and Java clients) or an SNI
// it does not name, which Envoy would otherwise close for want of a
// matching filter chain (ActiveStreamListenerBase::newConnection, "no
// matching filter chain found", in source/common/listener_manager/
// active_stream_listener_base.cc). That is nginx's rule for a lone server
// block, and what a sidecar in front of one app needs.
//
// Nothing is opened that was closed to another server: there is none on the
// port. The host binding stays as it is: the chain's route configuration
// routes the server's hosts only and answers 421 for any other Host
// (confineHosts), so a client connecting by IP must still send a Host the
// server serves. A port with several servers keeps matching by SNI only,
// since choosing one of them as the default would hand its certificate
// policy to clients of the others.
func markDefaultServer(g *portGroup, chains []*chainInfo) {
	if len(g.servers) != 1 || len(chains) != 1 {
		return
	}
	if k := g.servers[0].kind; k != kindTerminateHTTP && k != kindTerminateTCP {
		return
	}
	c := chains[0].chain
	c.DefaultServer = len(c.ServerNames) > 0 && c.TLS != nil
}
