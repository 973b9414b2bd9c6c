// Command gobuild-frontend is the BuildKit frontend image's entry point.
// Its stdout is the gateway's gRPC connection: it must print nothing.
package main

import (
	"github.com/gobuildkit/gobuild/frontend"
	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
	"github.com/moby/buildkit/util/bklog"
)

func main() {
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build); err != nil {
		bklog.L.WithError(err).Fatal("gobuild frontend failed")
	}
}
