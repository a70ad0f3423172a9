package kubernetes

import (
	"context"

	"k8s.io/client-go/rest"
)

// RunElection runs the status writer's election, as RunStatus does, with
// lead in place of the status writer: the tests judge the election alone.
func RunElection(ctx context.Context, cfg *rest.Config, opts StatusOptions, lead func(context.Context)) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	coord, err := restFor(cfg, coordinationGV, "/apis")
	if err != nil {
		return err
	}
	elect(ctx, coord, opts, lead)
	return nil
}
