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
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
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
		return fmt.Errorf("unknown command %q; commands: serve, clip, process, verify, migrate", cmd)
	}
}
