package smtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"syscall"

	gomail "github.com/wneessen/go-mail"

	"orderhub/internal/connector"
)

// replyOf finds the server's reply in an error: a refusal the server
// answered, as opposed to a broken connection.
func replyOf(err error) (*textproto.Error, bool) {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te, true
	}
	return nil, false
}

// classify maps a failed step to a class, with a Chinese hint of what to
// change. A reply (4xx, 5xx) is classed by its code and the step it
// answered; a failure without one by where it happened: before the mail's
// final dot nothing was taken (Retry), after it only the lost answer knew
// (Unknown).
func (c *Client) classify(ph phase, err error, ctx context.Context) *connector.CallError {
	ce := &connector.CallError{System: c.system, Op: opSend, Err: err}
	if te, ok := replyOf(err); ok {
		ce.Err = nil
		// The enhanced code goes with the code; the message is the text.
		ce.Code = codeText(te.Code, te.Msg)
		ce.Message = strings.TrimSpace(strings.TrimPrefix(te.Msg, enhancedCode(te.Msg)))
		ce.Class, ce.Hint = c.replyClass(ph, te.Code, te.Msg)
		return ce
	}
	if ctx.Err() != nil && ph != phaseEnd {
		ce.Class, ce.Hint = connector.Retry, "调用被取消（服务正在停止）；重启后会继续"
		return ce
	}
	if hint, ok := c.tlsHint(err); ok {
		ce.Class, ce.Code, ce.Hint = connector.Permanent, "TLS", hint
		return ce
	}
	if hint, ok := c.loginHint(err); ok {
		ce.Class, ce.Code, ce.Hint = connector.Permanent, "AUTH", hint
		return ce
	}
	switch ph {
	case phaseEnd:
		ce.Class = connector.Unknown
		ce.Hint = "邮件已全部发出，但没有等到服务器的确认，是否已投递未知；重发时 Message-ID 不变，收件方可据此认出重复的邮件"
	case phaseConnect:
		ce.Class = connector.Retry
		ce.Hint = c.connectHint(err)
	default:
		ce.Class = connector.Retry
		ce.Hint = "与邮件服务器的连接在投递完成前中断，邮件没有发出；系统会自动重试"
	}
	return ce
}

// replyClass classes an SMTP reply. 4xx is the server's "not now": always
// worth sending again. 5xx is final; the hint depends on what it answered.
func (c *Client) replyClass(ph phase, code int, msg string) (connector.Class, string) {
	lower := strings.ToLower(msg)
	if code >= 400 && code < 500 {
		switch code {
		case 421:
			return connector.Retry, "邮件服务器暂时不可用或连接过多（421）；系统会自动重试"
		case 450:
			return connector.Retry, "收件邮箱暂时不可用（450，邮箱忙或灰名单）；系统会自动重试"
		case 451:
			return connector.Retry, "邮件服务器处理出错或暂时限流（451）；系统会自动重试"
		case 452:
			return connector.Retry, "邮件服务器存储不足或收件人过多（452）；系统会自动重试"
		case 454:
			return connector.Retry, "邮件服务器暂时无法登录或加密（454）；系统会自动重试"
		}
		return connector.Retry, fmt.Sprintf("邮件服务器暂时拒绝（%d）；系统会自动重试", code)
	}
	switch {
	case code == 535 || code == 534 || (ph == phaseConnect && code != 530 && strings.Contains(lower, "auth")):
		return connector.Permanent, authHint
	case code == 530 || code == 538:
		if strings.Contains(lower, "starttls") || strings.Contains(lower, "tls") || strings.Contains(lower, "encrypt") {
			return connector.Permanent, "邮件服务器要求先加密连接（" + fmt.Sprint(code) + "）：把 tls 改为 starttls（端口 587）或 implicit（端口 465）"
		}
		if c.user == "" {
			return connector.Permanent, "邮件服务器要求登录（530）：填写 username 与 password"
		}
		return connector.Permanent, authHint
	case code == 554 && ph == phaseConnect:
		return connector.Permanent, "邮件服务器拒绝了本机的连接（554）：本机出口 IP 可能被列入黑名单，或该服务器不接受此网络发信；联系邮箱服务商"
	case code == 554 || strings.Contains(lower, "spam") || strings.Contains(lower, "content denied") || strings.Contains(lower, "垃圾"):
		// QQ mail refuses content with 550 "Mail content denied".
		return connector.Permanent, fmt.Sprintf("邮件被拒收，多半被判为垃圾邮件（%d）：检查模板的标题、内容与链接，避免短时间大量相同内容；163 的 554 DT:SPM 即此，可向邮箱服务商申诉", code)
	case ph == phaseMail:
		return connector.Permanent, fmt.Sprintf("邮件服务器拒绝了发件人 %s（%d）：多数服务器要求 from 的地址与 username 是同一个账号", c.from.Address, code)
	case code == 552:
		return connector.Permanent, "邮件过大或收件人邮箱已满（552）：收件人需清理邮箱，或缩短模板"
	case ph == phaseRcpt && (code == 550 || code == 551 || code == 553 || code == 501):
		return connector.Permanent, fmt.Sprintf("收件邮箱不存在或不可用（%d）：检查该人员的 email 是否写对、邮箱是否已停用", code)
	case ph == phaseConnect:
		return connector.Permanent, fmt.Sprintf("邮件服务器拒绝了连接或登录（%d）：检查 host、port、tls 与账号设置", code)
	}
	return connector.Permanent, fmt.Sprintf("邮件服务器拒绝了这封邮件（%d）：按服务器的说明修改后，可在投递记录中重发", code)
}

const authHint = "邮箱登录失败：检查 username 与 password。QQ 邮箱、163/126 邮箱须填在邮箱设置中开启 SMTP 服务后生成的授权码，而不是登录密码；腾讯企业邮开启了安全登录时，须使用客户端专用密码"

// tlsHint recognises a TLS failure: nothing sent again fixes it, the tls
// setting or the server's certificate must change.
func (c *Client) tlsHint(err error) (string, bool) {
	var (
		rec     tls.RecordHeaderError
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		alert   tls.AlertError
	)
	switch {
	case errors.As(err, &rec):
		if c.tlsMode == TLSImplicit {
			return fmt.Sprintf("服务器在端口 %d 上不是 TLS（tls: implicit 只用于 465 这类端口）：端口 587 或 25 请改用 tls: starttls", c.port), true
		}
		return "与服务器的 TLS 握手失败：检查 port 与 tls 是否匹配（465 用 implicit，587 用 starttls）", true
	case errors.As(err, &host):
		return fmt.Sprintf("服务器证书上的名字不是 %s：host 须写证书上的域名（如 smtp.exmail.qq.com），不要写 IP 或别名", c.host), true
	case errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &invalid):
		return "无法验证邮件服务器的证书（自签名、已过期或不受信任）：检查 host 是否指向正确的服务器；tls 设置为 " + c.tlsMode, true
	case errors.As(err, &alert):
		return "邮件服务器中止了 TLS 握手：检查 port 与 tls 是否匹配（465 用 implicit，587 用 starttls）", true
	case strings.Contains(err.Error(), "does not support STARTTLS"):
		return "服务器没有提供 STARTTLS：端口 465 请用 tls: implicit；确需不加密且服务器就在本机时才用 tls: none", true
	case strings.Contains(err.Error(), "tls: "):
		return "与邮件服务器的 TLS 连接失败（" + err.Error() + "）：检查 port 与 tls 是否匹配（465 用 implicit，587 用 starttls）", true
	}
	return "", false
}

// loginHint recognises a server that offers no way to log in that the
// client may use.
func (c *Client) loginHint(err error) (string, bool) {
	switch {
	case errors.Is(err, gomail.ErrNoSupportedAuthDiscovered), strings.Contains(err.Error(), "does not support SMTP AUTH"):
		if c.tlsMode == TLSNone {
			return "邮件服务器在未加密的连接上不提供登录（AUTH）：改用 tls: starttls 或 implicit，或去掉 username", true
		}
		return "邮件服务器不提供可用的登录方式（AUTH）：确认该服务器需要登录，不需要时去掉 username 与 password", true
	case strings.Contains(err.Error(), "unencrypted connection"):
		return "不能在未加密的连接上发送密码：改用 tls: starttls 或 implicit", true
	}
	return "", false
}

// connectHint says why a connection that never got going failed.
func (c *Client) connectHint(err error) string {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		return fmt.Sprintf("找不到邮件服务器 %s（域名解析失败）：检查 host；系统会自动重试", c.host)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("邮件服务器 %s 端口 %d 拒绝连接：检查 host 与 port；系统会自动重试", c.host, c.port)
	case errors.As(err, &ne) && ne.Timeout():
		h := fmt.Sprintf("连接邮件服务器 %s:%d 超时：检查 host、port 与防火墙（云服务器通常封禁 25 端口）", c.host, c.port)
		if c.tlsMode != TLSImplicit {
			h += "；若该端口是 465 一类的 SMTPS 端口，tls 须为 implicit"
		}
		return h + "；系统会自动重试"
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("连接邮件服务器 %s:%d 超时：检查 host、port 与网络；系统会自动重试", c.host, c.port)
	}
	return fmt.Sprintf("连接不上邮件服务器 %s:%d：检查 host、port 与网络；系统会自动重试", c.host, c.port)
}
