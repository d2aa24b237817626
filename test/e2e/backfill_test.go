package e2e

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/simlab"

	_ "modernc.org/sqlite"
)

// TestBackfillResumesAfterKill9 backfills a month of 旺店通 trades, kills
// the command with SIGKILL part-way, and runs it again: the second run
// starts where the first stopped, and every trade is stored once.
func TestBackfillResumesAfterKill9(t *testing.T) {
	lab, err := simlab.Start(simlab.Options{Unlimited: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })
	loc, _ := time.LoadLocation("Asia/Shanghai")
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	to := from.Add(30 * 24 * time.Hour)
	data, err := lab.WDT.Generate(3000, from, to.Add(-time.Minute), 11)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "orderhub.yaml")
	writeFile(t, cfgPath, fmt.Sprintf(`store: sqlite://%s/hub.db
log: {level: warn}
systems:
%s
sources:
  wdt_trades: {system: wdt, mode: pull, api: trade.query}
`, dir, lab.SystemsYAML(5*time.Second)))
	args := []string{"backfill", "--config", cfgPath, "--source", "wdt_trades",
		"--from", from.Format(config.TimeLayout), "--to", to.Format(config.TimeLayout)}

	p := start(t, dir, args...)
	// 720 one-hour windows; kill once a good part of them is stored.
	p.waitStdout(60*time.Second, "window 2026-01-08")
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(10 * time.Second)
	first := p.stdout.String()

	p = start(t, dir, args...)
	if code := p.wait(3 * time.Minute); code != 0 {
		t.Fatalf("the resumed backfill exited %d", code)
	}
	second := p.stdout.String()
	if !strings.Contains(second, "done:") {
		t.Fatalf("the resumed backfill did not finish:\n%s", tail(second, 2000))
	}
	lines := readLines(second)
	var firstWindow string
	for _, l := range lines {
		if strings.HasPrefix(l, "window ") {
			firstWindow = l
			break
		}
	}
	if strings.HasPrefix(firstWindow, "window 2026-01-01 00:00:00") {
		t.Fatalf("the second run started from the beginning again: %s\nfirst run:\n%s", firstWindow, tail(first, 500))
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored, maxVersion int
	if err := db.QueryRow(`SELECT COUNT(*), MAX(version) FROM orders WHERE source = 'wdt_trades'`).Scan(&stored, &maxVersion); err != nil {
		t.Fatal(err)
	}
	if stored != len(data.Trades) || maxVersion != 1 {
		t.Fatalf("stored %d trades (highest version %d), want %d trades, each once", stored, maxVersion, len(data.Trades))
	}
	t.Logf("resumed at %q; %d trades stored once", firstWindow, stored)
}
