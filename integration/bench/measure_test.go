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
	// The machine's speed changes from turn to turn. The medians (1.1 s
	// and 1.2 s) say x is faster; the turns' ratios are 1.1, 1.1, 0.46,
	// 1.67 and 0.6, whose median is 1.1; the turns paired in reverse
	// order would give 1.2.
	x := measurement{timing: timing{wall: 1100 * time.Millisecond}, walls: ms(550, 1650, 1100, 2000, 600), turns: same}
	y := measurement{timing: timing{wall: 1200 * time.Millisecond}, walls: ms(500, 1500, 2400, 1200, 1000), turns: same}
	for _, tc := range []struct {
		name string
		x, y measurement
		want float64
	}{
		{"same turns: the median of each turn's ratio", x, y, 1.1},
		{"other turns: the ratio of the medians", x, with(y, other), 1100.0 / 1200},
		{"fewer runs in the same turns: the ratio of the medians", x, measurement{timing: timing{wall: 2 * time.Second}, walls: ms(2000, 2000), turns: same}, 0.55},
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
