package bench

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The console harness seeds once, times every default path (each must
// answer 200, or the run fails) and reuses a seeded store as it is.
func TestRunConsoleSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a store and starts an App")
	}
	file := filepath.Join(t.TempDir(), "console.db")
	var progress int
	o := ConsoleOptions{Store: file, Orders: 2500, Requests: 3, Progress: func(done, _ int) { progress = done }}
	rep, err := RunConsole(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seeded <= 0 || progress != 2500 {
		t.Errorf("seeded in %s, progress told %d; want the 2500 orders seeded", rep.Seeded, progress)
	}
	if len(rep.Paths) != len(DefaultConsolePaths) {
		t.Fatalf("%d paths timed, want %d", len(rep.Paths), len(DefaultConsolePaths))
	}
	for _, p := range rep.Paths {
		if p.Status != 200 || p.Bytes == 0 || p.P50 <= 0 || p.P99 < p.P50 || p.Max < p.P99 {
			t.Errorf("%+v", p)
		}
	}
	var out bytes.Buffer
	rep.Print(&out)
	for _, want := range []string{"console benchmark: 2500 orders", "/v1/stats/dashboard", "goal: every page and call under 100 ms"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
	again, err := RunConsole(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if again.Seeded != 0 {
		t.Errorf("a seeded store was seeded again (%s)", again.Seeded)
	}
}
