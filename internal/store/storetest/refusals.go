package storetest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"orderhub/internal/store"
)

// testPullRefusals: a refused document is kept with what failed, counted
// again when it is refused again, listed newest first, and removed by the
// window that converts it; another source's refusals are left alone.
func testPullRefusals(t *testing.T, s *store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)
	bad := func(src, no string, at time.Time, field string) store.PullRefusal {
		return store.PullRefusal{Source: src, DocNo: no, Modified: at.Add(-time.Minute), Field: field, Value: "1.5000",
			Reason: "document " + no + ": field " + field + " is not whole", Hint: "改为整数", Raw: `{"trade_no":"` + no + `"}`,
			WindowFrom: at.Add(-time.Hour), WindowTo: at, FirstAt: at, LastAt: at}
	}
	inTx(t, s, func(tx *sql.Tx) error {
		return s.RecordPullRefusals(ctx, tx, []store.PullRefusal{bad("wdt_trades", "JY1", t0, "goods_list[0].num"), bad("wdt_refunds", "RK1", t0, "details_list[0].num")})
	})
	inTx(t, s, func(tx *sql.Tx) error { // refused again, and one more
		return s.RecordPullRefusals(ctx, tx, []store.PullRefusal{bad("wdt_trades", "JY1", t0.Add(time.Minute), "goods_list[1].num"), bad("wdt_trades", "JY2", t0.Add(2*time.Minute), "pay_time")})
	})
	got, total, err := s.PullRefusals(ctx, "wdt_trades", 0)
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || len(got) != 2 || got[0].DocNo != "JY2" || got[1].DocNo != "JY1" {
		t.Fatalf("refusals %+v (total %d), want JY2 then JY1", got, total)
	}
	jy1 := got[1]
	if jy1.Times != 2 || jy1.Field != "goods_list[1].num" || !jy1.FirstAt.Equal(t0) || !jy1.LastAt.Equal(t0.Add(time.Minute)) ||
		jy1.Value != "1.5000" || jy1.Hint != "改为整数" || jy1.Raw != `{"trade_no":"JY1"}` || !jy1.WindowTo.Equal(t0.Add(time.Minute)) {
		t.Fatalf("JY1 = %+v: want the second refusal's field and window, the first one's first_at, twice", jy1)
	}
	if got, total, err := s.PullRefusals(ctx, "wdt_trades", 1); err != nil || total != 2 || len(got) != 1 {
		t.Fatalf("with a limit of 1: %d refusals of %d, %v", len(got), total, err)
	}
	inTx(t, s, func(tx *sql.Tx) error {
		return s.ClearPullRefusals(ctx, tx, "wdt_trades", []string{"JY0", "JY1", "RK1"})
	})
	if got, total, err := s.PullRefusals(ctx, "wdt_trades", 0); err != nil || total != 1 || got[0].DocNo != "JY2" {
		t.Fatalf("after JY1 was converted: %+v (total %d), %v; want JY2 alone", got, total, err)
	}
	if got, _, err := s.PullRefusals(ctx, "wdt_refunds", 0); err != nil || len(got) != 1 || got[0].DocNo != "RK1" {
		t.Fatalf("the other source's refusals: %+v, %v; want RK1 kept", got, err)
	}
	if got, total, err := s.PullRefusals(ctx, "nothing_refused", 0); err != nil || total != 0 || got != nil {
		t.Fatalf("a source without refusals: %+v, %d, %v", got, total, err)
	}
}
