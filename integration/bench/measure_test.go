package main

import (
	"errors"
	"math"
	"slices"
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
	// The machine's speed changes from turn to turn: the medians (1.1 s
	// and 1.2 s) say x is faster, the turns' ratios are 1.1, 1.1, 0.46,
	// 1.67 and 0.6. A forward turn with the reverse one after it: 1.1,
	// sqrt(0.46*1.67) = 0.87, and the last turn alone 0.6; their median
	// is 0.87. Paired the wrong way round (turn 2 with 3) the median
	// would be 0.71.
	x := measurement{timing: timing{wall: 1100 * time.Millisecond}, walls: ms(550, 1650, 1100, 2000, 600), turns: same}
	y := measurement{timing: timing{wall: 1200 * time.Millisecond}, walls: ms(500, 1500, 2400, 1200, 1000), turns: same}
	// First in a turn, x is 20% slower; second, 10% faster. With 5 turns
	// x is first in 3: the median of the turns' ratios would be 1.2.
	first := measurement{timing: timing{wall: 1200 * time.Millisecond}, walls: ms(1200, 900, 1200, 900, 1200), turns: same}
	second := measurement{timing: timing{wall: time.Second}, walls: ms(1000, 1000, 1000, 1000, 1000), turns: same}
	for _, tc := range []struct {
		name string
		x, y measurement
		want float64
	}{
		{"same turns: the median of the paired turns' ratios", x, y, math.Sqrt(1100.0 / 2400 * 2000 / 1200)},
		{"the place in the turn cancels out", first, second, math.Sqrt(1.2 * 0.9)},
		{"an even number of pairs: the mean of the middle two", measurement{timing: timing{wall: time.Second}, walls: ms(1000, 1000, 1500, 1500), turns: same},
			measurement{timing: timing{wall: time.Second}, walls: ms(1000, 1000, 1000, 1000), turns: same}, 1.25},
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

func TestTurnOrder(t *testing.T) {
	for _, tc := range []struct {
		turn, n int
		want    []int
	}{
		{0, 3, []int{0, 1, 2}},
		{1, 3, []int{2, 1, 0}},
		{2, 3, []int{0, 1, 2}},
		{7, 2, []int{1, 0}},
		{1, 1, []int{0}},
	} {
		if got := turnOrder(tc.turn, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("turn %d of %d contenders: %v, want %v", tc.turn, tc.n, got, tc.want)
		}
	}
}

func with(m measurement, turns int) measurement {
	m.turns = turns
	return m
}

func TestHelperLines(t *testing.T) {
	for _, c := range []struct {
		output string
		want   []string
	}{
		{"", nil},
		{"go: downloading example.com/m v1.0.0\n", nil},
		{"gobuild-helper: 498 files exported\n", []string{"gobuild-helper: 498 files exported"}},
		{"# example.com/m\ngobuild-helper: 2 compiled dependency files copied in\r\nmain.go:3: error\ngobuild-helper: left out: x", []string{"gobuild-helper: 2 compiled dependency files copied in", "gobuild-helper: left out: x"}},
		{"  gobuild-helper: indented is go's output, not the helper's\n", nil},
	} {
		if got := helperLines([]byte(c.output)); !slices.Equal(got, c.want) {
			t.Errorf("helperLines(%q) = %q, want %q", c.output, got, c.want)
		}
	}
}
