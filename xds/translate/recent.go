package translate

import "github.com/trustgate/trustgate/internal/anymemo"

// recentPayloads are the findings of typed configs toAny packed lately, by
// type URL and bytes: a cold build of 10,000 hosts packs the same access
// log, TLS context, router and retry predicate 10,000 times each, and
// validated and walked each (docs/performance.md). An entry holds the first
// Any's own bytes, not a copy. At most recentMax are kept: past that the
// set starts again, so that a server building config after config does not
// hold every payload it ever packed (at 10,000 hosts a chain's HCM is about
// 1.5 kB: 1,024 of them keep about 1.5 MB alive). The payloads that repeat
// are a handful; each comes back at its next packing after a restart.
var recentPayloads = anymemo.New[[]finding](recentMax)

const recentMax = 1024
