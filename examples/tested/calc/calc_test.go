package calc

import (
	"os"
	"testing"
)

func TestSum(t *testing.T) {
	if got := Sum(1, 2, 3); got != 6 {
		t.Fatalf("Sum(1, 2, 3) = %d, want 6", got)
	}
}

// TestEnv shows the spec's test.env reaching the tests.
func TestEnv(t *testing.T) {
	if os.Getenv("CALC_MODE") != "strict" {
		t.Fatal("CALC_MODE is not set from test.env")
	}
}
