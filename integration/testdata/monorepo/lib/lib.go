// Package lib is shared by the monorepo's services.
package lib

import "example.com/monorepo/proto"

// Answer is the service's reply.
func Answer() string { return "api says " + proto.Version }
