package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestInterruptible: the first Ctrl-C (a cancelled context) stops the CLI
// promptly even when the build ignores the context, as a frontend busy
// parsing or rendering does; a build that ends on its own is waited for.
func TestInterruptible(t *testing.T) {
	busy := func(context.Context) (int, error) { select {} }
	winding := func(ctx context.Context) (int, error) {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond)
		return 0, errors.New("canceled by the daemon")
	}
	quick := func(context.Context) (int, error) { return 3, nil }
	cases := []struct {
		name    string
		run     func(context.Context) (int, error)
		cancel  bool
		code    int
		wantErr string
	}{
		{"busy, interrupted", busy, true, 0, "interrupted: stop"},
		{"winds down in time", winding, true, 0, "canceled by the daemon"},
		{"not interrupted", quick, false, 3, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			if tc.cancel {
				time.AfterFunc(20*time.Millisecond, func() { cancel(errors.New("stop")) })
			}
			defer cancel(nil)
			start := time.Now()
			code, err := interruptible(ctx, 200*time.Millisecond, tc.run)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("returned after %v", took)
			}
			if code != tc.code || (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("= %d, %v; want %d, %q", code, err, tc.code, tc.wantErr)
			}
		})
	}
}
