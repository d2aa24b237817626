package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"time"
)

// linkSecretKey is the connector_tokens row that holds the key signing the
// links mails carry (unsubscribe, tracking). It never expires.
const linkSecretKey = "orderhub/link-secret"

// LinkSecret returns the key the hub signs its public links with, creating
// it on first use. Every node sharing the store reads the same key, so a
// link one node wrote is taken by any other; whichever node creates it
// first wins and the others read its key.
func (s *Store) LinkSecret(ctx context.Context) ([]byte, error) {
	read := func() ([]byte, error) {
		var v string
		err := s.write.QueryRowContext(ctx, s.rebind(`SELECT value FROM connector_tokens WHERE key = ?`), linkSecretKey).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("store: reading the link secret: %w", err)
		}
		k, err := base64.RawStdEncoding.DecodeString(v)
		if err != nil || len(k) < 32 {
			return nil, fmt.Errorf("store: the link secret in connector_tokens is damaged")
		}
		return k, nil
	}
	if k, err := read(); err != nil || k != nil {
		return k, err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("store: making the link secret: %w", err)
	}
	if _, err := s.write.ExecContext(ctx, s.rebind(`INSERT INTO connector_tokens (key, value, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO NOTHING`), linkSecretKey, base64.RawStdEncoding.EncodeToString(k), int64(math.MaxInt64)); err != nil {
		return nil, fmt.Errorf("store: keeping the link secret: %w", err)
	}
	k, err := read()
	if err == nil && k == nil {
		err = fmt.Errorf("store: the link secret was not kept")
	}
	return k, err
}

// MarkOpened records that delivery id's mail was opened at at (its first
// opening is kept). It reports whether the delivery exists.
func (s *Store) MarkOpened(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, s.rebind(`UPDATE deliveries SET opened_at = CASE WHEN opened_at = 0 THEN ? ELSE opened_at END
		WHERE id = ?`), at.UnixMicro(), id)
	if err != nil {
		return false, fmt.Errorf("store: recording delivery %d opened: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// MarkClicked records that a link in delivery id's mail was followed at
// at; a click also counts as an opening (a client that blocks images still
// follows links).
func (s *Store) MarkClicked(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, s.rebind(`UPDATE deliveries SET
		clicked_at = CASE WHEN clicked_at = 0 THEN ? ELSE clicked_at END,
		opened_at = CASE WHEN opened_at = 0 THEN ? ELSE opened_at END WHERE id = ?`), at.UnixMicro(), at.UnixMicro(), id)
	if err != nil {
		return false, fmt.Errorf("store: recording delivery %d clicked: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
