package notify

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/order"
)

// NextClock is the first clock time of a digest strictly after now: with
// every:, the next multiple of it counted from midnight in loc (every: 1h
// is on the hour); with at:, the next listed time of day.
func NextClock(g *config.Digest, now time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.Local
	}
	local := now.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	if g.Every > 0 {
		every := g.Every.Std()
		since := local.Sub(midnight)
		next := midnight.Add((since/every + 1) * every)
		// Across a change of the clock (daylight saving) the day is not 24
		// hours; the next midnight starts the count again.
		if tomorrow := midnight.AddDate(0, 0, 1); next.After(tomorrow) {
			next = tomorrow
		}
		return next
	}
	var times []time.Duration
	for _, at := range g.At {
		if d, err := config.ParseClock(at); err == nil {
			times = append(times, d)
		}
	}
	slices.Sort(times)
	for day := 0; day < 2; day++ {
		base := midnight.AddDate(0, 0, day)
		for _, d := range times {
			t := time.Date(base.Year(), base.Month(), base.Day(), int(d/time.Hour), int(d%time.Hour/time.Minute), 0, 0, loc)
			if t.After(now) {
				return t
			}
		}
	}
	return midnight.AddDate(0, 0, 1) // no valid time: check refuses such a digest
}

// DigestRow is one merged message as a digest lists it.
type DigestRow struct {
	Source, OrderNo string
	Event           order.EventType
	Total           string // decimal
	Status          order.Status
}

// DigestSpec says what a digest carries.
type DigestSpec struct {
	Lang string
	// Clock is set for a digest rule's digest on the clock: the rule's
	// name and the span collected; otherwise the digest carries the
	// overflow of an endpoint's pace.
	Clock    bool
	Rule     string
	From, To time.Time
	Rows     []DigestRow
	// Waiting is how many more messages wait behind the rows.
	Waiting int
	// System is the endpoint, for the link to its queue.
	System string
	// ID is the digest's delivery id, for its own link.
	ID int64
	// MaxBytes bounds the Markdown body (0: no bound); rows past it are
	// left for the next digest.
	MaxBytes int
}

// digestText are a digest's words in one language.
type digestText struct {
	more        func(n int, what string) string // overflow heading
	clock       func(rule string, n int, from, to string) string
	cols        [3]string
	waiting     func(n int) string
	all         string
	orders      string // what several mixed events are
	eventPlural map[order.EventType]string
}

var digestTexts = map[string]digestText{
	"zh-CN": {
		more: func(n int, what string) string { return fmt.Sprintf("另有 %d 笔%s", n, what) },
		clock: func(rule string, n int, from, to string) string {
			return fmt.Sprintf("%s 汇总：%s–%s 共 %d 笔", rule, from, to, n)
		},
		cols:    [3]string{"订单", "金额", "状态"},
		waiting: func(n int) string { return fmt.Sprintf("还有 %d 笔在排队，稍后发送", n) },
		all:     "查看全部",
		orders:  "订单通知",
		eventPlural: map[order.EventType]string{order.EventCreated: "新订单", order.EventPaid: "已付款订单", order.EventShipped: "已发货订单",
			order.EventCompleted: "已完成订单", order.EventCancelled: "已取消订单", order.EventRefunded: "退款订单", order.EventChanged: "订单变更"},
	},
	"en": {
		more: func(n int, what string) string { return fmt.Sprintf("%d more %s", n, what) },
		clock: func(rule string, n int, from, to string) string {
			return fmt.Sprintf("%s digest: %d from %s to %s", rule, n, from, to)
		},
		cols:    [3]string{"Order", "Amount", "Status"},
		waiting: func(n int) string { return fmt.Sprintf("%d more are waiting and follow shortly", n) },
		all:     "See them all",
		orders:  "order notifications",
		eventPlural: map[order.EventType]string{order.EventCreated: "new orders", order.EventPaid: "paid orders", order.EventShipped: "shipped orders",
			order.EventCompleted: "completed orders", order.EventCancelled: "cancelled orders", order.EventRefunded: "refunds", order.EventChanged: "order changes"},
	},
}

// RenderDigest renders a digest: a heading, a table of order, amount and
// status up to what fits spec.MaxBytes, how many more wait, and a link to
// the digest in the read API. It returns the message and how many rows it
// carries; the rest are left for the next one.
func (rs *Rules) RenderDigest(spec DigestSpec) (connector.Message, int) {
	lang := spec.Lang
	tx, ok := digestTexts[lang]
	if !ok {
		lang = Languages[0]
		tx = digestTexts[lang]
	}
	link := rs.base + "/v1/deliveries?digest=" + strconv.FormatInt(spec.ID, 10)
	var footer strings.Builder
	footer.WriteString("\n[" + tx.all + "](" + link + ")")
	if rs.brand.Signature != "" {
		footer.WriteString("\n\n" + rs.brand.Signature)
	}
	tableHead := "| " + tx.cols[0] + " | " + tx.cols[1] + " | " + tx.cols[2] + " |\n| --- | --- | ---: |\n"
	// The heading names the count, which is known only once the rows that
	// fit are; leave room for the longest it can be.
	heading := func(n int) string {
		if spec.Clock {
			from, to := rs.clockText(spec.From), rs.clockText(spec.To)
			if from[:5] == to[:5] {
				to = to[6:] // the same day: its date once
			}
			return tx.clock(spec.Rule, n, from, to)
		}
		return tx.more(n, rs.digestWhat(tx, spec.Rows[:n]))
	}
	fixed := len("### \n\n") + len(heading(len(spec.Rows))) + len(tableHead) + footer.Len() + len(tx.waiting(len(spec.Rows)+spec.Waiting)) + 4
	var rows strings.Builder
	n := 0
	for _, r := range spec.Rows {
		line := rs.digestLine(r, lang)
		if spec.MaxBytes > 0 && n > 0 && fixed+rows.Len()+len(line) > spec.MaxBytes {
			break
		}
		rows.WriteString(line)
		n++
	}
	waiting := spec.Waiting + len(spec.Rows) - n
	title := heading(n)
	var md strings.Builder
	md.WriteString("### " + title + "\n\n" + tableHead + rows.String())
	if waiting > 0 {
		md.WriteString("\n" + tx.waiting(waiting) + "\n")
	}
	md.WriteString(footer.String())
	body := md.String()
	return connector.Message{Title: title, Markdown: body, Text: plain(body), Link: link, Color: rs.brand.Color}, n
}

func (rs *Rules) digestLine(r DigestRow, lang string) string {
	amount, err := Yuan(r.Total)
	if err != nil {
		amount = r.Total
	}
	olink := rs.base + "/orders/" + url.PathEscape(r.Source) + "/" + url.PathEscape(r.OrderNo)
	// A pipe in an order number would end its cell.
	no := strings.ReplaceAll(r.OrderNo, "|", "¦")
	return "| [" + no + "](" + olink + ") | " + amount + " | " + label(statusLabels, lang, r.Status) + " |\n"
}

// digestWhat names what an overflow digest's rows are: "新订单" when they
// are all one event, "订单通知" otherwise.
func (rs *Rules) digestWhat(tx digestText, rows []DigestRow) string {
	if len(rows) == 0 {
		return tx.orders
	}
	for _, r := range rows[1:] {
		if r.Event != rows[0].Event {
			return tx.orders
		}
	}
	if w, ok := tx.eventPlural[rows[0].Event]; ok {
		return w
	}
	return tx.orders
}

func (rs *Rules) clockText(t time.Time) string {
	if rs.loc != nil {
		t = t.In(rs.loc)
	}
	return t.Format("01-02 15:04")
}

// DigestRule is a rule's digest settings, nil for a rule that sends at once.
func (r *Rule) DigestRule() *config.Digest { return r.digest }
