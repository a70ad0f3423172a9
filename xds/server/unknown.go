package server

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// maxRememberedUnknown bounds the unknown names remembered per stream and
// type; a client asking for more is recounted, not remembered, whenever
// its names change.
const maxRememberedUnknown = 1024

// unknownNames counts and logs the names a request newly asks for that the
// proxy's group is not served. They get nothing (the caches answer with the
// resources that exist), but a proxy asking for another group's secret is
// either misconfigured or probing, and worth knowing about. A name the group
// was served before the last change is not counted: a proxy keeps asking for
// it until the new listeners or clusters reach it. SotW requests repeat
// their names, so a name counts when the stream's previous request of the
// type did not already ask for it; each delta subscription is new.
func (c *callbacks) unknownNames(k streamKey, n *corev3.Node, typeURL string, names []string, sotw bool) {
	if shortTypes[typeURL] == "" || len(names) == 0 && !sotw {
		return
	}
	if sotw && c.proxies.askedAgain(k, typeURL, names, c.names.quickOf(names)) {
		// The names of the previous request, which were counted then: an
		// ACK repeats every name of its type, and looking each up again
		// was a twentieth of the server's CPU in a reconnect storm.
		return
	}
	group := c.proxies.groupOf(k)
	has, ok := c.groups.served(group, typeURL)
	if !ok {
		return // nothing served yet, nothing to compare with
	}
	var unknown []string
	for _, name := range names {
		if name != "*" && !has(name) { // "*" is a wildcard subscription
			unknown = append(unknown, name)
		}
	}
	fresh := c.proxies.newlyUnknown(k, typeURL, unknown, sotw)
	if len(fresh) == 0 {
		return
	}
	c.proxies.metrics.unknown.WithLabelValues(shortType(typeURL)).Add(float64(len(fresh)))
	shown := make([]string, 0, 5)
	for _, name := range fresh[:min(len(fresh), cap(shown))] {
		shown = append(shown, clip(name))
	}
	c.log.Warn("proxy asked for resources its group is not served; it gets nothing for them",
		"node", clip(n.GetId()), "group", group, "type", shortType(typeURL), "count", len(fresh), "names", shown)
}

// askedAgain reports whether a SotW request names what the stream's
// previous request of the type did, and records its names otherwise.
// q is quickSumOf(names).
func (p *proxies) askedAgain(k streamKey, typeURL string, names []string, q quickSum) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.streams[k]
	if !ok {
		return false
	}
	t := s.typeState(typeURL)
	if t.asked == q && t.askedLen == len(names) {
		return true
	}
	t.asked, t.askedLen = q, len(names)
	return false
}

// newlyUnknown returns the unknown names the stream did not already ask for
// in its previous request of the type; with replace (SotW), unknown becomes
// that previous request's.
func (p *proxies) newlyUnknown(k streamKey, typeURL string, unknown []string, replace bool) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.streams[k]
	if !ok {
		return nil
	}
	t := s.typeState(typeURL)
	var fresh []string
	for _, name := range unknown {
		if !t.unknown[name] {
			fresh = append(fresh, name)
		}
	}
	if replace {
		t.unknown = make(map[string]bool, min(len(unknown), maxRememberedUnknown))
		for _, name := range unknown[:min(len(unknown), maxRememberedUnknown)] {
			t.unknown[name] = true
		}
	}
	return fresh
}

// groupOf returns the group of an identified stream.
func (p *proxies) groupOf(k streamKey) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.streams[k]; ok {
		return s.group
	}
	return ""
}
