package envoyfmt

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/trustgate/trustgate/internal/suggest"
)

// ErrUnknownCommand is wrapped by Check's error for a command Envoy does not
// know.
var ErrUnknownCommand = errors.New("unknown formatter command")

// Check checks the %COMMAND% formatters in v: "%%" is a literal %, a
// command is upper-case letters, digits and underscores, optionally with
// "(args)" (which may contain %, as in %START_TIME(%s)%) and ":length", and
// must be one of Envoy's commands.
func Check(v string) error {
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			continue
		}
		if i+1 < len(v) && v[i+1] == '%' {
			i++
			continue
		}
		end, err := command(v, i+1)
		if err != nil {
			return err
		}
		i = end
	}
	return nil
}

// command parses a command starting at v[start] (after its opening %),
// checks its name and returns the index of its closing %.
func command(v string, start int) (int, error) {
	i := start
	for i < len(v) && (v[i] >= 'A' && v[i] <= 'Z' || v[i] >= '0' && v[i] <= '9' || v[i] == '_') {
		i++
	}
	name := v[start:i]
	if name == "" {
		return 0, errors.New("% starts no command (write %% for a literal %)")
	}
	if i < len(v) && v[i] == '(' {
		close := strings.IndexByte(v[i:], ')')
		if close < 0 {
			return 0, fmt.Errorf("%%%s( has no closing )", name)
		}
		i += close + 1
	}
	if i < len(v) && v[i] == ':' {
		j := i + 1
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		if j == i+1 {
			return 0, fmt.Errorf("%%%s: needs a length", name)
		}
		i = j
	}
	if i >= len(v) || v[i] != '%' {
		return 0, fmt.Errorf("%%%s is not closed by %%", name)
	}
	if !commands[name] {
		return 0, fmt.Errorf("%w %%%s%%%s", ErrUnknownCommand, name, didYouMean(name))
	}
	return i, nil
}

// didYouMean is ` (did you mean %X%?)` for the known command closest to
// name.
func didYouMean(name string) string {
	best := suggest.Closest(name, slices.Collect(maps.Keys(commands)), max(3, len(name)/3))
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %%%s%%?)", best)
}
