package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswords(t *testing.T) {
	p := Params{Memory: 64, Time: 1, Threads: 1}
	h, err := HashPassword("密码 correct", p)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("密码 correct", p)
	if h == h2 || !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hashes %s %s: want a fresh salt each and the PHC form", h, h2)
	}
	for _, tc := range []struct {
		name, hash, password string
		params               Params
		ok, rehash           bool
		err                  error
	}{
		{"right", h, "密码 correct", p, true, false, nil},
		{"wrong", h, "密码 correcT", p, false, false, nil},
		{"empty", h, "", p, false, false, nil},
		{"right, other costs wanted", h, "密码 correct", DefaultParams, true, true, nil},
		{"wrong, other costs wanted", h, "x", DefaultParams, false, false, nil},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuu", "x", p, false, false, ErrBadHash},
		{"plain text", "密码 correct", "密码 correct", p, false, false, ErrBadHash},
		{"other version", strings.Replace(h, "v=19", "v=16", 1), "密码 correct", p, false, false, ErrBadHash},
		{"zero passes", strings.Replace(h, "t=1", "t=0", 1), "密码 correct", p, false, false, ErrBadHash},
		{"bad salt", strings.Replace(h, "$argon2id$v=19$m=64,t=1,p=1$", "$argon2id$v=19$m=64,t=1,p=1$!!", 1), "密码 correct", p, false, false, ErrBadHash},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := CheckPassword(tc.hash, tc.password, tc.params)
			if ok != tc.ok || rehash != tc.rehash || !errors.Is(err, tc.err) {
				t.Fatalf("CheckPassword = %v, %v, %v; want %v, %v, %v", ok, rehash, err, tc.ok, tc.rehash, tc.err)
			}
		})
	}
}

func TestRoleAllows(t *testing.T) {
	for _, tc := range []struct {
		have, need Role
		ok         bool
	}{
		{RoleViewer, RoleViewer, true}, {RoleViewer, RoleOperator, false}, {RoleViewer, RoleAdmin, false},
		{RoleOperator, RoleViewer, true}, {RoleOperator, RoleOperator, true}, {RoleOperator, RoleAdmin, false},
		{RoleAdmin, RoleViewer, true}, {RoleAdmin, RoleOperator, true}, {RoleAdmin, RoleAdmin, true},
		{"root", RoleViewer, false}, {"", RoleViewer, false},
	} {
		if got := tc.have.Allows(tc.need); got != tc.ok {
			t.Errorf("%q.Allows(%q) = %v, want %v", tc.have, tc.need, got, tc.ok)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/orders?x=1": "/orders?x=1", "//evil.example": "/", "https://evil.example": "/",
		"/\\evil.example": "/", "orders": "/", "/a\r\nSet-Cookie: x": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
