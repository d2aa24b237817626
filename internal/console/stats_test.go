package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"orderhub/internal/store"
)

func TestNotificationStats(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	var queue []store.NewDelivery
	for i := range 10 {
		queue = append(queue, store.NewDelivery{System: "ding_app", Rule: "big", Key: fmt.Sprintf("big/shop/A%d/created", i), Kind: store.KindMessage,
			State: store.DeliveryQueued, Message: []byte(`{}`)})
	}
	tx, _ := st.DB().Begin()
	if _, err := st.QueueDeliveries(ctx, tx, queue, now); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// 6 sent (4 read, 1 unread, 1 escalated), 2 failed, 2 still queued.
	for q, ids := range map[string]string{
		`UPDATE deliveries SET state = 'sent', read_state = 'read' WHERE id IN (%s)`:      "1,2,3,4",
		`UPDATE deliveries SET state = 'sent', read_state = 'unread' WHERE id IN (%s)`:    "5",
		`UPDATE deliveries SET state = 'sent', read_state = 'escalated' WHERE id IN (%s)`: "6",
		`UPDATE deliveries SET state = 'failed' WHERE id IN (%s)`:                         "7,8",
	} {
		if _, err := st.DB().Exec(fmt.Sprintf(q, ids)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddInbox(ctx, []store.InboxItem{{Person: "zhang", Key: "k1", Rule: "big", Title: "t", Markdown: "m"},
		{Person: "li", Key: "k1", Rule: "big", Title: "t", Markdown: "m"}}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkRead(ctx, "zhang", 0, now); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	NewAPI(st, orTestToken(nil), time.UTC, slog.New(slog.NewTextHandler(io.Discard, nil))).RegisterStats(mux, map[string]string{"big": "big_order"})
	srv := httptest.NewServer(withTestToken(mux, nil))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/v1/stats/notifications")
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Rows []NotifyStat }
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if len(out.Rows) != 2 {
		t.Fatalf("rows: %+v", out.Rows)
	}
	d := out.Rows[0]
	if d.System != "ding_app" || d.Template != "big_order" || d.Sent != 6 || d.Failed != 2 || d.Waiting != 2 || d.Read != 4 || d.Unread != 2 ||
		d.Escalated != 1 || d.DeliveredRate != 0.75 || d.ReadRate != 4.0/6 {
		t.Errorf("ding_app row: %+v", d)
	}
	if in := out.Rows[1]; in.System != "inbox" || in.Opened != 1 || in.OpenRate != 0.5 {
		t.Errorf("inbox row: %+v", in)
	}
	for _, bad := range []string{"?from=yesterday", "?from=2026-12-02&to=2026-12-01"} {
		resp, err := http.Get(srv.URL + "/v1/stats/notifications" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, resp.StatusCode)
		}
	}
}
