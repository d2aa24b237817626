package notify

import (
	"context"
	"errors"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/store"
)

// InboxKind is the system kind of the in-app inbox (站内信): `kind: inbox`.
const InboxKind = "inbox"

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{Kind: InboxKind,
			Summary: "the in-app inbox (站内信): each person's messages, read and marked read through GET /v1/inbox"},
		Send: &connector.SendCapability{Addressed: true, Provider: "站内信", CodeName: "code",
			New: func(connector.Env) (connector.Sender, error) {
				return nil, errors.New("the inbox is built by the hub beside its store (notify.NewInboxSender)")
			}},
	})
}

// InboxSender puts messages in the inboxes of the configured people they
// are addressed to. It answers at once; a person reads them later.
type InboxSender struct{ store *store.Store }

// NewInboxSender returns the inbox's sender on s.
func NewInboxSender(s *store.Store) *InboxSender { return &InboxSender{store: s} }

// Send implements connector.Sender.
func (s *InboxSender) Send(ctx context.Context, m connector.Message) (connector.SendResult, error) {
	var items []store.InboxItem
	for _, rc := range m.To {
		if rc.Person == "" || rc.Person == "buyer" {
			continue
		}
		items = append(items, store.InboxItem{Person: rc.Person, Key: m.Key, Title: m.Title, Markdown: m.Markdown, Link: m.Link, Priority: m.Priority})
	}
	if len(items) == 0 {
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, Op: "inbox", Code: "no_person",
			Message: "the message is addressed to no configured person",
			Hint:    "站内信只能发给 people: 中配置的人：在规则的 to: 中写人员、group: 或部门以外的收件人"}
	}
	if err := s.store.AddInbox(ctx, items, timeNow()); err != nil {
		return connector.SendResult{}, &connector.CallError{Class: connector.Retry, Op: "inbox", Message: err.Error(), Err: err}
	}
	return connector.SendResult{Code: "0", MessageID: m.Key}, nil
}

// timeNow is the inbox's clock.
var timeNow = time.Now
