package connector

import (
	"context"
	"time"
)

// Message is one notification, rendered, on its way to one channel
// endpoint. The connector turns it into its provider's message type,
// carries what the endpoint's settings require (a keyword), and cuts a
// body that would pass the provider's size limit cleanly, with "…" and
// the link: a message is never refused for its size.
type Message struct {
	// Title is the headline: a Markdown message's title, a card's header.
	Title string `json:"title,omitempty"`
	// Markdown is the body, in the common Markdown subset (headings,
	// bold, lists, links, tables where the channel has them); the
	// connector converts it to its provider's dialect.
	Markdown string `json:"markdown,omitempty"`
	// Text is the body as plain text, for text-only message types.
	Text string `json:"text,omitempty"`
	// Link points at the order (or the digest) in the console.
	Link string `json:"link,omitempty"`
	// Color is the brand colour (#RRGGBB), where the channel has one.
	Color string `json:"color,omitempty"`
	// AtMobiles, AtUserIDs and AtAll are the @mentions.
	AtMobiles []string `json:"at_mobiles,omitempty"`
	AtUserIDs []string `json:"at_user_ids,omitempty"`
	AtAll     bool     `json:"at_all,omitempty"`
	// Key identifies the message across retries (rule, order, event).
	Key string `json:"key,omitempty"`
}

// SendResult is the provider's answer to a sent message.
type SendResult struct {
	// MessageID is the provider's id for the message, when it gives one.
	MessageID string
	// Code is the provider's answer code ("0" for DingTalk's errcode 0).
	Code string
	// Cut reports that the body was shortened to fit the provider's limit.
	Cut bool
}

// SendLimits are an endpoint's provider limits, which the hub enforces
// itself so that the provider never sees a call over them.
type SendLimits struct {
	PerMinute int
	PerSecond int
	// MaxBytes is the largest request body the provider takes.
	MaxBytes int
}

// Sender sends messages to one configured endpoint. Send must be safe for
// concurrent use; its errors are *CallError: SlowDown for the provider's
// throttling codes (never a failure: the hub waits and sends again),
// Permanent for a bad token, a disabled robot or a missing keyword (with a
// Chinese hint of what to fix in the robot's settings), Retry or Unknown
// for transport failures.
type Sender interface {
	Send(ctx context.Context, msg Message) (SendResult, error)
}

// SendCapability is what a kind registers to send messages.
type SendCapability struct {
	Limits SendLimits
	// Provider names the provider as people know it (钉钉), and CodeName
	// its answer's code (errcode), for the delivery log: "钉钉 errcode 0".
	Provider, CodeName string
	// Pace is the spacing the hub keeps between two messages to one
	// endpoint when the provider gives a rate but no burst (0: derived
	// from Limits).
	Pace time.Duration
	New  func(env Env) (Sender, error)
}
