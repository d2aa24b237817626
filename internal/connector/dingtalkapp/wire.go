package dingtalkapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Paths on base_url (im.md 2.2–2.4).
const (
	PathToken    = "/gettoken"
	PathSend     = "/topapi/message/corpconversation/asyncsend_v2"
	PathResult   = "/topapi/message/corpconversation/getsendresult"
	PathProgress = "/topapi/message/corpconversation/getsendprogress"
)

// The operation names in errors and the delivery log.
const (
	opToken  = "gettoken"
	opSend   = "asyncsend_v2"
	opResult = "getsendresult"
)

// sendRequest is asyncsend_v2's JSON body. The lists are comma-separated
// strings, not arrays.
type sendRequest struct {
	AgentID    int64           `json:"agent_id"`
	UserIDList string          `json:"userid_list,omitempty"`
	DeptIDList string          `json:"dept_id_list,omitempty"`
	ToAllUser  bool            `json:"to_all_user,omitempty"`
	Msg        json.RawMessage `json:"msg"`
}

// wireMsg is the msg object: exactly one type's field set.
type wireMsg struct {
	MsgType    string          `json:"msgtype"`
	Markdown   *wireMarkdown   `json:"markdown,omitempty"`
	ActionCard *wireActionCard `json:"action_card,omitempty"`
}

type wireMarkdown struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// wireActionCard is the one-button form; field names are snake_case.
type wireActionCard struct {
	Title       string `json:"title"`
	Markdown    string `json:"markdown"`
	SingleTitle string `json:"single_title"`
	SingleURL   string `json:"single_url"`
}

// taskRequest is the body of getsendresult and getsendprogress.
type taskRequest struct {
	AgentID int64 `json:"agent_id"`
	TaskID  int64 `json:"task_id"`
}

// answer is every legacy API's reply: HTTP 200 with errcode. Authorization
// failures come as errcode 88 with the real code in sub_code, a string.
// An IP banned for calling too often gets {"status":1111,"wait":5} instead.
type answer struct {
	ErrCode *code  `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	SubCode string `json:"sub_code"`
	SubMsg  string `json:"sub_msg"`
	Status  int    `json:"status"`
	Wait    int    `json:"wait"`

	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`

	TaskID     int64       `json:"task_id"`
	SendResult *sendResult `json:"send_result"`
}

// sendResult is getsendresult's account of one task.
type sendResult struct {
	InvalidUsers   []string        `json:"invalid_user_id_list"`
	ForbiddenUsers []string        `json:"forbidden_user_id_list"`
	FailedUsers    []string        `json:"failed_user_id_list"`
	ReadUsers      []string        `json:"read_user_id_list"`
	UnreadUsers    []string        `json:"unread_user_id_list"`
	InvalidDepts   []string        `json:"invalid_dept_id_list"`
	ForbiddenList  []forbiddenItem `json:"forbidden_list"`
}

// forbiddenItem is one recipient DingTalk's flow control held back.
type forbiddenItem struct {
	Code   string `json:"code"`
	Count  int    `json:"count"`
	UserID string `json:"userid"`
}

// newAnswer is the new API family's error body (api.dingtalk.com), met
// when base_url points there by mistake.
type newAnswer struct {
	RequestID string `json:"requestid"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}

// code is an errcode, which DingTalk sends as a number and some pages
// show as a string.
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

// encode writes v with UTF-8 as is and no HTML escaping, so that a
// message's size is what DingTalk counts.
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("dingtalkapp: encoding %T: %v", v, err)) // strings, numbers and bools only
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}
