package dingtalkapp

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"orderhub/internal/connector"
)

func readStatus(t *testing.T, c *Client, id string) connector.ReadStatus {
	t.Helper()
	st, err := c.ReadStatus(context.Background(), id)
	if err != nil {
		t.Fatalf("read status of %s: %v", id, err)
	}
	return st
}

// Read status through ReadStatus as it changes: a person marks the message
// read, then the rest read it on the simulator's clock; once everyone has,
// DingTalk will tell no more.
func TestReadStatusChangesOverTime(t *testing.T) {
	r := newRig(t, SimConfig{ReadAfter: 30 * time.Minute})
	c := r.client(t, goodSettings(), nil)
	res := send(t, c, msgTo("read", "u1", "u2", "u3"))
	steps := []struct {
		name         string
		do           func()
		read, unread []string
		final        bool
	}{
		{"just sent", nil, nil, []string{"u1", "u2", "u3"}, false},
		{"u2 reads it", func() {
			if err := r.sim.MarkRead(res.MessageID, "u2"); err != nil {
				t.Fatal(err)
			}
		}, []string{"u2"}, []string{"u1", "u3"}, false},
		{"29 minutes later", func() { r.clock.Add(29 * time.Minute) }, []string{"u2"}, []string{"u1", "u3"}, false},
		{"30 minutes later everyone has", func() { r.clock.Add(time.Minute) }, []string{"u1", "u2", "u3"}, nil, true},
	}
	for _, s := range steps {
		if s.do != nil {
			s.do()
		}
		st := readStatus(t, c, res.MessageID)
		if !slices.Equal(st.Read, s.read) || !slices.Equal(st.Unread, s.unread) || st.Final != s.final {
			t.Fatalf("%s: %+v; want read %v, unread %v, final %v", s.name, st, s.read, s.unread, s.final)
		}
	}
}

// A message sent in several calls is read as one: ReadStatus asks every
// task and merges; past DingTalk's 24 hours it is final.
func TestReadStatusAcrossTasks(t *testing.T) {
	r := newRig(t, SimConfig{QPS: -1})
	users := r.addUsers(150)
	c := r.client(t, goodSettings(), nil)
	m := msgTo("many")
	m.To = people(users...)
	res := send(t, c, m)
	ids := strings.Split(res.MessageID, ",")
	if len(ids) != 2 {
		t.Fatalf("MessageID %q: want two tasks", res.MessageID)
	}
	if err := r.sim.MarkRead(ids[0], users[0]); err != nil {
		t.Fatal(err)
	}
	if err := r.sim.MarkRead(ids[1], users[149]); err != nil {
		t.Fatal(err)
	}
	st := readStatus(t, c, res.MessageID)
	if !slices.Equal(st.Read, []string{users[0], users[149]}) || len(st.Unread) != 148 || st.Final {
		t.Fatalf("read %v, %d unread, final %v", st.Read, len(st.Unread), st.Final)
	}
	r.clock.Add(25 * time.Hour)
	if st := readStatus(t, c, res.MessageID); !st.Final || len(st.Read)+len(st.Unread) != 0 {
		t.Fatalf("after 25 h: %+v; want final and nothing more", st)
	}
}

// Result tells who never got the message and why: userids not in the
// organisation, departments that do not exist, the daily cap.
func TestResultExplainsTheSilentDrops(t *testing.T) {
	r := newRig(t, SimConfig{PerUserDaily: 2})
	c := r.client(t, goodSettings(), nil)
	send(t, c, msgTo("one", "u1"))
	send(t, c, msgTo("two", "u1"))
	m := msgTo("three", "u1", "u2", "nobody")
	m.To = append(m.To, connector.Recipient{DingDept: "404"})
	res := send(t, c, m)
	got, err := c.Result(context.Background(), res.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Unread, []string{"u2"}) || !slices.Equal(got.Invalid, []string{"nobody"}) || !slices.Equal(got.InvalidDepts, []string{"404"}) {
		t.Fatalf("%+v", got)
	}
	if len(got.Forbidden) != 1 || got.Forbidden[0].UserID != "u1" || got.Forbidden[0].Code != ForbiddenDaily || !strings.Contains(got.Forbidden[0].Hint, "每日上限") {
		t.Fatalf("forbidden %+v: want u1 held back by the daily cap", got.Forbidden)
	}
	// Held back, unknown: none of them will read it.
	st := readStatus(t, c, res.MessageID)
	if !slices.Equal(st.Unread, []string{"nobody", "u1", "u2"}) {
		t.Fatalf("unread %v", st.Unread)
	}
}

func TestReadStatusOfNoTask(t *testing.T) {
	r := newRig(t, SimConfig{})
	c := r.client(t, goodSettings(), nil)
	for _, id := range []string{"", " , ", "abc"} {
		if _, err := c.ReadStatus(context.Background(), id); connector.ClassOf(err) != connector.Permanent {
			t.Errorf("%q: %v, want permanent", id, err)
		}
	}
}
