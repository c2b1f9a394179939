// Command receiver is Offsite's HJ 212 server: the enterprises' data loggers connect to it
// over TCP and send their monitoring data (HJ 212-2017, and HJ/T 212-2005 from older loggers).
// Every frame is kept verbatim with its SHA-256; the values of data uploads go to PostgreSQL;
// a frame is acknowledged only once it is durable.
//
// Usage:
//
//	receiver [serve] [flags]        run the TCP server (see `receiver serve -h`)
//	receiver decode [FILE]          print one JSON object per frame of FILE (or stdin); no services
//	receiver import-csv FILE...     import hour/day values exported as CSV by a provincial platform
//	receiver quarantine             list the MNs whose frames are kept in quarantine
//	receiver credentials MN         set MN's password (read from stdin) in monitoring_credentials
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
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		m := NewMain()
		if err := m.ParseFlags(args, stderr); err != nil {
			return err
		}
		err := m.Run(ctx)
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		return err
	case "decode":
		return runDecode(args, stdin, stdout, stderr)
	case "import-csv":
		return runImportCSV(ctx, args, stdout, stderr)
	case "quarantine":
		return runQuarantine(ctx, args, stdout, stderr)
	case "credentials":
		return runCredentials(ctx, args, stdin, stdout, stderr)
	default:
		return fmt.Errorf("unknown command %q; commands: serve, decode, import-csv, quarantine, credentials", cmd)
	}
}
