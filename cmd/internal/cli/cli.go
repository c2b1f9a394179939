// Package cli is the command line shared by Offsite's binaries that take a command (worker,
// receiver): which command runs, help and version, and the exit status an error gives.
//
//	NAME [COMMAND] [FLAGS]   COMMAND defaults to Program.Default
//	NAME help [COMMAND]      the program's usage (stdout), or the command's (its -h)
//	NAME version             the version; -h, --help, -version and --version work too
//
// Exit status: 0 done or help asked for; 1 an error; 2 bad usage (ErrUsage, or a flag the
// command does not know); others as the program's Statuses say.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/offsite/offsite"
)

// ErrUsage marks bad usage: exit status 2.
var ErrUsage = errors.New("usage")

// Usagef returns a usage error (exit status 2) with a message.
func Usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// Parse parses args with fs: flag.ErrHelp when help was asked for (exit 0), a usage error
// for a flag fs does not know or a bad value (exit 2; fs has printed it with its usage).
func Parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("%w: %s: %v", ErrUsage, fs.Name(), err)
}

// Command is one command of a program.
type Command struct {
	Name string
	// Run runs the command with the arguments after its name; stdin is the process's.
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// Status is an exit status for the errors that match Err (errors.Is).
type Status struct {
	Err  error
	Code int
}

// Program is a binary with commands.
type Program struct {
	Name     string // as in messages: "worker"
	Usage    string // printed by NAME help
	Default  string // the command run when none is named
	Commands []Command
	Statuses []Status // beyond 0, 1 and 2
}

// IsHelp reports whether arg asks for help.
func IsHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// Run runs the command args name, or answers help and version.
func (p *Program) Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := p.Default
	if len(args) > 0 && args[0] != "" && (args[0][0] != '-' || IsHelp(args[0]) || strings.TrimLeft(args[0], "-") == "version") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "-help", "--help":
		if len(args) > 0 && !IsHelp(args[0]) && args[0][0] != '-' {
			// A command's usage, asked for: on stdout.
			return p.Run(ctx, []string{args[0], "-h"}, stdout, stdout)
		}
		fmt.Fprint(stdout, p.Usage)
		return nil
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, p.Name, offsite.Version)
		return nil
	}
	names := make([]string, 0, len(p.Commands))
	for _, c := range p.Commands {
		if c.Name == cmd {
			return c.Run(ctx, args, stdout, stderr)
		}
		names = append(names, c.Name)
	}
	return Usagef("unknown command %q; commands: %s, help, version", cmd, strings.Join(names, ", "))
}

// ExitStatus prints err on stderr (unless help was asked for) and returns the exit status.
func (p *Program) ExitStatus(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", p.Name, err)
	for _, s := range p.Statuses {
		if errors.Is(err, s.Err) {
			return s.Code
		}
	}
	if errors.Is(err, ErrUsage) {
		return 2
	}
	return 1
}

// Main runs the program on the process's arguments until SIGINT or SIGTERM and exits with
// its status.
func (p *Program) Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := p.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(p.ExitStatus(err, os.Stderr))
}
