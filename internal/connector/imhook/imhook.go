// Package imhook checks the webhook addresses of IM group robots (DingTalk,
// WeCom, Feishu): each is an https URL that carries the robot's credential,
// and plain http is taken only to a simulator on this machine.
package imhook

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Parse checks the parts every robot's webhook shares and returns the URL
// parsed: not empty, an absolute URL with a host, https, or http to a
// loopback host. provider names the service in the http error. No error
// quotes the URL, which holds the robot's credential; the provider's own
// path and query rules are the caller's to check.
func Parse(raw, provider string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("webhook is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("webhook is not a URL") // url's error quotes the URL, credential and all
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("webhook uses http; %s takes only https (http is allowed for 127.0.0.1 simulators)", provider)
	default:
		return nil, fmt.Errorf("webhook has scheme %q, want https", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("webhook has no host")
	}
	return u, nil
}

// IsLoopback reports whether host is this machine: localhost or a loopback
// address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
