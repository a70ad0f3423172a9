package compile

import (
	"errors"
	"fmt"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
	"github.com/trustgate/trustgate/xds/sendlimit"
	"github.com/trustgate/trustgate/xds/translate"
)

// checkSizes refuses a proxy group whose resources of some type do not fit
// in one response of the ADS server (sendlimit): gRPC would fail the push
// with ResourceExhausted and end the proxy's stream, so `check` and a
// reload say so first, naming the object. A secret too large alone is
// named by where it is defined; a type too large together, by its group and
// its largest resources.
func checkSizes(node Node, proxy *ir.Proxy, res *translate.Resources, sizes *sendlimit.Sizes) error {
	over := sendlimit.CheckWith(res, sizes)
	if len(over) == 0 {
		return nil
	}
	secrets := make(map[string]*ir.Secret, len(proxy.Secrets))
	for _, s := range proxy.Secrets {
		secrets[s.Name] = s
	}
	origin := func(name string) string {
		if s := secrets[name]; s != nil {
			return s.Origin
		}
		return ""
	}
	errs := make([]error, 0, len(over))
	for _, o := range over {
		if o.Alone() && origin(o.Items[0].Name) != "" {
			e := &model.FieldError{Msg: o.Message(origin)}
			locate(e, secrets[o.Items[0].Name])
			errs = append(errs, e)
			continue
		}
		errs = append(errs, fmt.Errorf("proxy group %q: %s", labelset.Key(node.Labels), o.Message(origin)))
	}
	return errors.Join(errs...)
}
