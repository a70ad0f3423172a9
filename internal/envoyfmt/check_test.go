package envoyfmt

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	for name, tc := range map[string]struct {
		value   string
		unknown bool
		wantErr string
	}{
		"plain":               {value: "static value"},
		"escaped percent":     {value: "100%% off"},
		"peer SAN":            {value: "%DOWNSTREAM_PEER_URI_SAN%"},
		"header with length":  {value: "%REQ(x-a):10%"},
		"time with % in args": {value: "%START_TIME(%Y-%m-%d)%"},
		"several":             {value: "%DOWNSTREAM_PEER_SUBJECT%;%DOWNSTREAM_PEER_FINGERPRINT_256%"},
		"unknown":             {value: "%DOWNSTREAM_PEER_NICKNAME%", unknown: true, wantErr: "unknown formatter command %DOWNSTREAM_PEER_NICKNAME% (did you mean %DOWNSTREAM_PEER_IP_SAN%?)"},
		"typo":                {value: "x=%DOWNSTREAM_PEER_SUBJCT%", unknown: true, wantErr: "unknown formatter command %DOWNSTREAM_PEER_SUBJCT% (did you mean %DOWNSTREAM_PEER_SUBJECT%?)"},
		"lone percent":        {value: "50% off", wantErr: "% starts no command (write %% for a literal %)"},
		"unclosed":            {value: "%DOWNSTREAM_PEER_URI_SAN", wantErr: "%DOWNSTREAM_PEER_URI_SAN is not closed by %"},
	} {
		t.Run(name, func(t *testing.T) {
			err := Check(tc.value)
			if got := ""; err != nil {
				got = err.Error()
				if got != tc.wantErr {
					t.Errorf("Check(%q) = %q, want %q", tc.value, got, tc.wantErr)
				}
			} else if tc.wantErr != "" {
				t.Errorf("Check(%q) passed; want %q", tc.value, tc.wantErr)
			}
			if errors.Is(err, ErrUnknownCommand) != tc.unknown {
				t.Errorf("Check(%q) = %v; unknown-command error %v, want %v", tc.value, err, !tc.unknown, tc.unknown)
			}
		})
	}
}
