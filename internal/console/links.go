package console

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/notify"
	"orderhub/internal/store"
)

// RegisterLinks adds the public links mails carry to mux: the one-click
// unsubscribe page /u/{token} (RFC 8058), the open pixel /t/o/{token}.gif
// and tracked links /t/c/{token}?u=. They need no session and no API
// token: each token is signed by the store's link secret and is the
// capability for exactly what it names. channels are the systems that
// send, which an unsubscribe may mute; tracked those of them that count
// openings and clicks (email), for the statistics.
func (a *API) RegisterLinks(mux *http.ServeMux, links *notify.Links, people map[string]*config.Person, channels, tracked []string) {
	a.tracked = map[string]bool{}
	for _, s := range tracked {
		a.tracked[s] = true
	}
	h := &linksAPI{API: a, links: links, people: people, channels: channels}
	a.handlePublic(mux, "GET /u/{token}", h.unsubscribePage)
	a.handlePublic(mux, "POST /u/{token}", h.unsubscribe)
	a.handlePublic(mux, "GET /t/o/{file}", h.open)
	a.handlePublic(mux, "GET /t/c/{token}", h.click)
}

type linksAPI struct {
	*API
	links    *notify.Links
	people   map[string]*config.Person
	channels []string
}

// unsubPage is what a person sees: asked to confirm, told it is done, or
// told the link is no good. zh-CN: the people mailed are the hub's users.
var unsubPage = template.Must(template.New("unsub").Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}}</title></head>
<body style="margin:0;padding:48px 16px;background:#f5f6f7;font-family:-apple-system,'PingFang SC','Microsoft YaHei',Arial,sans-serif;color:#1f2329;">
<div style="max-width:480px;margin:0 auto;background:#fff;border-radius:4px;padding:24px;">
<h1 style="margin:0 0 12px;font-size:20px;">{{.Title}}</h1>
<p style="margin:0 0 16px;line-height:1.6;">{{.Text}}</p>
{{- if .Confirm}}
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit" style="padding:8px 20px;background:#1677FF;color:#fff;border:0;border-radius:4px;font-size:15px;">确认退订</button></form>
{{- end}}
</div>
</body>
</html>
`))

type unsubView struct {
	Title, Text string
	Confirm     bool
}

func (h *linksAPI) page(w http.ResponseWriter, status int, v unsubView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := unsubPage.Execute(w, v); err != nil {
		h.log.Warn("unsubscribe page", "err", err)
	}
}

// unsubscription checks the token and answers the request itself when it
// is no good: 400 for a token this hub did not sign (or one changed), 404
// for a signed one whose person or channel is no longer configured.
func (h *linksAPI) unsubscription(w http.ResponseWriter, r *http.Request) (notify.Unsubscription, bool) {
	u, err := h.links.ReadUnsubscribe(r.PathValue("token"))
	if err != nil {
		h.log.Info("unsubscribe: refused a link", "err", err, "remote", r.RemoteAddr)
		h.page(w, http.StatusBadRequest, unsubView{Title: "退订链接无效", Text: "这个退订链接不完整或已被改动，无法使用。请直接点击邮件中的退订链接，或联系管理员。"})
		return u, false
	}
	if h.people[u.Person] == nil || !slices.Contains(h.channels, u.Channel) {
		h.log.Info("unsubscribe: a link for a person or channel no longer configured", "person", u.Person, "channel", u.Channel)
		h.page(w, http.StatusNotFound, unsubView{Title: "退订链接已失效", Text: "这个链接所指的接收人或通知渠道已不存在，无需退订。"})
		return u, false
	}
	return u, true
}

func (h *linksAPI) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	u, ok := h.unsubscription(w, r)
	if !ok {
		return
	}
	h.page(w, http.StatusOK, unsubView{Title: "退订通知", Confirm: true,
		Text: "确认后，" + h.nameOf(u.Person) + "将不再通过「" + u.Channel + "」收到订单通知。其他渠道不受影响。"})
}

// unsubscribe mutes the token's channel for its person: the one-click POST
// a mail client makes (RFC 8058) or the page's button. Doing it again
// changes nothing more.
func (h *linksAPI) unsubscribe(w http.ResponseWriter, r *http.Request) {
	u, ok := h.unsubscription(w, r)
	if !ok {
		return
	}
	changed := false
	_, err := h.store.UpdatePrefs(r.Context(), u.Person, time.Now(), func(p *store.Prefs) bool {
		if slices.Contains(p.MutedChannels, u.Channel) && p.Only != u.Channel {
			return false
		}
		p.MutedChannels = slices.Compact(slices.Sorted(slices.Values(append(nonNil(p.MutedChannels), u.Channel))))
		if p.Only == u.Channel {
			p.Only = "" // "only this channel" and "not this channel" cannot both hold
		}
		changed = true
		return true
	})
	if err != nil {
		h.storeFailed(w, err)
		return
	}
	if changed {
		h.log.Info("unsubscribed", "person", u.Person, "channel", u.Channel, "link_issued", u.IssuedAt.In(h.loc))
	}
	h.page(w, http.StatusOK, unsubView{Title: "已退订",
		Text: h.nameOf(u.Person) + "已不再通过「" + u.Channel + "」收到订单通知。如需恢复，请联系管理员修改通知偏好。"})
}

func (h *linksAPI) nameOf(person string) string {
	if p := h.people[person]; p != nil && p.Name != "" {
		return p.Name
	}
	return person
}

// pixel is a transparent 1×1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// open records that a mail was opened: its pixel was fetched.
func (h *linksAPI) open(w http.ResponseWriter, r *http.Request) {
	tok, isGIF := strings.CutSuffix(r.PathValue("file"), ".gif")
	id, err := h.links.ReadOpen(tok)
	if !isGIF || err != nil {
		badLink(w, err)
		return
	}
	if _, err := h.store.MarkOpened(r.Context(), id, time.Now()); err != nil {
		h.log.Error("tracking: recording an opening", "delivery", id, "err", err)
	}
	// The image whatever the store said: a mail client shows it as it is.
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store, private")
	_, _ = w.Write(pixel)
}

// click records that a tracked link was followed and redirects to its
// target, which is signed with the delivery: no other target is taken.
func (h *linksAPI) click(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("u")
	id, err := h.links.ReadClick(r.PathValue("token"), target)
	if err != nil || !(strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "http://")) {
		h.log.Info("tracking: refused a link", "err", err, "remote", r.RemoteAddr)
		badLink(w, err)
		return
	}
	if _, err := h.store.MarkClicked(r.Context(), id, time.Now()); err != nil {
		h.log.Error("tracking: recording a click", "delivery", id, "err", err)
	}
	w.Header().Set("Cache-Control", "no-store, private")
	http.Redirect(w, r, target, http.StatusFound)
}

func badLink(w http.ResponseWriter, err error) {
	if err == nil {
		err = notify.ErrBadLink
	}
	msg := err.Error()
	if errors.Is(err, notify.ErrBadLink) {
		msg = "链接无效：" + msg
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(msg + "\n"))
}
