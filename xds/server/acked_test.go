package server_test

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
)

// waitServerAcked waits until the server has handled every ACK the fake
// Envoy sent: its versions on /debug/proxies are the client's and no
// response is pending. A client holds a response before the server reads
// its ACK, and a test that reconnects right after WaitComplete would
// otherwise race the server's record of what the client holds (sotwStream.resume
// trusts only the secrets it saw ACKed).
func (h *harness) waitServerAcked(e *envoytest.Client) {
	h.t.Helper()
	want := e.View().Versions
	deadline := time.Now().Add(timeout)
	for {
		code, body := h.admin("/debug/proxies")
		if code != http.StatusOK {
			h.t.Fatalf("/debug/proxies: %d %s", code, body)
		}
		var ps []server.ProxyStatus
		if err := json.Unmarshal([]byte(body), &ps); err != nil {
			h.t.Fatal(err)
		}
		if ackedAll(ps, want) {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the server did not see the ACKs of versions %v; /debug/proxies: %s", want, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ackedAll reports whether one stream's ACKed versions are want's, with
// nothing pending.
func ackedAll(ps []server.ProxyStatus, want map[string]string) bool {
	if len(ps) != 1 {
		return false
	}
	acked := 0
	for _, ts := range ps[0].Types {
		if ts.Pending > 0 {
			return false
		}
		for _, v := range want {
			if ts.AckedVersion == v {
				acked++
				break
			}
		}
	}
	return acked == len(want)
}
