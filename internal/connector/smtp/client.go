package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/imhook"
)

// Options configure a Client.
type Options struct {
	System string // configured system name, for errors and logs
	Host   string
	Port   int
	// Username and Password log in; no login when Username is "".
	Username, Password string
	// From is the sender, "订单中心 <orders@example.com>".
	From string
	// TLS is TLSImplicit (default), TLSStartTLS or TLSNone.
	TLS string
	// TLSConfig, when set, replaces the default verification settings
	// (RootCAs for a server with a private CA); its ServerName defaults to
	// Host.
	TLSConfig *tls.Config
	// UnsubscribeURL is the template of the List-Unsubscribe link.
	UnsubscribeURL string
	// Timeout bounds each SMTP step (connecting, each command, the mail's
	// data); default 30s.
	Timeout time.Duration
	// HELO is the name the client greets the server with; default the
	// machine's host name.
	HELO string
	Now  func() time.Time
	Log  *slog.Logger
}

// Client sends mail through one SMTP server. It is safe for concurrent
// use: every Send has its own connection.
type Client struct {
	system  string
	host    string
	port    int
	user    string
	pass    config.Secret // kept redacted in anything that prints the client
	from    *mail.Address
	domain  string // from's domain, for Message-IDs
	tlsMode string
	tlsConf *tls.Config
	unsub   string
	timeout time.Duration
	helo    string
	now     func() time.Time
	log     *slog.Logger
}

var _ connector.Sender = (*Client)(nil)

// DefaultTimeout bounds one SMTP step when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// New returns a client for the server the options describe.
func New(o Options) (*Client, error) {
	if o.Host == "" {
		return nil, fmt.Errorf("smtp: system %q: no host", o.System)
	}
	if o.Port <= 0 || o.Port > 65535 {
		return nil, fmt.Errorf("smtp: system %q: port %d is not a TCP port", o.System, o.Port)
	}
	from, err := parseFrom(o.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: system %q: %w", o.System, err)
	}
	switch o.TLS {
	case "":
		o.TLS = TLSImplicit
	case TLSImplicit, TLSStartTLS:
	case TLSNone:
		if !imhook.IsLoopback(o.Host) {
			return nil, fmt.Errorf("smtp: system %q: tls none only to a server on this machine, not %s", o.System, o.Host)
		}
	default:
		return nil, fmt.Errorf("smtp: system %q: tls %q: want implicit, starttls or none", o.System, o.TLS)
	}
	if o.UnsubscribeURL != "" {
		if err := checkUnsubscribe(o.UnsubscribeURL); err != nil {
			return nil, fmt.Errorf("smtp: system %q: %w", o.System, err)
		}
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSConfig != nil {
		conf = o.TLSConfig.Clone()
	}
	if conf.ServerName == "" {
		conf.ServerName = o.Host
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Client{
		system: o.System, host: o.Host, port: o.Port, user: o.Username, pass: config.Secret(o.Password),
		from: from, domain: from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		tlsMode: o.TLS, tlsConf: conf, unsub: o.UnsubscribeURL, timeout: o.Timeout, helo: o.HELO,
		now: o.Now, log: o.Log,
	}, nil
}

// opSend names the call in errors and the delivery log.
const opSend = "smtp/send"

// Send implements connector.Sender: one mail to each recipient with an
// email address, over one connection. The error, when some recipient's
// mail was not taken, is the one most worth acting on: a mail whose fate
// is unknown, then one worth sending again, then a refusal; its message
// names every recipient that did not get theirs.
func (c *Client) Send(ctx context.Context, m connector.Message) (connector.SendResult, error) {
	mails, refused, err := c.compose(m)
	if err != nil {
		return connector.SendResult{}, err
	}
	results := refused
	if len(mails) > 0 {
		results = append(c.deliverAll(ctx, m.Key, mails), results...)
	}
	return c.outcome(results)
}

// result is what happened to one recipient's mail.
type result struct {
	who       string // the person's key, or the address masked, for messages
	messageID string
	err       *connector.CallError // nil: the server took it
}

// deliverAll sends the mails over one connection, in order. After a
// transport failure the connection is gone and the rest are not tried.
func (c *Client) deliverAll(ctx context.Context, key string, mails []*outgoing) []result {
	out := make([]result, 0, len(mails))
	sc, conn, err := c.dial(ctx)
	if err != nil {
		ce := c.classify(phaseConnect, err, ctx)
		for _, om := range mails {
			out = append(out, result{who: om.who, messageID: om.messageID, err: ce})
		}
		return out
	}
	// Cancelling the context closes the connection, which ends whatever
	// step is waiting on the server (the SMTP client holds its lock while
	// it waits, so only the socket itself can be closed under it).
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	broken := false
	for _, om := range mails {
		if broken {
			out = append(out, result{who: om.who, messageID: om.messageID, err: &connector.CallError{
				Class: connector.Retry, System: c.system, Op: opSend,
				Message: "not sent: the connection failed on an earlier recipient",
				Hint:    "与邮件服务器的连接在发给前一位收件人时中断，这封没有发出；系统会自动重试"}})
			continue
		}
		ph, err := c.deliver(sc, om)
		if err == nil {
			c.log.Debug("smtp: mail taken", "system", c.system, "key", key, "to", om.who, "message_id", om.messageID)
			out = append(out, result{who: om.who, messageID: om.messageID})
			continue
		}
		ce := c.classify(ph, err, ctx)
		out = append(out, result{who: om.who, messageID: om.messageID, err: ce})
		if _, isReply := replyOf(err); !isReply {
			broken = true
			continue
		}
		// The server refused this one and is still talking: end the
		// transaction and go on with the next recipient.
		if err := sc.Reset(); err != nil {
			broken = true
		}
	}
	if !broken {
		if err := sc.Quit(); err != nil {
			// Every mail already has the server's answer.
			c.log.Debug("smtp: QUIT failed", "system", c.system, "err", err)
		}
	}
	_ = sc.Close()
	return out
}

// dial connects, greets, upgrades to TLS and logs in, as configured. It
// returns the socket beside the SMTP client, for closing it from outside.
func (c *Client) dial(ctx context.Context) (*gosmtp.Client, net.Conn, error) {
	// The connection is dialled here so that it can be closed when a later
	// step (TLS, login) fails: go-mail leaves it open then.
	var conn net.Conn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var err error
		if c.tlsMode == TLSImplicit {
			conn, err = (&tls.Dialer{NetDialer: d, Config: c.tlsConf}).DialContext(ctx, network, addr)
		} else {
			conn, err = d.DialContext(ctx, network, addr)
		}
		return conn, err
	}
	opts := []gomail.Option{
		gomail.WithPort(c.port),
		gomail.WithTimeout(c.timeout),
		gomail.WithTLSConfig(c.tlsConf),
		gomail.WithDialContextFunc(dial),
	}
	switch c.tlsMode {
	case TLSImplicit:
		// The dialler has done the handshake; this keeps go-mail from
		// looking for STARTTLS.
		opts = append(opts, gomail.WithSSL())
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if c.helo != "" {
		opts = append(opts, gomail.WithHELO(c.helo))
	}
	if c.user != "" {
		opts = append(opts, gomail.WithUsername(c.user), gomail.WithPassword(c.pass.Reveal()), gomail.WithOpportunisticSMTPAuth(c.authMechs()...))
	}
	// A new go-mail client per call: it keeps per-connection state (the
	// chosen login mechanism) that calls must not share.
	mc, err := gomail.NewClient(c.host, opts...)
	if err != nil {
		return nil, nil, err
	}
	sc, err := mc.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if conn != nil {
			_ = conn.Close()
		}
		return nil, nil, err
	}
	return sc, conn, nil
}

// authMechs are the login mechanisms to use, the first the server offers.
// Without TLS (a server on this machine) PLAIN and LOGIN must be allowed
// explicitly; with it they are what every provider offers.
func (c *Client) authMechs() []gomail.SMTPAuthType {
	if c.tlsMode == TLSNone {
		return []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc, gomail.SMTPAuthCramMD5}
	}
	return []gomail.SMTPAuthType{gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin, gomail.SMTPAuthCramMD5}
}

// The steps of sending, for classifying what went wrong where.
type phase int

const (
	phaseConnect phase = iota // connect, greeting, EHLO, STARTTLS, AUTH
	phaseMail                 // MAIL FROM
	phaseRcpt                 // RCPT TO
	phaseData                 // DATA and the mail's content, before the final dot
	phaseEnd                  // the final dot and the server's answer to the whole mail
)

// deliver sends one mail on an open connection. Until the final dot the
// server has taken nothing; after it, only its answer says whether it did.
func (c *Client) deliver(sc *gosmtp.Client, om *outgoing) (phase, error) {
	if err := sc.UpdateDeadline(c.timeout); err != nil {
		return phaseMail, err
	}
	if err := sc.Mail("<" + c.from.Address + ">"); err != nil {
		return phaseMail, err
	}
	if err := sc.Rcpt("<" + om.addr + ">"); err != nil {
		return phaseRcpt, err
	}
	w, err := sc.Data()
	if err != nil {
		return phaseData, err
	}
	if _, err := om.msg.WriteTo(w); err != nil {
		return phaseData, err
	}
	if err := sc.UpdateDeadline(c.timeout); err != nil {
		return phaseData, err
	}
	if err := w.Close(); err != nil {
		return phaseEnd, err
	}
	return phaseEnd, nil
}

// outcome folds the recipients' results into the sender's answer.
func (c *Client) outcome(rs []result) (connector.SendResult, error) {
	var ids, failed []string
	var worst *connector.CallError
	for _, r := range rs {
		if r.err == nil {
			ids = append(ids, r.messageID)
			continue
		}
		failed = append(failed, r.who+": "+describe(r.err))
		if worst == nil || rank(r.err.Class) > rank(worst.Class) {
			worst = r.err
		}
	}
	if worst == nil {
		return connector.SendResult{MessageID: strings.Join(ids, " "), Code: "250"}, nil
	}
	ce := *worst
	if len(ids) == 0 && sameError(rs) {
		// One failure for all (the server could not be reached): naming
		// each recipient would only repeat it.
		return connector.SendResult{}, &ce
	}
	if len(rs) > 1 {
		ce.Message = strings.Join(failed, "; ")
		ce.Hint = fmt.Sprintf("%d 位收件人中 %d 位已收到；", len(rs), len(ids)) + ce.Hint
	}
	return connector.SendResult{MessageID: strings.Join(ids, " ")}, &ce
}

func sameError(rs []result) bool {
	for _, r := range rs[1:] {
		if r.err != rs[0].err {
			return false
		}
	}
	return true
}

// rank orders classes by what a failed send should report: an unknown
// fate must be checked, a retry may still succeed, a refusal is final.
func rank(c connector.Class) int {
	switch c {
	case connector.Unknown:
		return 3
	case connector.Retry, connector.SlowDown:
		return 2
	}
	return 1
}

func describe(ce *connector.CallError) string {
	var parts []string
	if ce.Code != "" {
		parts = append(parts, ce.Code)
	}
	if ce.Message != "" {
		parts = append(parts, ce.Message)
	}
	if len(parts) == 0 && ce.Err != nil {
		parts = append(parts, ce.Err.Error())
	}
	return strings.Join(parts, " ")
}

// maskEmail keeps an address recognisable in logs and messages without
// spelling it out: z***@example.com.
func maskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "***"
	}
	local := []rune(addr[:at])
	return string(local[0]) + "***" + addr[at:]
}

// codeText is an SMTP reply's code as the delivery log shows it: "550" or,
// when the server gave an enhanced status code, "550 5.1.1".
func codeText(code int, msg string) string {
	s := strconv.Itoa(code)
	if esc := enhancedCode(msg); esc != "" {
		s += " " + esc
	}
	return s
}

// enhancedCode is the RFC 3463 status code a reply starts with, if any.
func enhancedCode(msg string) string {
	f, _, _ := strings.Cut(msg, " ")
	parts := strings.Split(f, ".")
	if len(parts) != 3 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") {
		return ""
	}
	for _, p := range parts[1:] {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 999 || len(p) > 3 {
			return ""
		}
	}
	return f
}

var errNoRecipient = errors.New("no recipient with an email address")
