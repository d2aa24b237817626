package console

import (
	"net/http"

	"orderhub/internal/config"
)

// testToken is the caller of the tests that are not about who may call:
// a fixture given no tokens gets this admin token, and its server sends it
// on every request that carries no Authorization of its own.
var testToken = config.APIToken{Name: "test", Token: "test-admin-token-0123456789"}

func orTestToken(tokens []config.APIToken) []config.APIToken {
	if tokens == nil {
		return []config.APIToken{testToken}
	}
	return tokens
}

func withTestToken(h http.Handler, tokens []config.APIToken) http.Handler {
	if tokens != nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+testToken.Token.Reveal())
		}
		h.ServeHTTP(w, r)
	})
}
