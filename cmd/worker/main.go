// Command worker runs Offsite's asynq task handlers and the nightly scheduler, and offers
// local-mode commands that run the same code on files without any service.
//
// Usage:
//
//	worker [serve]     run the asynq server and scheduler (configured by OFFSITE_* variables)
//	worker clip ...    clip a scene to parcels (see `worker clip -h`)
//	worker process ... run a pipeline on files (see `worker process -h`)
//	worker verify      re-hash every stored evidence artifact and report mismatches
//	worker migrate     apply pending migrations as the schema's owner (OFFSITE_DATABASE_OWNER_URL)
//	worker help [CMD]  this list, or a command's usage; worker version: the version
package main

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

const mainUsage = `usage: worker [COMMAND] [FLAGS]

Offsite's worker: the asynq task handlers and nightly scheduler, and local-mode commands
that run the same code on files without any service.

Commands:
  serve     run the asynq server and the nightly scheduler (the default; configured by
            OFFSITE_* environment variables, see the README)
  clip      clip a scene to parcels: a COG and a quick-look per parcel
  process   run a pipeline (change, hotspots, plumes, tracks) on files: findings with provenance
  verify    re-hash every stored artifact, source, COG and proof; check the audit chain
  migrate   apply pending database migrations as the schema's owner
  help      this text, or "worker help COMMAND" for a command's flags
  version   print the version

Exit status: 0 done; 1 an error (named on stderr); 2 bad usage; 3 nothing to do (no parcel
overlaps the scene); 4 verify found a mismatch.
`

// exitNothing is the exit status when a run had nothing to work on.
const exitNothing = 3

// errNothing marks a run that had nothing to work on (exit status 3), so that a script can
// tell it from a run that clipped or found nothing in parcels it did cover.
var errNothing = errors.New("nothing to do")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		os.Exit(exitStatus(err, os.Stderr))
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && (args[0][0] != '-' || isHelpFlag(args[0]) || strings.TrimLeft(args[0], "-") == "version") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "-help", "--help":
		if len(args) > 0 && args[0] != "help" && args[0][0] != '-' {
			return run(ctx, []string{args[0], "-h"}, stdout, stdout)
		}
		fmt.Fprint(stdout, mainUsage)
		return nil
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "worker", offsite.Version)
		return nil
	case "serve":
		if len(args) == 1 && isHelpFlag(args[0]) {
			fmt.Fprint(stderr, serveUsage)
			return flag.ErrHelp
		}
		m := NewMain()
		if err := m.ParseFlags(ctx, args); err != nil {
			return err
		}
		err := m.Run(ctx)
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		return err
	case "clip":
		return runClip(ctx, args, stdout, stderr)
	case "process":
		return runProcess(ctx, args, stdout, stderr)
	case "verify":
		return runVerify(ctx, args, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args, stdout, stderr)
	default:
		return fmt.Errorf("%w: unknown command %q; commands: serve, clip, process, verify, migrate, help, version", errUsage, cmd)
	}
}

// errUsage marks bad usage (exit status 2).
var errUsage = errors.New("usage")

// exitStatus prints err (unless it is a help request, which exits 0) and returns the
// process's exit status.
func exitStatus(err error, stderr io.Writer) int {
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errNothing):
		fmt.Fprintln(stderr, "worker:", err)
		return exitNothing
	case errors.Is(err, errMismatch):
		fmt.Fprintln(stderr, "worker:", err)
		return 4
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "worker:", err)
		return 2
	}
	fmt.Fprintln(stderr, "worker:", err)
	return 1
}

const serveUsage = `usage: worker serve

Runs the asynq task handlers (ingest, clip, survey parts, nightly sweep, audit checkpoints)
and the nightly scheduler until SIGINT or SIGTERM. Takes no flags: it is configured by the
OFFSITE_* environment variables (database, Redis, S3, buckets, audit key, limits), listed in
the README. On shutdown it stops taking tasks and waits up to OFFSITE_SHUTDOWN_TIMEOUT.
`

// isHelpFlag reports whether arg asks for help.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}
