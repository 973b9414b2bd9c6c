package main

import (
	"context"
	"fmt"
	"time"
)

// interruptGrace is how long the CLI waits, after the first Ctrl-C, for
// the build to wind down before it exits anyway.
const interruptGrace = 2 * time.Second

// interruptible runs run and returns what it returns, or, once ctx is
// cancelled (appcontext cancels it on the first SIGINT or SIGTERM), at
// most grace later. The frontend runs in this process, and work that does
// not watch ctx (parsing a spec, rendering its templates) must not keep
// the user waiting after they asked to stop; the process exits with run
// still going.
func interruptible(ctx context.Context, grace time.Duration, run func(context.Context) (int, error)) (int, error) {
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := run(ctx)
		done <- result{code, err}
	}()
	select {
	case r := <-done:
		return r.code, r.err
	case <-ctx.Done():
	}
	select {
	case r := <-done:
		return r.code, r.err
	case <-time.After(grace):
		return 0, fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
}
