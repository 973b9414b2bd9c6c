package spec

//go:generate go run ../internal/specdoc/gen -spec . -docs ../docs
