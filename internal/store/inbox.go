package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// InboxItem is one message in a person's in-app inbox (站内信).
type InboxItem struct {
	ID        int64     `json:"id"`
	Person    string    `json:"person"`
	Key       string    `json:"key"`
	Rule      string    `json:"rule"`
	OrderID   int64     `json:"-"`
	Title     string    `json:"title"`
	Markdown  string    `json:"markdown"`
	Link      string    `json:"link,omitempty"`
	Priority  string    `json:"priority,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ReadAt    time.Time `json:"read_at,omitzero"`
}

// AddInbox puts messages in people's inboxes, each (person, key) once.
func (s *Store) AddInbox(ctx context.Context, items []InboxItem, now time.Time) error {
	if len(items) == 0 {
		return nil
	}
	var q strings.Builder
	args := make([]any, 0, len(items)*9)
	q.WriteString(`INSERT INTO inbox (person, dedupe_key, rule, order_id, title, markdown, link, priority, created_at) VALUES `)
	for i, it := range items {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		args = append(args, it.Person, it.Key, it.Rule, it.OrderID, it.Title, it.Markdown, it.Link, it.Priority, now.UnixMicro())
	}
	q.WriteString(` ON CONFLICT (person, dedupe_key) DO NOTHING`)
	if _, err := s.write.ExecContext(ctx, s.rebind(q.String()), args...); err != nil {
		return fmt.Errorf("store: adding %d inbox messages: %w", len(items), err)
	}
	return nil
}

// Inbox lists a person's messages, newest first, unread only when asked,
// with how many are unread.
func (s *Store) Inbox(ctx context.Context, person string, unreadOnly bool, before int64, limit int) ([]InboxItem, int, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := `SELECT id, person, dedupe_key, rule, order_id, title, markdown, link, priority, created_at, read_at FROM inbox WHERE person = ?`
	args := []any{person}
	if unreadOnly {
		q += ` AND read_at = 0`
	}
	if before > 0 {
		q += ` AND id < ?`
		args = append(args, before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	rows, err := s.read.QueryContext(ctx, s.rebind(q), append(args, limit)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: reading the inbox of %s: %w", person, err)
	}
	defer rows.Close()
	var out []InboxItem
	for rows.Next() {
		var it InboxItem
		var created, read int64
		if err := rows.Scan(&it.ID, &it.Person, &it.Key, &it.Rule, &it.OrderID, &it.Title, &it.Markdown, &it.Link, &it.Priority, &created, &read); err != nil {
			return nil, 0, fmt.Errorf("store: reading the inbox of %s: %w", person, err)
		}
		it.CreatedAt, it.ReadAt = micros(created), microsOrZero(read)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var unread int
	if err := s.read.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM inbox WHERE person = ? AND read_at = 0`), person).Scan(&unread); err != nil {
		return nil, 0, fmt.Errorf("store: counting the unread messages of %s: %w", person, err)
	}
	return out, unread, nil
}

// MarkRead marks one inbox message read (id > 0) or all of a person's
// (id 0); it returns how many it marked.
func (s *Store) MarkRead(ctx context.Context, person string, id int64, now time.Time) (int, error) {
	q, args := `UPDATE inbox SET read_at = ? WHERE person = ? AND read_at = 0`, []any{now.UnixMicro(), person}
	if id > 0 {
		q += ` AND id = ?`
		args = append(args, id)
	}
	res, err := s.write.ExecContext(ctx, s.rebind(q), args...)
	if err != nil {
		return 0, fmt.Errorf("store: marking the inbox of %s read: %w", person, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// InboxOwner is whose inbox message id is ("" when there is none).
func (s *Store) InboxOwner(ctx context.Context, id int64) (string, error) {
	var p string
	err := s.read.QueryRowContext(ctx, s.rebind(`SELECT person FROM inbox WHERE id = ?`), id).Scan(&p)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: reading inbox message %d: %w", id, err)
	}
	return p, nil
}

// Prefs is what a person chose about the messages they get.
type Prefs struct {
	Person        string    `json:"person"`
	MutedEvents   []string  `json:"muted_events"`
	MutedChannels []string  `json:"muted_channels"`
	Only          string    `json:"only,omitempty"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// AllPrefs reads every person's preferences, by person.
func (s *Store) AllPrefs(ctx context.Context, q Querier) (map[string]Prefs, error) {
	rows, err := q.QueryContext(ctx, `SELECT person, muted_events, muted_channels, only_channel, updated_at FROM person_prefs`)
	if err != nil {
		return nil, fmt.Errorf("store: reading preferences: %w", err)
	}
	defer rows.Close()
	out := map[string]Prefs{}
	for rows.Next() {
		var p Prefs
		var ev, ch string
		var at int64
		if err := rows.Scan(&p.Person, &ev, &ch, &p.Only, &at); err != nil {
			return nil, fmt.Errorf("store: reading preferences: %w", err)
		}
		p.MutedEvents, p.MutedChannels, p.UpdatedAt = splitList(ev), splitList(ch), micros(at)
		out[p.Person] = p
	}
	return out, rows.Err()
}

// SetPrefs replaces a person's preferences.
func (s *Store) SetPrefs(ctx context.Context, p Prefs, now time.Time) error {
	_, err := s.write.ExecContext(ctx, s.rebind(`INSERT INTO person_prefs (person, muted_events, muted_channels, only_channel, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (person) DO UPDATE SET muted_events = excluded.muted_events,
		muted_channels = excluded.muted_channels, only_channel = excluded.only_channel, updated_at = excluded.updated_at`),
		p.Person, strings.Join(p.MutedEvents, ","), strings.Join(p.MutedChannels, ","), p.Only, now.UnixMicro())
	if err != nil {
		return fmt.Errorf("store: recording the preferences of %s: %w", p.Person, err)
	}
	return nil
}

// UpdatePrefs changes a person's preferences by fn in one transaction that
// holds their row, so that two changes at once (an unsubscribe link beside
// another) both hold; fn reports whether it changed anything. A person
// without preferences starts from none muted.
func (s *Store) UpdatePrefs(ctx context.Context, person string, now time.Time, fn func(p *Prefs) bool) (Prefs, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return Prefs{}, fmt.Errorf("store: changing the preferences of %s: %w", person, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO person_prefs (person, muted_events, muted_channels, only_channel, updated_at)
		VALUES (?, '', '', '', ?) ON CONFLICT (person) DO NOTHING`), person, now.UnixMicro()); err != nil {
		return Prefs{}, fmt.Errorf("store: changing the preferences of %s: %w", person, err)
	}
	q := `SELECT muted_events, muted_channels, only_channel, updated_at FROM person_prefs WHERE person = ?`
	if s.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	p := Prefs{Person: person}
	var ev, ch string
	var at int64
	if err := tx.QueryRowContext(ctx, s.rebind(q), person).Scan(&ev, &ch, &p.Only, &at); err != nil {
		return Prefs{}, fmt.Errorf("store: changing the preferences of %s: %w", person, err)
	}
	p.MutedEvents, p.MutedChannels, p.UpdatedAt = splitList(ev), splitList(ch), micros(at)
	if !fn(&p) {
		return p, tx.Commit()
	}
	p.UpdatedAt = micros(now.UnixMicro())
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE person_prefs SET muted_events = ?, muted_channels = ?, only_channel = ?, updated_at = ? WHERE person = ?`),
		strings.Join(p.MutedEvents, ","), strings.Join(p.MutedChannels, ","), p.Only, now.UnixMicro(), person); err != nil {
		return Prefs{}, fmt.Errorf("store: changing the preferences of %s: %w", person, err)
	}
	if err := tx.Commit(); err != nil {
		return Prefs{}, fmt.Errorf("store: changing the preferences of %s: %w", person, err)
	}
	return p, nil
}
