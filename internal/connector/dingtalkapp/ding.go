package dingtalkapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"orderhub/internal/connector"
	"orderhub/internal/connector/imtext"
)

// DING messages (强提醒, im.md 2.6) go through the app's robot on the new
// API family, with the same access token in a header.

// DefaultAPIBaseURL is the new API family's root, where DING messages go.
const DefaultAPIBaseURL = "https://api.dingtalk.com"

// PathDing is the DING send API on the new API root.
const PathDing = "/v1.0/robot/ding/send"

const opDing = "robot/ding/send"

// The remind types: in the 钉钉 app, by SMS, by a phone call. SMS and phone
// DING need a purchased pack.
const (
	RemindApp  = 1
	RemindSMS  = 2
	RemindCall = 3
)

// How many receivers one DING takes: 200 in the app, 20 by SMS or phone.
const (
	DingMaxApp  = 200
	DingMaxCall = 20
)

// DingMaxChars bounds a DING's content by default. im.md states no limit;
// a DING is a short alert, and ding_max_chars changes it.
const DingMaxChars = 500

// RemindName is the remind type as a rule's channel step names it:
// app, sms or phone.
func RemindName(remind int) string {
	switch remind {
	case RemindApp:
		return "app"
	case RemindSMS:
		return "sms"
	case RemindCall:
		return "phone"
	}
	return fmt.Sprintf("remind type %d", remind)
}

// RemindType reads a channel step's name (app, sms, phone).
func RemindType(name string) (int, bool) {
	switch name {
	case "app":
		return RemindApp, true
	case "sms":
		return RemindSMS, true
	case "phone":
		return RemindCall, true
	}
	return 0, false
}

type dingRequest struct {
	RobotCode          string   `json:"robotCode"`
	RemindType         int      `json:"remindType"`
	ReceiverUserIDList []string `json:"receiverUserIdList"`
	Content            string   `json:"content"`
	CallVoice          string   `json:"callVoice,omitempty"`
}

type dingAnswer struct {
	OpenDingID string              `json:"openDingId"`
	FailedList map[string][]string `json:"failedList"`
}

// DingSender returns a sender of DING messages of one remind type, for a
// rule's channel step (ding:app, ding:sms, ding:phone). It reaches people
// by 钉钉 userid only: a DING has no departments and no "everyone".
func (c *Client) DingSender(remind int) (connector.Sender, error) {
	if _, ok := RemindType(RemindName(remind)); !ok {
		return nil, fmt.Errorf("dingtalkapp: system %q: unknown DING remind type %d (1 app, 2 sms, 3 phone)", c.system, remind)
	}
	return dingSender{c, remind}, nil
}

type dingSender struct {
	c      *Client
	remind int
}

// Send sends msg as a DING: its text (or its Markdown as plain text) and
// link, cut to ding_max_chars. Receivers past one call's limit go in
// several calls; MessageID is then the openDingIds joined by commas.
func (d dingSender) Send(ctx context.Context, m connector.Message) (connector.SendResult, error) {
	c := d.c
	r := addressees(m.To)
	if len(r.users) == 0 {
		hint := noRecipientHint(r.unreachable)
		if r.all || len(r.depts) > 0 {
			hint = "DING 只能发给具体的人，不能发给部门或全员：在规则的 to 中写人员，并为其配置 dingtalk_userid"
		}
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opDing, Code: "no recipient", Hint: hint}
	}
	if len(r.depts) > 0 || r.all || len(r.unreachable) > 0 {
		c.log.Warn("dingtalkapp: a DING reaches people by userid only; the rest are left out", "system", c.system, "key", m.Key,
			"depts", len(r.depts), "all", r.all, "left_out", strings.Join(r.unreachable, ", "))
	}
	content, cut := c.dingContent(m)
	if strings.TrimSpace(content) == "" {
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opDing, Err: errEmpty,
			Hint: "模板渲染出的消息为空：检查该规则模板的 title 与 markdown"}
	}
	per := DingMaxApp
	if d.remind != RemindApp {
		per = DingMaxCall
	}
	var ids []string
	for i := 0; i < len(r.users); i += per {
		users := r.users[i:min(i+per, len(r.users))]
		req := dingRequest{RobotCode: c.robotCode, RemindType: d.remind, ReceiverUserIDList: users, Content: content}
		var a dingAnswer
		if err := c.callNew(ctx, opDing, PathDing, req, &a); err != nil {
			return connector.SendResult{MessageID: strings.Join(ids, ",")}, err
		}
		if a.OpenDingID == "" {
			return connector.SendResult{MessageID: strings.Join(ids, ",")}, &connector.CallError{Class: connector.Unknown, System: c.system, Op: opDing,
				Code: "HTTP 200", Message: "no openDingId", Hint: "钉钉的应答没有 openDingId，DING 是否已发出未知"}
		}
		if failed := failedUsers(a.FailedList); len(failed) == len(users) {
			return connector.SendResult{MessageID: strings.Join(ids, ",")}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opDing,
				Code: "failedList", Message: failedText(a.FailedList),
				Hint: "钉钉没有把 DING 送给任何接收人（" + failedText(a.FailedList) + "）：检查这些人的 dingtalk_userid，以及短信、电话 DING 的额度"}
		} else if len(failed) > 0 {
			c.log.Warn("dingtalkapp: DING not delivered to some receivers", "system", c.system, "key", m.Key, "failed", failedText(a.FailedList))
		}
		ids = append(ids, a.OpenDingID)
	}
	return connector.SendResult{MessageID: strings.Join(ids, ","), Code: "0", Cut: cut}, nil
}

// dingContent is the DING's text: Text, or the Markdown without markup,
// with the link, cut to c.dingMax characters.
func (c *Client) dingContent(m connector.Message) (string, bool) {
	m = validUTF8(m)
	text := strings.TrimSpace(m.Text)
	if text == "" {
		text = strings.TrimSpace(imtext.Plain(m.Markdown))
	}
	if text == "" {
		text = strings.TrimSpace(m.Title)
	}
	link := ""
	if m.Link != "" && !strings.Contains(text, m.Link) {
		link = "\n" + m.Link
	}
	fits := func(s string) bool { return len([]rune(s)) <= c.dingMax }
	return imtext.Cut(text+link, fits, "\n"+imtext.Ellipsis+link, imtext.Ellipsis+link)
}

func failedUsers(f map[string][]string) []string {
	var out []string
	for _, us := range f {
		out = append(out, us...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func failedText(f map[string][]string) string {
	reasons := make([]string, 0, len(f))
	for r := range f {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	var parts []string
	for _, r := range reasons {
		parts = append(parts, r+": "+strings.Join(f[r], ","))
	}
	return strings.Join(parts, "; ")
}

// callNew posts body to a new-API path with the token in its header and
// decodes a 200 answer into out. A token the API calls invalid is replaced
// once, as call does for the legacy API.
func (c *Client) callNew(ctx context.Context, op, path string, body, out any) error {
	tok, err := c.tokens.Token(ctx, c.tokenKey, c.fetchToken)
	if err != nil {
		return err
	}
	refused, err := c.postNew(ctx, op, path, tok, body, out)
	if !refused {
		return err
	}
	c.log.Info("dingtalkapp: access token refused; fetching a new one", "system", c.system, "op", op)
	if tok, err = c.renewToken(ctx, tok); err != nil {
		return err
	}
	if refused, err = c.postNew(ctx, op, path, tok, body, out); refused {
		ce, _ := connector.AsCallError(err)
		ce.Hint = "钉钉刚发放的 access_token 也被新版接口拒绝：核对 app_key 与 app_secret 属于同一个企业内部应用"
		_ = c.tokens.Forget(ctx, c.tokenKey) // the next call starts afresh; this one's error says enough
		return ce
	}
	return err
}

func (c *Client) postNew(ctx context.Context, op, path, token string, body, out any) (refused bool, _ error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiBase+path, bytes.NewReader(encode(body)))
	if err != nil {
		return false, &connector.CallError{Class: connector.Permanent, System: c.system, Op: op, Err: redact(err), Hint: "api_base_url 无法使用：检查配置"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-acs-dingtalk-access-token", token)
	now := c.now()
	status, b, err := connector.Do(c.http, c.system, op, req)
	if err != nil {
		ce, _ := connector.AsCallError(err)
		if ce.Class == connector.Unknown {
			ce.Hint = "发送 DING 后没有收到钉钉的应答，是否已发出未知；重发可能让对方再收到一次提醒"
		}
		return false, ce
	}
	if status != http.StatusOK {
		ce := c.classifyNew(op, status, b, now)
		if ce == nil {
			ce = connector.StatusError(c.system, op, status, b, true)
		}
		return strings.HasSuffix(ce.Code, " "+newBadToken), ce
	}
	if err := json.Unmarshal(b, out); err != nil {
		return false, &connector.CallError{Class: connector.Unknown, System: c.system, Op: op, Code: "HTTP 200", Message: imtext.CutRunes(string(b), 200),
			Hint: "钉钉返回了无法识别的应答，DING 是否已发出未知：检查 api_base_url 是否指向 " + DefaultAPIBaseURL}
	}
	return false, nil
}
