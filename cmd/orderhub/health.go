package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// healthCmd asks a running orderhub's /healthz. Container images carry no
// curl, so the Dockerfile's HEALTHCHECK runs this; so can scripts.
func healthCmd() *cobra.Command {
	var url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Ask a running orderhub's /healthz; exit 0 when healthy, 1 when not",
		Long: `health asks GET /healthz of a running orderhub and exits 0 when it answers 200
{"status":"ok"} within the timeout, 1 otherwise (not listening, still starting,
stopping, its store unreachable), saying why. Docker's HEALTHCHECK uses it: the
image has no curl.`,
		Example: `  orderhub health
  orderhub health --url http://127.0.0.1:9090/healthz --timeout 1s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			body, err := checkHealth(ctx, url)
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "orderhub health: %s: %v\n", url, err)
				return exitError{1}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", url, body)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "http://127.0.0.1:8080/healthz", "the /healthz address of the orderhub to ask")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	return cmd
}

// checkHealth returns /healthz's answer when it is 200 {"status":"ok"}, and
// otherwise an error that says what came back.
func checkHealth(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("not a URL to ask: %w", err)
	}
	c := &http.Client{
		// A redirect is not an answer from orderhub's /healthz.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{DisableKeepAlives: true},
	}
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("no answer in time: %w", err)
		}
		return nil, fmt.Errorf("not reachable: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	body = bytes.TrimSpace(body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("unhealthy: %s %s", resp.Status, body)
	}
	var h struct{ Status string }
	if err := json.Unmarshal(body, &h); err != nil || h.Status != "ok" {
		return nil, fmt.Errorf(`answered 200 but not {"status":"ok"}: %q`, body)
	}
	return body, nil
}
