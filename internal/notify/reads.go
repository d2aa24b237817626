package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/store"
)

// readRetry is when a read status that could not be asked is asked again.
const readRetry = time.Minute

// CheckReads asks the providers that track reads about the messages whose
// unread_after has passed: a message everyone read is marked read; one
// some left unread goes to the next channel of its chain, addressed to
// them alone (escalated), or is marked unread when the chain has no next.
// A message on a channel that cannot tell (SMS, email) escalates once its
// unread_after has passed.
func (st *Stage) CheckReads(ctx context.Context) error {
	now := st.now()
	due, err := st.store.DueReadChecks(ctx, now, 100)
	if err != nil || len(due) == 0 {
		return err
	}
	eps := st.setup.Load().Endpoints
	for _, d := range due {
		if err := st.checkRead(ctx, eps[d.System], d, now); err != nil {
			return err
		}
	}
	return nil
}

func (st *Stage) checkRead(ctx context.Context, ep *Endpoint, d store.Delivery, now time.Time) error {
	var msg connector.Message
	_ = json.Unmarshal(d.Message, &msg)
	state, nextCheck := "", time.Time{}
	var unread []connector.Recipient
	if rt, ok := trackerOf(ep); !ok {
		// SMS and email cannot tell whether a message was read: with
		// escalate:, its time passing unanswered is taken as unread, and
		// the chain goes on.
		state, unread = "untracked", msg.To
	} else if status, err := rt.ReadStatus(ctx, d.MessageID); err != nil {
		st.log.Warn("asking whether a message was read failed; asking again later", "delivery", d.ID, "system", d.System, "err", err)
		state, nextCheck = d.ReadState, now.Add(readRetry)
	} else {
		for _, rc := range msg.To {
			if rc.DingUserID != "" && !slices.Contains(status.Read, rc.DingUserID) {
				unread = append(unread, rc)
			}
			if rc.All || rc.DingDept != "" {
				// A department or the company cannot be followed person by
				// person: anyone unread leaves it unread.
				if len(status.Unread) > 0 {
					unread = append(unread, rc)
				}
			}
		}
		switch {
		case len(unread) == 0:
			state = "read"
		case len(unread) < len(msg.To):
			state = "partial"
		default:
			state = "unread"
		}
	}
	tx, err := st.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("notify: recording the read status of delivery %d: %w", d.ID, err)
	}
	defer tx.Rollback()
	var steps []store.TimelineStep
	var next []store.NewDelivery
	if len(unread) > 0 && len(d.Fallback) > 0 {
		next = st.fallback(d, unread, fmt.Sprintf("not read within %s", d.EscalateAfter), now, &steps)
		state = "escalated"
	}
	if d.OrderID != 0 && state != "" && nextCheck.IsZero() {
		steps = append(steps, store.TimelineStep{OrderID: d.OrderID, At: now, Stage: "read_status",
			Detail: map[string]any{"rule": d.Rule, "system": d.System, "delivery": d.ID, "state": state, "unread": len(unread)}})
	}
	if err := st.store.SetReadState(ctx, tx, d.ID, state, nextCheck, now); err != nil {
		return err
	}
	if err := st.queueNext(ctx, tx, next, now); err != nil {
		return err
	}
	if err := st.store.AppendTimeline(ctx, tx, steps); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("notify: recording the read status of delivery %d: %w", d.ID, err)
	}
	return nil
}

func trackerOf(ep *Endpoint) (connector.ReadTracker, bool) {
	if ep == nil {
		return nil, false
	}
	rt, ok := ep.Sender.(connector.ReadTracker)
	return rt, ok
}
