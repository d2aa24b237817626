package auth

import "fmt"

// Role is what a signed-in user or an API token may do. Each role may do
// everything the roles below it may.
type Role string

const (
	// RoleViewer reads: orders, timelines, exceptions, deliveries, statistics.
	RoleViewer Role = "viewer"
	// RoleOperator also acts on what went wrong: retries and skips
	// exceptions, resends deliveries, starts backfills, edits preferences
	// and marks inbox messages read.
	RoleOperator Role = "operator"
	// RoleAdmin may do everything, managing users included.
	RoleAdmin Role = "admin"
)

// Roles lists the roles from the least to the most allowed.
var Roles = []Role{RoleViewer, RoleOperator, RoleAdmin}

func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether r may do what need needs. An unknown role allows
// nothing.
func (r Role) Allows(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

// ParseRole reads a role as written in the configuration or on the command
// line.
func ParseRole(s string) (Role, error) {
	if r := Role(s); r.Valid() {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (use one of: admin, operator, viewer)", s)
}
