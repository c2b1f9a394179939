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

	"github.com/offsite/offsite/cmd/internal/cli"
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

// program is the worker's command line (cmd/internal/cli, shared with the receiver).
var program = &cli.Program{
	Name: "worker", Usage: mainUsage, Default: "serve",
	Commands: []cli.Command{
		{Name: "serve", Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			if len(args) == 1 && cli.IsHelp(args[0]) {
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
		}},
		{Name: "clip", Run: runClip},
		{Name: "process", Run: runProcess},
		{Name: "verify", Run: runVerify},
		{Name: "migrate", Run: runMigrate},
	},
	Statuses: []cli.Status{{Err: errNothing, Code: exitNothing}, {Err: errMismatch, Code: 4}},
}

func main() { program.Main() }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return program.Run(ctx, args, stdout, stderr)
}

// errUsage marks bad usage (exit status 2).
var errUsage = cli.ErrUsage

// exitStatus prints err (unless it is a help request, which exits 0) and returns the
// process's exit status.
func exitStatus(err error, stderr io.Writer) int { return program.ExitStatus(err, stderr) }

const serveUsage = `usage: worker serve

Runs the asynq task handlers (ingest, clip, survey parts, nightly sweep, audit checkpoints)
and the nightly scheduler until SIGINT or SIGTERM. Takes no flags: it is configured by the
OFFSITE_* environment variables (database, Redis, S3, buckets, audit key, limits), listed in
the README. On shutdown it stops taking tasks and waits up to OFFSITE_SHUTDOWN_TIMEOUT.
`
