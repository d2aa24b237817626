package dingtalk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// PathSend is the robot webhook's path.
const PathSend = "/robot/send"

// The request body of a robot message. Field names are DingTalk's, case
// and all: they differ between types (singleURL, actionURL, messageURL,
// picURL) and the server matches them exactly.
type wireMsg struct {
	MsgType    string          `json:"msgtype"`
	Text       *wireText       `json:"text,omitempty"`
	Markdown   *wireMarkdown   `json:"markdown,omitempty"`
	ActionCard *wireActionCard `json:"actionCard,omitempty"`
	FeedCard   *wireFeedCard   `json:"feedCard,omitempty"`
	At         *wireAt         `json:"at,omitempty"`
	// MsgUUID makes a send after a lost answer idempotent: DingTalk shows
	// a message with a uuid it has seen once.
	MsgUUID string `json:"msgUuid,omitempty"`
}

type wireText struct {
	Content string `json:"content"`
}

type wireMarkdown struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

type wireActionCard struct {
	Title string `json:"title"`
	Text  string `json:"text"`
	// BtnOrientation and HideAvatar are strings "0"/"1", not numbers.
	BtnOrientation string    `json:"btnOrientation,omitempty"`
	HideAvatar     string    `json:"hideAvatar,omitempty"`
	SingleTitle    string    `json:"singleTitle,omitempty"`
	SingleURL      string    `json:"singleURL,omitempty"`
	Btns           []wireBtn `json:"btns,omitempty"`
}

type wireBtn struct {
	Title     string `json:"title"`
	ActionURL string `json:"actionURL"`
}

type wireFeedCard struct {
	Links []wireFeedLink `json:"links"`
}

type wireFeedLink struct {
	Title      string `json:"title"`
	MessageURL string `json:"messageURL"`
	PicURL     string `json:"picURL"`
}

type wireAt struct {
	AtMobiles []string `json:"atMobiles,omitempty"`
	AtUserIDs []string `json:"atUserIds,omitempty"`
	IsAtAll   bool     `json:"isAtAll"`
}

// answer is the robot's reply: HTTP 200 with errcode, success or not. An
// IP banned for calling all DingTalk APIs too often gets
// {"status":1111,"wait":5,…} instead.
type answer struct {
	ErrCode *code  `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	Status  int    `json:"status"`
	Wait    int    `json:"wait"`
}

// code is an errcode, which DingTalk sends as a number and its own
// documentation shows as a string.
type code int

func (c *code) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return fmt.Errorf("errcode %s is not a number", b)
	}
	*c = code(n)
	return nil
}

// encode writes v as DingTalk receives it: UTF-8 as is, no HTML escaping,
// so that the size of every character is its own (see escapedLen).
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("dingtalk: encoding a message: %v", err)) // strings, slices and bools only
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}

// escapedLen is how many bytes s takes inside a JSON string as encode
// writes it. s must be valid UTF-8 (the message builder makes it so).
func escapedLen(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t' || r == '\b' || r == '\f':
			n += 2
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			n += 6
		default:
			n += len(string(r))
		}
	}
	return n
}
