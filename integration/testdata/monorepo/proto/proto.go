// Package proto holds the monorepo's wire definitions.
package proto

// Version is the protocol version.
const Version = "proto/v1"
