package slowwrite

import (
	"errors"
	"os"
	"strings"
	"time"
)

// Stats are what a write did: the write calls made (the truncation counts
// as one) and the longest time between two of them, which is the longest
// a reader could have seen one truncation.
type Stats struct {
	Writes int
	MaxGap time.Duration
}

// Add accumulates another write's stats.
func (s *Stats) Add(o Stats) {
	s.Writes += o.Writes
	s.MaxGap = max(s.MaxGap, o.MaxGap)
}

// InPlace truncates path (creating it if need be) and writes content one
// line at a time, sleeping pause before each line.
func InPlace(path, content string, pause time.Duration) (Stats, error) {
	var st Stats
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o600)
	if err != nil {
		return st, err
	}
	st.Writes++
	last := time.Now()
	for _, line := range strings.SplitAfter(content, "\n") {
		if line == "" {
			continue
		}
		time.Sleep(pause) // the stall a reader must not take for the end of the file
		if _, err := f.WriteString(line); err != nil {
			return st, errors.Join(err, f.Close())
		}
		now := time.Now()
		st.Writes++
		st.MaxGap = max(st.MaxGap, now.Sub(last))
		last = now
	}
	return st, f.Close()
}
