package connector

import (
	"context"
	"encoding/json"
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

	// To are the addressees of a channel that sends to people (a 钉钉 work
	// notification, email, SMS, the inbox); robots post to their group and
	// ignore it.
	To []Recipient `json:"to,omitempty"`
	// Template is the rule's template name, and Vars its standard values
	// as text (order_no, source, shop, total as ¥5,999.00, status, event,
	// company, tracking, buyer masked, link): what a channel with
	// provider-approved templates (SMS) fills its parameters from.
	Template string            `json:"template,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`
	// Payload is the event and the order as JSON, for a channel that
	// carries data rather than text (an outgoing webhook).
	Payload json.RawMessage `json:"payload,omitempty"`
	// Priority is the rule's: low, normal, high or critical.
	Priority string `json:"priority,omitempty"`
	// Track, when set, asks a channel that can (email) to report openings
	// and clicks; the hub fills it when it sends, unless the rule says
	// track: false.
	Track *Tracking `json:"-"`
}

// Tracking is how a sent message reports that it was read: the address of
// an open pixel, and a function that turns a link into one the hub counts
// a click on before it redirects.
type Tracking struct {
	OpenPixel string
	Click     func(target string) string
}

// Recipient is one addressee of a channel that sends to people: a
// configured person, a 钉钉 department, everyone, or the order's buyer.
// A channel uses the address it sends by and refuses (Permanent, with a
// hint) a message none of whose recipients it can reach.
type Recipient struct {
	// Person is the configured person's key, or "buyer" for the order's
	// buyer; for the delivery log.
	Person string `json:"person,omitempty"`
	Name   string `json:"name,omitempty"`
	// DingUserID is the person's 钉钉 userid; DingDept a 钉钉 department.
	DingUserID string `json:"dingtalk_userid,omitempty"`
	DingDept   string `json:"dingtalk_dept,omitempty"`
	// All addresses everyone the channel reaches (a 钉钉 app: the company).
	All    bool   `json:"all,omitempty"`
	Mobile string `json:"mobile,omitempty"`
	Email  string `json:"email,omitempty"`
	// UnsubscribeURL is this person's one-click unsubscribe link for the
	// channel the message goes out on, signed by the hub when it sends
	// (never stored with the message: it names the channel it is sent on).
	// Empty for addressees who are not configured people.
	UnsubscribeURL string `json:"-"`
}

// ReadTracker is a Sender whose provider says, after a message was sent,
// which of its recipients have read it (钉钉 work notifications).
type ReadTracker interface {
	// ReadStatus asks about the message Send answered with messageID.
	ReadStatus(ctx context.Context, messageID string) (ReadStatus, error)
}

// ReadStatus is who has and has not read a message, by the channel's own
// address (钉钉 userid).
type ReadStatus struct {
	Read   []string `json:"read,omitempty"`
	Unread []string `json:"unread,omitempty"`
	// Final reports that the provider will tell no more (all read, or the
	// message is past the provider's tracking period).
	Final bool `json:"final,omitempty"`
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

// SendVariants are the other ways one configured account sends.
type SendVariants struct {
	// Prefix names them in a rule when one system of the kind is
	// configured: ding:phone.
	Prefix string
	Names  []string
	// New returns the variant's sender from the system's own.
	New func(base Sender, name string) (Sender, error)
}

// SendCapability is what a kind registers to send messages.
type SendCapability struct {
	Limits SendLimits
	// Addressed reports that the kind sends to people (Message.To), not to
	// a group: a rule using it needs to:.
	Addressed bool
	// Payload reports that the kind sends Message.Payload (the event and
	// the order as data), which is then filled in for it.
	Payload bool
	// Tracking reports that the kind counts openings and clicks of what it
	// sends (Message.Track), for the statistics.
	Tracking bool
	// Variants are other ways the same account sends (钉钉's DING by app,
	// SMS or phone), which a rule names as channel steps PREFIX:NAME
	// (ding:phone) or SYSTEM:NAME.
	Variants *SendVariants
	// Provider names the provider as people know it (钉钉), and CodeName
	// its answer's code (errcode), for the delivery log: "钉钉 errcode 0".
	Provider, CodeName string
	// Pace is the spacing the hub keeps between two messages to one
	// endpoint when the provider gives a rate but no burst (0: derived
	// from Limits).
	Pace time.Duration
	New  func(env Env) (Sender, error)
}
