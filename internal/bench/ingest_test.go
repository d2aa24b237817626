package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// The harness itself must keep working: both paths answer every request
// 2xx, and the report says so.
func TestRunIngestSmoke(t *testing.T) {
	rep, err := RunIngest(context.Background(), IngestOptions{Conns: 4, Duration: 300 * time.Millisecond, Rounds: 2, Warmup: 50 * time.Millisecond, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Result{rep.Bare, rep.Real} {
		if r.Requests == 0 || r.Errors != 0 || r.Throughput <= 0 || r.P99 < r.P50 || r.Max < r.P99 {
			t.Errorf("%s: %+v; want requests, no errors, ordered latencies", r.Name, r)
		}
	}
	if rep.Ratio <= 0 || rep.BatchAvg < 1 {
		t.Errorf("ratio %.2f, batch %.1f; want both measured", rep.Ratio, rep.BatchAvg)
	}
	var out bytes.Buffer
	rep.Print(&out)
	if !strings.Contains(out.String(), "ratio orderhub/bare:") || !strings.Contains(out.String(), "orderhub push") {
		t.Errorf("report:\n%s", out.String())
	}
}

// Every request body is a distinct order of the seed's shape.
func TestLoadIsDistinct(t *testing.T) {
	l := newLoad()
	seen := map[string]bool{}
	var buf []byte
	for i := 0; i < 2000; i++ {
		buf = l.next(buf)
		at := bytes.Index(buf, []byte(`"order_no":"`)) + len(`"order_no":"`)
		no := string(buf[at : at+20])
		if seen[no] {
			t.Fatalf("order number %s handed out twice", no)
		}
		seen[no] = true
	}
}
