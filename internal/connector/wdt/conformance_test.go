package wdt

import (
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
)

// TestConformance runs the connector suite for both kinds and both APIs
// against a fresh simulator each time.
func TestConformance(t *testing.T) {
	for _, kind := range []string{Kind, KindQimen} {
		for _, api := range APIs {
			t.Run(kind+"/"+api.Name, func(t *testing.T) {
				connectortest.RunPull(t, func(t *testing.T) connectortest.PullSetup {
					return pullSetup(t, kind, api)
				})
			})
		}
	}
}

func pullSetup(t *testing.T, kind string, api connector.PullAPI) connectortest.PullSetup {
	c := &clock{}
	sim := NewSim(simConfig(c))
	from := at("2026-01-05 10:00:00")
	var to time.Time
	var d *Data
	var err error
	pageSize := 100
	if api.Name == APITrades {
		to = from.Add(time.Hour - time.Second)
		d, err = sim.Generate(450, from, to, 7)
	} else {
		to = from.Add(api.MaxSpan - time.Second)
		d, err = sim.Generate(2500, from, to, 7)
		pageSize = 50
	}
	if err != nil {
		t.Fatal(err)
	}
	// Every late document is visible by now.
	c.Set(to.Add(time.Hour))
	want := windowNos(t, d, api.Name, from, to)
	return connectortest.PullSetup{
		Puller: newClient(t, kind, startSim(t, sim), c, nil), API: api, Faults: sim.Faults(),
		From: from, To: to, PageSize: pageSize, Want: want,
		BadCredentials: newClient(t, kind, startSim(t, sim), c, func(s any) {
			switch s := s.(type) {
			case *Settings:
				s.AppSecret = "wrong-secret"
			case *QimenSettings:
				s.AppSecret = "wrong-secret"
			}
		}),
	}
}
