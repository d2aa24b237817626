package feishu

import "encoding/json"

// outgoing is the body the sender posts; content and card are encoded in
// place.
type outgoing struct {
	Timestamp string `json:"timestamp,omitempty"`
	Sign      string `json:"sign,omitempty"`
	MsgType   string `json:"msg_type"`
	Content   any    `json:"content,omitempty"`
	Card      any    `json:"card,omitempty"`
}

// request is the body of POST /open-apis/bot/v2/hook/{token} as the
// simulator reads it: content and card are decoded per msg_type.
type request struct {
	Timestamp string          `json:"timestamp,omitempty"`
	Sign      string          `json:"sign,omitempty"`
	MsgType   string          `json:"msg_type"`
	Content   json.RawMessage `json:"content,omitempty"`
	// Card is decoded generically, in the same pass as the body: a card may
	// hold any of Feishu's element layouts.
	Card map[string]any `json:"card,omitempty"`
}

type textContent struct {
	Text string `json:"text"`
}

type postContent struct {
	Post map[string]postLocale `json:"post"`
}

type postLocale struct {
	Title   string       `json:"title,omitempty"`
	Content [][]postNode `json:"content"`
}

// postNode is one node of a post paragraph: text{text}, a{text, href},
// at{user_id, user_name} or img{image_key}.
type postNode struct {
	Tag      string `json:"tag"`
	Text     string `json:"text,omitempty"`
	Href     string `json:"href,omitempty"`
	UserID   string `json:"user_id,omitempty"`
	UserName string `json:"user_name,omitempty"`
	ImageKey string `json:"image_key,omitempty"`
}

// card is the message card the sender builds (JSON 1.0 layout).
type card struct {
	Config   *cardConfig   `json:"config,omitempty"`
	Header   *cardHeader   `json:"header,omitempty"`
	Elements []cardElement `json:"elements"`
}

type cardConfig struct {
	WideScreenMode bool `json:"wide_screen_mode"`
}

type cardHeader struct {
	Title    cardText `json:"title"`
	Template string   `json:"template,omitempty"`
}

type cardText struct {
	Tag     string `json:"tag"` // plain_text or lark_md
	Content string `json:"content"`
}

type cardElement struct {
	Tag     string       `json:"tag"` // div, action
	Text    *cardText    `json:"text,omitempty"`
	Actions []cardButton `json:"actions,omitempty"`
}

type cardButton struct {
	Tag  string   `json:"tag"` // button
	Text cardText `json:"text"`
	URL  string   `json:"url"`
	Type string   `json:"type,omitempty"`
}

// answer is every answer of the webhook. StatusCode/StatusMessage are the
// legacy duplicates of code/msg; older answers carry only them.
type answer struct {
	Code          *int            `json:"code,omitempty"`
	Msg           string          `json:"msg,omitempty"`
	Data          json.RawMessage `json:"data,omitempty"`
	StatusCode    *int            `json:"StatusCode,omitempty"`
	StatusMessage string          `json:"StatusMessage,omitempty"`
}

// The codes Feishu's bot webhook answers with.
const (
	CodeOK           = 0
	CodeBadRequest   = 9499  // malformed body, or over 20 KB
	CodeFrequency    = 11232 // frequency limited
	CodeTokenInvalid = 19001 // incoming webhook access token invalid
	CodeSignFailed   = 19021 // sign match fail or timestamp is not within one hour
	CodeIPNotAllowed = 19022 // Ip Not Allowed
	CodeKeywordsMiss = 19024 // Key Words Not Found
)

// MaxBody is the largest request body Feishu takes. Its documentation says
// 20 KB; 20 000 bytes is the stricter reading of that, so a body within it
// passes either way.
const MaxBody = 20000
