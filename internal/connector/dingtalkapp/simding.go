package dingtalkapp

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"time"

	"orderhub/internal/connector/simfault"
)

// ding serves POST /v1.0/robot/ding/send the new API's way: the token only
// in x-acs-dingtalk-access-token, errors as HTTP 4xx with a code, the
// receiver limits per remind type, the robot's code, the SMS and phone
// pack, and the per-robot rate.
func (s *Sim) ding(w http.ResponseWriter, r *http.Request, now time.Time, set simfault.Set) {
	if r.Method != http.MethodPost {
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	out, status, code, msg := s.dingCall(r, now, set.Has(simfault.Throttle))
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if code != "" {
		s.mu.Lock()
		s.rejected = append(s.rejected, Rejection{Path: r.URL.Path, At: now, SubCode: code, ErrMsg: msg})
		s.mu.Unlock()
		w.WriteHeader(status)
		b, _ := json.Marshal(map[string]string{"requestid": requestID(), "code": code, "message": msg})
		w.Write(b)
		return
	}
	if set.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	b, _ := json.Marshal(out)
	w.Write(b)
}

// dingCall checks one DING call; on a refusal it returns the HTTP status,
// the code and the message.
func (s *Sim) dingCall(r *http.Request, now time.Time, throttle bool) (out any, status int, code, msg string) {
	bad := func(code, msg string) (any, int, string, string) { return nil, http.StatusBadRequest, code, msg }
	// Only the header carries the token; ?access_token= and Authorization are not read.
	token := r.Header.Get("x-acs-dingtalk-access-token")
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return bad("MissingBody", "body is mandatory for this action")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req struct {
		RobotCode  string   `json:"robotCode"`
		RemindType int      `json:"remindType"`
		Receivers  []string `json:"receiverUserIdList"`
		Content    string   `json:"content"`
	}
	if err != nil || json.Unmarshal(body, &req) != nil {
		return bad("MissingBody", "body is mandatory for this action")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.tokens[token]
	var app *simApp
	if tok != nil {
		app = s.apps[tok.app]
	}
	switch {
	case tok == nil || tok.revoked || app == nil || !now.Before(tok.expires):
		return bad(newBadToken, "不合法的access_token")
	case throttle || !s.allow(app.Key, PathDing, now):
		return nil, http.StatusForbidden, newAppQPS, "应用调用该接口超过每秒限制"
	case app.NoPermission:
		return nil, http.StatusForbidden, "Forbidden.AccessDenied.AccessTokenPermissionDenied", "没有调用该接口的权限: Premium.Ding.Write"
	case req.RobotCode == "" || req.RobotCode != app.RobotCode:
		return bad(CodeDingRobot, "robotCode 不存在")
	case req.RemindType < RemindApp || req.RemindType > RemindCall:
		return bad("invalidParameter", "remindType 应是 1、2 或 3")
	case len(req.Receivers) == 0:
		return bad(CodeDingNoStaff, "缺少接收人")
	case req.Content == "":
		return bad("invalidParameter", "content 为空")
	}
	limit := DingMaxApp
	if req.RemindType != RemindApp {
		limit = DingMaxCall
	}
	if len(req.Receivers) > limit {
		return bad(CodeDingReceivers, fmt.Sprintf("接收人最多 %d 个", limit))
	}
	times := s.dingTimes[app.RobotCode]
	for len(times) > 0 && now.Sub(times[0]) >= time.Minute {
		times = times[1:]
	}
	if len(times) >= s.cfg.DingPerMinute {
		s.dingTimes[app.RobotCode] = times
		return bad(CodeDingTooFast, "send too fast")
	}
	var ok, unknown []string
	for _, u := range req.Receivers {
		if s.users[u] && !slices.Contains(ok, u) {
			ok = append(ok, u)
		} else if !s.users[u] {
			unknown = append(unknown, u)
		}
	}
	if req.RemindType != RemindApp {
		if len(ok) > app.DingPack {
			return bad(CodeDingQuota, "DING 额度不足")
		}
		app.DingPack -= len(ok)
	}
	s.dingTimes[app.RobotCode] = append(times, now)
	id := strconv.Itoa(54165000 + len(s.dings) + 1)
	if len(ok) > 0 {
		s.dings = append(s.dings, Ding{OpenDingID: id, At: now, RemindType: req.RemindType, Receivers: ok, Content: req.Content})
	}
	a := map[string]any{"openDingId": id}
	if len(unknown) > 0 {
		a["failedList"] = map[string][]string{"userNotExist": unknown}
	}
	return a, http.StatusOK, "", ""
}
