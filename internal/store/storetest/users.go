package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"orderhub/internal/store"
)

// u0 is when the user tests' first user is added (a whole microsecond, as
// stored).
var u0 = time.Date(2026, 4, 1, 1, 0, 0, 123000, time.UTC)

func addUser(t testing.TB, s *store.Store, name, role, hash string, at time.Time) store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), name, role, hash, at)
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", name, err)
	}
	return u
}

func getUser(t testing.TB, s *store.Store, name string) store.User {
	t.Helper()
	u, err := s.GetUser(context.Background(), name)
	if err != nil {
		t.Fatalf("GetUser(%s): %v", name, err)
	}
	return u
}

func names(us []store.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Name
	}
	return out
}

// testUsers: users are added once per name, read back as written, listed
// by name, and changed or removed by name.
func testUsers(t *testing.T, s *store.Store) {
	ctx := context.Background()
	admin := addUser(t, s, "admin", "admin", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", u0)
	if admin.ID <= 0 || admin.Name != "admin" || admin.Role != "admin" || admin.Disabled || admin.Lang != "zh-CN" || !admin.CreatedAt.Equal(u0) || !admin.UpdatedAt.Equal(u0) {
		t.Fatalf("CreateUser returned %+v", admin)
	}
	if got := getUser(t, s, "admin"); !reflect.DeepEqual(got, admin) {
		t.Fatalf("GetUser(admin) = %+v, want %+v", got, admin)
	}
	// A second user with the same name is refused and changes nothing.
	if _, err := s.CreateUser(ctx, "admin", "viewer", "other", u0.Add(time.Hour)); !errors.Is(err, store.ErrUserExists) {
		t.Fatalf("CreateUser(admin) again: %v, want ErrUserExists", err)
	}
	if got := getUser(t, s, "admin"); !reflect.DeepEqual(got, admin) {
		t.Fatalf("after a refused duplicate, GetUser(admin) = %+v, want %+v", got, admin)
	}
	// Names are compared exactly and may be Chinese.
	li := addUser(t, s, "李娜", "operator", "h-li", u0.Add(time.Minute))
	addUser(t, s, "Admin", "viewer", "h-Admin", u0.Add(2*time.Minute))
	if li.ID == admin.ID {
		t.Fatalf("two users share id %d", li.ID)
	}
	if _, err := s.GetUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser(nobody): %v, want ErrNotFound", err)
	}
	list, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// By name, bytewise on both databases whatever their locale.
	if got, want := names(list), []string{"Admin", "admin", "李娜"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ListUsers names = %v, want %v", got, want)
	}

	later := u0.Add(24 * time.Hour)
	if _, err := s.SetPassword(ctx, "李娜", "h-li-2", later); err != nil {
		t.Fatal(err)
	}
	got := getUser(t, s, "李娜")
	if got.PasswordHash != "h-li-2" || !got.UpdatedAt.Equal(later) || !got.CreatedAt.Equal(li.CreatedAt) || got.Role != "operator" {
		t.Fatalf("after SetPassword, user = %+v", got)
	}
	// A chosen language is kept; the password stays.
	if err := s.SetUserLang(ctx, "李娜", "en", later.Add(time.Second/2)); err != nil {
		t.Fatal(err)
	}
	if got := getUser(t, s, "李娜"); got.Lang != "en" || got.PasswordHash != "h-li-2" || !got.UpdatedAt.Equal(later.Add(time.Second/2)) {
		t.Fatalf("after SetUserLang(en), user = %+v", got)
	}
	if _, err := s.SetDisabled(ctx, "李娜", true, later.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := getUser(t, s, "李娜"); !got.Disabled || !got.UpdatedAt.Equal(later.Add(time.Second)) {
		t.Fatalf("after SetDisabled(true), user = %+v", got)
	}
	if _, err := s.SetDisabled(ctx, "李娜", false, later.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := getUser(t, s, "李娜"); got.Disabled {
		t.Fatalf("after SetDisabled(false), user = %+v", got)
	}
	if _, err := s.RemoveUser(ctx, "李娜"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUser(ctx, "李娜"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser after RemoveUser: %v, want ErrNotFound", err)
	}
	for name, fn := range map[string]func() error{
		"SetPassword": func() error { _, err := s.SetPassword(ctx, "李娜", "x", later); return err },
		"SetDisabled": func() error { _, err := s.SetDisabled(ctx, "李娜", true, later); return err },
		"RemoveUser":  func() error { _, err := s.RemoveUser(ctx, "李娜"); return err },
		"SetUserLang": func() error { return s.SetUserLang(ctx, "李娜", "en", later) },
	} {
		if err := fn(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of a removed user: %v, want ErrNotFound", name, err)
		}
	}
	// The name is free again.
	again := addUser(t, s, "李娜", "viewer", "h-li-3", later)
	if again.ID == li.ID {
		t.Errorf("a new user got the removed user's id %d", li.ID)
	}
}

func newSession(t testing.TB, s *store.Store, idHash string, u store.User, now, expires time.Time) {
	t.Helper()
	if err := s.CreateSession(context.Background(), idHash, u.ID, u.PasswordHash, now, expires); err != nil {
		t.Fatalf("CreateSession(%s for %s): %v", idHash, u.Name, err)
	}
}

func sessionGone(t testing.TB, s *store.Store, idHash, why string) {
	t.Helper()
	if _, err := s.GetSession(context.Background(), idHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s: GetSession(%s): %v, want ErrNotFound", why, idHash, err)
	}
}

func sessionCount(t testing.TB, s *store.Store, u store.User) int64 {
	t.Helper()
	n, err := s.CountSessions(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// testSessions: a session is read back with its user as the user is now;
// it ends on logout, and every session of a user ends in the same
// transaction as a new password, disabling or removal; sessions of other
// users stay.
func testSessions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ann := addUser(t, s, "ann", "operator", "h-ann", u0)
	bob := addUser(t, s, "bob", "viewer", "h-bob", u0)
	exp := u0.Add(12 * time.Hour)
	newSession(t, s, "a1", ann, u0, exp)
	newSession(t, s, "a2", ann, u0.Add(time.Second), exp)
	newSession(t, s, "b1", bob, u0, exp)

	got, err := s.GetSession(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	want := store.Session{IDHash: "a1", User: ann, CreatedAt: u0, SeenAt: u0, ExpiresAt: exp}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetSession(a1) = %+v, want %+v", got, want)
	}
	sessionGone(t, s, "zz", "a session never started")
	if err := s.CreateSession(ctx, "a1", ann.ID, ann.PasswordHash, u0, exp); err == nil {
		t.Fatal("CreateSession with an id already in use succeeded")
	}

	// Use moves seen_at forward, never back.
	if err := s.TouchSession(ctx, "a1", u0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, "a1", u0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSession(ctx, "a1"); !got.SeenAt.Equal(u0.Add(10 * time.Minute)) {
		t.Fatalf("SeenAt = %v, want %v", got.SeenAt, u0.Add(10*time.Minute))
	}

	// A sign-in checked against a hash that is no longer the user's, or for
	// a user that is disabled or gone, starts no session.
	for _, tt := range []struct {
		name   string
		userID int64
		hash   string
	}{
		{"old password", ann.ID, "h-ann-old"},
		{"no such user", ann.ID + bob.ID + 100, "h-ann"},
	} {
		if err := s.CreateSession(ctx, "x-"+tt.name, tt.userID, tt.hash, u0, exp); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("CreateSession (%s): %v, want ErrNotFound", tt.name, err)
		}
		sessionGone(t, s, "x-"+tt.name, tt.name)
	}

	// Logout ends one session.
	if ok, err := s.EndSession(ctx, "a2"); err != nil || !ok {
		t.Fatalf("EndSession(a2) = %v, %v; want true", ok, err)
	}
	if ok, err := s.EndSession(ctx, "a2"); err != nil || ok {
		t.Fatalf("EndSession(a2) again = %v, %v; want false", ok, err)
	}
	sessionGone(t, s, "a2", "after logout")

	// A new password ends all of ann's sessions and none of bob's.
	newSession(t, s, "a3", ann, u0, exp)
	if n, err := s.SetPassword(ctx, "ann", "h-ann-2", u0.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("SetPassword(ann) = %d, %v; want 2 sessions ended", n, err)
	}
	sessionGone(t, s, "a1", "after a new password")
	sessionGone(t, s, "a3", "after a new password")
	if sessionCount(t, s, bob) != 1 {
		t.Fatal("SetPassword(ann) ended a session of bob")
	}
	// The old hash no longer starts sessions; the new one does.
	if err := s.CreateSession(ctx, "a4", ann.ID, "h-ann", u0, exp); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CreateSession with the hash from before SetPassword: %v, want ErrNotFound", err)
	}
	ann = getUser(t, s, "ann")
	newSession(t, s, "a4", ann, u0, exp)

	// A rehash with newer parameters keeps the sessions, and only applies
	// to the hash it replaces.
	if ok, err := s.RehashPassword(ctx, ann.ID, "h-ann", "h-ann-r", u0); err != nil || ok {
		t.Fatalf("RehashPassword of a stale hash = %v, %v; want false", ok, err)
	}
	if ok, err := s.RehashPassword(ctx, ann.ID, "h-ann-2", "h-ann-r", u0.Add(2*time.Hour)); err != nil || !ok {
		t.Fatalf("RehashPassword = %v, %v; want true", ok, err)
	}
	if got := getUser(t, s, "ann"); got.PasswordHash != "h-ann-r" {
		t.Fatalf("after RehashPassword, hash = %q", got.PasswordHash)
	}
	if sessionCount(t, s, ann) != 1 {
		t.Fatal("RehashPassword ended a session")
	}

	// Disabling ends the sessions, and a disabled user starts none.
	if n, err := s.SetDisabled(ctx, "ann", true, u0.Add(3*time.Hour)); err != nil || n != 1 {
		t.Fatalf("SetDisabled(ann) = %d, %v; want 1 session ended", n, err)
	}
	ann = getUser(t, s, "ann")
	if err := s.CreateSession(ctx, "a5", ann.ID, ann.PasswordHash, u0, exp); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CreateSession for a disabled user: %v, want ErrNotFound", err)
	}

	// Removal ends the sessions.
	newSession(t, s, "b2", bob, u0, exp)
	if n, err := s.RemoveUser(ctx, "bob"); err != nil || n != 2 {
		t.Fatalf("RemoveUser(bob) = %d, %v; want 2 sessions ended", n, err)
	}
	sessionGone(t, s, "b1", "after the user was removed")
	sessionGone(t, s, "b2", "after the user was removed")
}

// testStaleSessions: EndStaleSessions deletes exactly the sessions past
// their expiry or unused since the idle limit.
func testStaleSessions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	u := addUser(t, s, "cai", "viewer", "h", u0)
	now := u0.Add(48 * time.Hour)
	idleSince := now.Add(-time.Hour)
	for _, tt := range []struct {
		id      string
		seen    time.Time
		expires time.Time
		stays   bool
	}{
		{"fresh", now.Add(-time.Minute), now.Add(time.Hour), true},
		{"seen-at-limit", idleSince, now.Add(time.Hour), true},
		{"idle", idleSince.Add(-time.Microsecond), now.Add(time.Hour), false},
		{"expired", now.Add(-time.Minute), now, false},
		{"long-expired", now.Add(-time.Minute), u0, false},
	} {
		newSession(t, s, tt.id, u, u0, tt.expires)
		if err := s.TouchSession(ctx, tt.id, tt.seen); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_, err := s.GetSession(ctx, tt.id)
			if tt.stays && err != nil {
				t.Errorf("session %s: %v after EndStaleSessions, want it kept", tt.id, err)
			}
			if !tt.stays && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("session %s: %v after EndStaleSessions, want ErrNotFound", tt.id, err)
			}
		}()
	}
	n, err := s.EndStaleSessions(ctx, now, idleSince)
	if err != nil || n != 3 {
		t.Fatalf("EndStaleSessions = %d, %v; want 3", n, err)
	}
}
