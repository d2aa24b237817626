package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"orderhub/internal/auth"
	"orderhub/internal/config"
	"orderhub/internal/store"
)

func usersCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Add, list, change or remove console users (控制台用户)",
		Long: `Console users sign in to the web console at /login with a name and a password.
Each has a role: viewer (reads), operator (also retries and skips exceptions,
resends deliveries, starts backfills, edits preferences) or admin (everything,
users included). Passwords are hashed with argon2id; they are read from the
terminal without echo, or from standard input when it is not a terminal.

Changing a password, disabling or removing a user ends the user's sessions.`,
		Example: `  orderhub users add 王芳 --role operator
  printf '%s\n' "$PASSWORD" | orderhub users add ops --role admin
  orderhub users list
  orderhub users passwd 王芳
  orderhub users disable 王芳`,
	}
	cmd.PersistentFlags().StringVarP(&path, "config", "c", "orderhub.yaml", "configuration file")
	open := func(cmd *cobra.Command) (*config.Config, *store.Store, error) { return openConfigStore(cmd, path) }

	var role string
	add := &cobra.Command{
		Use:   "add NAME --role admin|operator|viewer",
		Short: "Add a user; the password is asked for",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := auth.ParseRole(role)
			if err != nil {
				return err
			}
			if err := auth.CheckName(args[0]); err != nil {
				return err
			}
			_, st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			pw, err := readNewPassword(cmd)
			if err != nil {
				return err
			}
			if _, err := auth.AddUser(cmd.Context(), st, args[0], r, pw, time.Now()); err != nil {
				if errors.Is(err, store.ErrUserExists) {
					return fmt.Errorf("user %q exists; change the password with 'orderhub users passwd %s'", args[0], args[0])
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %s (%s)\n", args[0], r)
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", "", "admin, operator or viewer")
	_ = add.MarkFlagRequired("role")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the users with their roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			us, err := st.ListUsers(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tLANG\tCHANGED")
			for _, u := range us {
				state := "active"
				if u.Disabled {
					state = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, state, u.Lang, u.UpdatedAt.In(cfg.Location).Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		},
	}

	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set a user's password; the user's sessions end",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			if _, err := st.GetUser(cmd.Context(), args[0]); err != nil {
				return err
			}
			pw, err := readNewPassword(cmd)
			if err != nil {
				return err
			}
			ended, err := auth.SetPassword(cmd.Context(), st, args[0], pw, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "changed the password of %s; %d session(s) ended\n", args[0], ended)
			return nil
		},
	}

	change := func(use, short, done string, fn func(cmd *cobra.Command, st *store.Store, name string) (int64, error)) *cobra.Command {
		return &cobra.Command{
			Use:   use + " NAME",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				_, st, err := open(cmd)
				if err != nil {
					return err
				}
				defer st.Close()
				ended, err := fn(cmd, st, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s; %d session(s) ended\n", done, args[0], ended)
				return nil
			},
		}
	}
	disable := change("disable", "Keep a user but refuse sign-in; the user's sessions end", "disabled",
		func(cmd *cobra.Command, st *store.Store, name string) (int64, error) {
			return st.SetDisabled(cmd.Context(), name, true, time.Now())
		})
	enable := change("enable", "Let a disabled user sign in again", "enabled",
		func(cmd *cobra.Command, st *store.Store, name string) (int64, error) {
			return st.SetDisabled(cmd.Context(), name, false, time.Now())
		})
	remove := change("remove", "Delete a user; the user's sessions end", "removed",
		func(cmd *cobra.Command, st *store.Store, name string) (int64, error) {
			return st.RemoveUser(cmd.Context(), name)
		})
	cmd.AddCommand(add, list, passwd, disable, enable, remove)
	return cmd
}

// readNewPassword reads a new password: twice without echo from a
// terminal, or the first line of standard input when it is piped.
func readNewPassword(cmd *cobra.Command) (string, error) {
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		errw := cmd.ErrOrStderr()
		fmt.Fprint(errw, "新密码 (new password): ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(errw)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		fmt.Fprint(errw, "再输入一次 (again): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(errw)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ; nothing was changed")
		}
		return string(a), auth.CheckNewPassword(string(a))
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on standard input; pipe one line, or run in a terminal to be asked")
	}
	return pw, auth.CheckNewPassword(pw)
}
