package config

import (
	"fmt"
	"strings"
)

// envProblem is one thing wrong with the ${...} references of a value.
type envProblem struct{ msg, hint string }

// expand replaces ${NAME} with the value of the environment variable NAME and
// ${NAME:-default} with it or, when NAME is unset or empty, with default (the
// shell's meaning of ":-"). "$$" is a literal "$"; a "$" not followed by "{" is
// kept as it is, so passwords with a lone "$" need no escaping.
//
// Problems never quote the value or a default: the value may be a secret.
func expand(s string, lookup func(string) (string, bool)) (string, []envProblem) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var (
		b        strings.Builder
		problems []envProblem
	)
	for i := 0; i < len(s); {
		switch {
		case s[i] != '$':
			b.WriteByte(s[i])
			i++
		case strings.HasPrefix(s[i:], "$$"):
			b.WriteByte('$')
			i += 2
		case !strings.HasPrefix(s[i:], "${"):
			b.WriteByte('$')
			i++
		default:
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				problems = append(problems, envProblem{
					msg:  "${ is not closed with }",
					hint: "write ${NAME} or ${NAME:-default}; write $$ for a literal $",
				})
				return b.String() + s[i:], problems
			}
			ref := s[i+2 : i+2+end]
			i += 2 + end + 1
			name, def, hasDef := strings.Cut(ref, ":-")
			if !validEnvName(name) {
				problems = append(problems, envProblem{
					msg:  fmt.Sprintf("%q is not a valid environment variable name", name),
					hint: "write ${NAME} or ${NAME:-default}, NAME being letters, digits and _, not starting with a digit; write $$ for a literal $",
				})
				continue
			}
			val, ok := lookup(name)
			switch {
			case hasDef && val == "":
				val = def
			case !ok:
				problems = append(problems, envProblem{
					msg:  fmt.Sprintf("environment variable %s is not set", name),
					hint: fmt.Sprintf("export %s=… before starting orderhub, or write ${%s:-value}", name, name),
				})
			}
			b.WriteString(val)
		}
	}
	return b.String(), problems
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
