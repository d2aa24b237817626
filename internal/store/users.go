package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// User is one person who signs in to the console.
type User struct {
	ID   int64
	Name string
	// Role is admin, operator or viewer; the store keeps it as given and
	// internal/auth says what each may do.
	Role string
	// PasswordHash is the encoded hash, algorithm and parameters included.
	PasswordHash string
	// Disabled users keep their row but cannot sign in.
	Disabled bool
	// Lang is the console language the user chose: zh-CN (the default)
	// or en.
	Lang      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ErrUserExists is returned by CreateUser when the name is taken.
var ErrUserExists = errors.New("store: a user of that name exists")

const userCols = `u.id, u.name, u.role, u.password_hash, u.disabled, u.lang, u.created_at, u.updated_at`

func scanUser(sc interface{ Scan(...any) error }, extra ...any) (User, error) {
	var u User
	var disabled, created, updated int64
	dest := append([]any{&u.ID, &u.Name, &u.Role, &u.PasswordHash, &disabled, &u.Lang, &created, &updated}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return User{}, err
	}
	u.Disabled = disabled != 0
	u.CreatedAt, u.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return u, nil
}

// CreateUser adds a user; a name already taken gives ErrUserExists.
func (s *Store) CreateUser(ctx context.Context, name, role, passwordHash string, now time.Time) (User, error) {
	var id int64
	err := s.write.QueryRowContext(ctx, s.rebind(`INSERT INTO users (name, role, password_hash, disabled, created_at, updated_at)
		VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id`),
		name, role, passwordHash, now.UnixMicro(), now.UnixMicro()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %q: %w", name, ErrUserExists)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: adding user %q: %w", name, err)
	}
	at := time.UnixMicro(now.UnixMicro()).UTC()
	return User{ID: id, Name: name, Role: role, PasswordHash: passwordHash, Lang: "zh-CN", CreatedAt: at, UpdatedAt: at}, nil
}

// GetUser finds a user by name; ErrNotFound when there is none.
func (s *Store) GetUser(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, s.rebind(`SELECT `+userCols+` FROM users u WHERE u.name = ?`), name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: reading user %q: %w", name, err)
	}
	return u, nil
}

// ListUsers lists every user by name, compared bytewise so that both
// databases give the same order whatever their locale.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	order := `u.name`
	if s.dialect == Postgres {
		order = `u.name COLLATE "C"`
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+userCols+` FROM users u ORDER BY `+order)
	if err != nil {
		return nil, fmt.Errorf("store: listing users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: listing users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: listing users: %w", err)
	}
	return out, nil
}

// changeUser runs update on the user called name and ends all of the
// user's sessions in the same transaction, so that no session outlives the
// change (a new password, a removal, disabling). It reports how many
// sessions it ended; ErrNotFound when there is no such user.
func (s *Store) changeUser(ctx context.Context, what, name, update string, args ...any) (int64, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: %s %q: %w", what, name, err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, s.rebind(`SELECT id FROM users WHERE name = ?`), name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: %s %q: %w", what, name, err)
	}
	res, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM sessions WHERE user_id = ?`), id)
	if err != nil {
		return 0, fmt.Errorf("store: %s %q: ending sessions: %w", what, name, err)
	}
	ended, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: %s %q: %w", what, name, err)
	}
	if _, err := tx.ExecContext(ctx, s.rebind(update), append(args, id)...); err != nil {
		return 0, fmt.Errorf("store: %s %q: %w", what, name, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: %s %q: %w", what, name, err)
	}
	return ended, nil
}

// SetPassword gives a user a new password hash and ends every session the
// user has, reporting how many.
func (s *Store) SetPassword(ctx context.Context, name, passwordHash string, now time.Time) (int64, error) {
	return s.changeUser(ctx, "setting the password of", name,
		`UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, passwordHash, now.UnixMicro())
}

// SetDisabled disables or enables a user. Disabling ends the user's
// sessions; the count of those ended is returned.
func (s *Store) SetDisabled(ctx context.Context, name string, disabled bool, now time.Time) (int64, error) {
	d := 0
	if disabled {
		d = 1
	}
	return s.changeUser(ctx, "disabling", name, `UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?`, d, now.UnixMicro())
}

// SetUserLang records the console language a user chose. The sessions
// stay: they read the user, and so the language, on every request.
func (s *Store) SetUserLang(ctx context.Context, name, lang string, now time.Time) error {
	res, err := s.write.ExecContext(ctx, s.rebind(`UPDATE users SET lang = ?, updated_at = ? WHERE name = ?`), lang, now.UnixMicro(), name)
	if err != nil {
		return fmt.Errorf("store: setting the language of %q: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: setting the language of %q: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	return nil
}

// RemoveUser deletes a user and ends the user's sessions, reporting how
// many.
func (s *Store) RemoveUser(ctx context.Context, name string) (int64, error) {
	return s.changeUser(ctx, "removing", name, `DELETE FROM users WHERE id = ?`)
}

// RehashPassword replaces a user's password hash by an equivalent one made
// with newer parameters, after a sign-in proved the password. The sessions
// stay: the password is the same. It changes nothing, and reports false,
// when the hash is no longer oldHash (the password changed meanwhile).
func (s *Store) RehashPassword(ctx context.Context, userID int64, oldHash, newHash string, now time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, s.rebind(`UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?`),
		newHash, now.UnixMicro(), userID, oldHash)
	if err != nil {
		return false, fmt.Errorf("store: rehashing the password of user %d: %w", userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: rehashing the password of user %d: %w", userID, err)
	}
	return n == 1, nil
}

// Session is a signed-in session with its user as the user is now.
type Session struct {
	IDHash    string
	User      User
	CreatedAt time.Time
	SeenAt    time.Time
	ExpiresAt time.Time
}

// CreateSession starts a session for a user whose password hash was just
// checked against passwordHash. It is refused with ErrNotFound when the
// user is gone, disabled, or has had the password changed since that
// check, so that a sign-in racing a password change or a removal cannot
// leave a session behind.
func (s *Store) CreateSession(ctx context.Context, idHash string, userID int64, passwordHash string, now, expires time.Time) error {
	res, err := s.write.ExecContext(ctx, s.rebind(`INSERT INTO sessions (id_hash, user_id, created_at, seen_at, expires_at)
		SELECT ?, id, ?, ?, ? FROM users WHERE id = ? AND disabled = 0 AND password_hash = ?`),
		idHash, now.UnixMicro(), now.UnixMicro(), expires.UnixMicro(), userID, passwordHash)
	if err != nil {
		return fmt.Errorf("store: starting a session for user %d: %w", userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: starting a session for user %d: %w", userID, err)
	}
	if n == 0 {
		return fmt.Errorf("user %d changed while signing in: %w", userID, ErrNotFound)
	}
	return nil
}

// GetSession finds a session by the hash of its id, with its user;
// ErrNotFound when there is none. Whether it is still valid (expiry, idle
// time, a disabled user) is the caller's to decide.
func (s *Store) GetSession(ctx context.Context, idHash string) (Session, error) {
	var sess Session
	var created, seen, expires int64
	u, err := scanUser(s.read.QueryRowContext(ctx, s.rebind(`SELECT `+userCols+`, s.created_at, s.seen_at, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`), idHash), &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: reading a session: %w", err)
	}
	sess.IDHash, sess.User = idHash, u
	sess.CreatedAt, sess.SeenAt, sess.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(seen).UTC(), time.UnixMicro(expires).UTC()
	return sess, nil
}

// TouchSession records that a session was used at seen; a time earlier
// than the one recorded is ignored.
func (s *Store) TouchSession(ctx context.Context, idHash string, seen time.Time) error {
	if _, err := s.write.ExecContext(ctx, s.rebind(`UPDATE sessions SET seen_at = ? WHERE id_hash = ? AND seen_at < ?`),
		seen.UnixMicro(), idHash, seen.UnixMicro()); err != nil {
		return fmt.Errorf("store: recording a session's use: %w", err)
	}
	return nil
}

// EndSession deletes a session; it reports whether there was one.
func (s *Store) EndSession(ctx context.Context, idHash string) (bool, error) {
	res, err := s.write.ExecContext(ctx, s.rebind(`DELETE FROM sessions WHERE id_hash = ?`), idHash)
	if err != nil {
		return false, fmt.Errorf("store: ending a session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: ending a session: %w", err)
	}
	return n > 0, nil
}

// EndStaleSessions deletes the sessions that expired by now or were last
// used before idleSince, and reports how many.
func (s *Store) EndStaleSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, s.rebind(`DELETE FROM sessions WHERE expires_at <= ? OR seen_at < ?`), now.UnixMicro(), idleSince.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("store: ending stale sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: ending stale sessions: %w", err)
	}
	return n, nil
}

// CountSessions counts the sessions a user has (expired ones included until
// EndStaleSessions removes them).
func (s *Store) CountSessions(ctx context.Context, userID int64) (int64, error) {
	var n int64
	if err := s.read.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM sessions WHERE user_id = ?`), userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: counting sessions of user %d: %w", userID, err)
	}
	return n, nil
}
