package app

import (
	"errors"
	"fmt"
	"log/slog"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/notify"
)

// Notifications compiles cfg's rules and builds a sender for every system
// that can send, with its provider's limits and the system's rate: over
// them; inbox is the sender of systems of kind inbox, tokens the cache of
// the access tokens senders fetch.
func Notifications(cfg *config.Config, log *slog.Logger, inbox connector.Sender, tokens connector.TokenCache) (*notify.Setup, error) {
	rules, errs := notify.Compile(cfg)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	su := &notify.Setup{Rules: rules, Endpoints: map[string]*notify.Endpoint{}}
	for name, sys := range cfg.Systems {
		kind, ok := connector.Lookup(sys.Kind)
		if !ok || kind.Send == nil {
			continue
		}
		var sender connector.Sender
		if sys.Kind == notify.InboxKind {
			// The inbox lives in the hub's own store.
			sender = inbox
		} else {
			env := ConnectorEnv(cfg, sys, log)
			env.Tokens = tokens
			s, err := connector.NewSender(env)
			if err != nil {
				return nil, err
			}
			sender = s
		}
		limits := kind.Send.Limits
		if sys.Rate.PerMinute > 0 {
			limits.PerMinute = sys.Rate.PerMinute
		}
		if sys.Rate.PerSecond > 0 {
			limits.PerSecond = sys.Rate.PerSecond
		}
		su.Endpoints[name] = &notify.Endpoint{System: name, Kind: sys.Kind, Sender: sender, Limits: limits,
			Provider: kind.Send.Provider, CodeName: kind.Send.CodeName}
	}
	for _, name := range rules.Names() {
		r, _ := rules.Rule(name)
		for _, ch := range r.Channels {
			if _, ok := su.Endpoints[ch]; ok {
				continue
			}
			// A step of a system (ding:phone): its variant sender, paced as
			// an endpoint of its own.
			sysName, variant, problem, _ := config.ResolveChannel(cfg, ch)
			base, ok := su.Endpoints[sysName]
			if problem != "" || !ok {
				return nil, fmt.Errorf("rule %q: channel %q cannot send messages", name, ch)
			}
			kind, _ := connector.Lookup(base.Kind)
			s, err := kind.Send.Variants.New(base.Sender, variant)
			if err != nil {
				return nil, fmt.Errorf("rule %q: %w", name, err)
			}
			ep := *base
			ep.System, ep.Sender = ch, s
			su.Endpoints[ch] = &ep
		}
	}
	return su, nil
}
