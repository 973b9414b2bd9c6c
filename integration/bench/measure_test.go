package main

import (
	"errors"
	"testing"
	"time"
)

func TestRatioOf(t *testing.T) {
	ms := func(ds ...int) []time.Duration {
		var out []time.Duration
		for _, d := range ds {
			out = append(out, time.Duration(d)*time.Millisecond)
		}
		return out
	}
	const same, other = 1, 2
	// The machine's speed changes from turn to turn: x is 10% slower
	// than y in two turns of three, and y's one slow run falls where x
	// had a fast one, so their medians (1.1 s, 1.5 s) say x is faster.
	x := measurement{timing: timing{wall: 1100 * time.Millisecond}, walls: ms(550, 1650, 1100), turns: same}
	y := measurement{timing: timing{wall: 1500 * time.Millisecond}, walls: ms(500, 1500, 2000), turns: same}
	for _, tc := range []struct {
		name string
		x, y measurement
		want float64
	}{
		{"same turns: the median of each turn's ratio", x, y, 1.1},
		{"other turns: the ratio of the medians", x, with(y, other), 1100.0 / 1500},
		{"one run each: the ratio of the medians", measurement{timing: timing{wall: time.Second}}, measurement{timing: timing{wall: 2 * time.Second}}, 0.5},
		{"a failed tool has no ratio", x, measurement{failed: errors.New("failed"), turns: same}, 0},
		{"an unmeasured tool has no ratio", x, measurement{}, 0},
	} {
		if got := ratioOf(tc.x, tc.y); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("%s: ratioOf = %.3f, want %.3f", tc.name, got, tc.want)
		}
	}
}

func with(m measurement, turns int) measurement {
	m.turns = turns
	return m
}
