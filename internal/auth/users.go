package auth

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"orderhub/internal/store"
)

// MinPassword is the shortest password accepted, in characters.
const MinPassword = 10

// CheckName says what is wrong with a user name, or nil: 1 to 64
// characters, no spaces or control characters (Chinese names are fine).
func CheckName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return fmt.Errorf("a user name has 1 to 64 characters, and %q has %d", name, utf8.RuneCountInString(name))
	}
	if strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 || !utf8.ValidString(name) {
		return fmt.Errorf("user name %q has a space or a control character", name)
	}
	return nil
}

// CheckNewPassword says what is wrong with a new password, or nil.
func CheckNewPassword(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPassword {
		return fmt.Errorf("the password has %d characters; use at least %d", n, MinPassword)
	}
	if len(password) > maxPassword {
		return fmt.Errorf("the password is longer than %d bytes", maxPassword)
	}
	return nil
}

// AddUser checks and adds a user with a hashed password.
func AddUser(ctx context.Context, st *store.Store, name string, role Role, password string, now time.Time) (store.User, error) {
	if err := CheckName(name); err != nil {
		return store.User{}, err
	}
	if !role.Valid() {
		return store.User{}, fmt.Errorf("unknown role %q (use one of: admin, operator, viewer)", role)
	}
	if err := CheckNewPassword(password); err != nil {
		return store.User{}, err
	}
	h, err := HashPassword(password, DefaultParams)
	if err != nil {
		return store.User{}, err
	}
	return st.CreateUser(ctx, name, string(role), h, now)
}

// SetPassword checks and sets a user's new password; the user's sessions
// end. It reports how many did.
func SetPassword(ctx context.Context, st *store.Store, name, password string, now time.Time) (int64, error) {
	if err := CheckNewPassword(password); err != nil {
		return 0, err
	}
	h, err := HashPassword(password, DefaultParams)
	if err != nil {
		return 0, err
	}
	return st.SetPassword(ctx, name, h, now)
}
