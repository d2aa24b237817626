package dingtalkapp

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"orderhub/internal/connector"
)

// TaskResult is getsendresult's account of one send call: who read the
// message, who has not yet, and who never got it and why.
type TaskResult struct {
	TaskID string
	Read   []string
	Unread []string
	// Invalid are userids not in the organisation; InvalidDepts likewise.
	Invalid      []string
	InvalidDepts []string
	Failed       []string
	// Forbidden are recipients DingTalk's flow control held back (the
	// daily cap, duplicate content), each with its code and a hint.
	Forbidden []Forbidden
}

// Forbidden is one recipient a message was held back from.
type Forbidden struct {
	UserID string
	Code   string
	Count  int
	Hint   string
}

// Result asks DingTalk what became of one task: one id of the comma-list
// Send answers. DingTalk keeps tasks for 24 hours and does not answer for
// tasks of more than 100 recipients (a department or the whole company);
// past that it answers errcode 40035.
func (c *Client) Result(ctx context.Context, taskID string) (TaskResult, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(taskID), 10, 64)
	if err != nil || id <= 0 {
		return TaskResult{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opResult, Code: "task_id",
			Message: connector.Quote(taskID), Hint: "工作通知的任务 id 应是钉钉 asyncsend_v2 返回的数字 task_id"}
	}
	a, err := c.call(ctx, opResult, PathResult, taskRequest{AgentID: c.agentID, TaskID: id})
	if err != nil {
		return TaskResult{}, err
	}
	r := TaskResult{TaskID: strconv.FormatInt(id, 10)}
	if sr := a.SendResult; sr != nil {
		r.Read, r.Unread, r.Invalid, r.InvalidDepts, r.Failed = sr.ReadUsers, sr.UnreadUsers, sr.InvalidUsers, sr.InvalidDepts, sr.FailedUsers
		listed := map[string]bool{}
		for _, f := range sr.ForbiddenList {
			listed[f.UserID] = true
			r.Forbidden = append(r.Forbidden, Forbidden{UserID: f.UserID, Code: f.Code, Count: f.Count, Hint: ForbiddenHint(f.Code)})
		}
		for _, u := range sr.ForbiddenUsers {
			if !listed[u] { // held back without a stated reason
				r.Forbidden = append(r.Forbidden, Forbidden{UserID: u, Hint: ForbiddenHint("")})
			}
		}
	}
	return r, nil
}

// ReadStatus implements connector.ReadTracker for the message id Send
// answered: one task id, or several joined by commas. A person counts as
// read when any of the tasks says so; everyone else addressed — unread,
// and also held back, failed or unknown to DingTalk, since none of them
// will read it — is unread. Final reports that DingTalk will tell no more:
// everyone has read it, or every task is past its 24 hours.
func (c *Client) ReadStatus(ctx context.Context, messageID string) (connector.ReadStatus, error) {
	var ids []string
	for _, id := range strings.Split(messageID, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return connector.ReadStatus{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opResult, Code: "task_id",
			Hint: "这条投递没有钉钉的任务 id，无法查询已读状态"}
	}
	read, unread := map[string]bool{}, map[string]bool{}
	live := 0
	for _, id := range ids {
		r, err := c.Result(ctx, id)
		if ce, ok := connector.AsCallError(err); ok && ce.Code == strconv.Itoa(CodeBadParam) {
			continue // past DingTalk's 24 hours: it will tell no more
		}
		if err != nil {
			return connector.ReadStatus{}, err
		}
		live++
		for _, u := range r.Read {
			read[u] = true
		}
		for _, list := range [][]string{r.Unread, r.Failed, r.Invalid} {
			for _, u := range list {
				unread[u] = true
			}
		}
		for _, f := range r.Forbidden {
			unread[f.UserID] = true
		}
	}
	var st connector.ReadStatus
	for u := range read {
		st.Read = append(st.Read, u)
	}
	for u := range unread {
		if !read[u] {
			st.Unread = append(st.Unread, u)
		}
	}
	slices.Sort(st.Read)
	slices.Sort(st.Unread)
	st.Final = live == 0 || len(st.Unread) == 0
	return st, nil
}
