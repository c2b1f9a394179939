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
//	receiver help [CMD]             this list, or a command's usage; receiver version: the version
package main

import (
	"context"
	"io"
	"os"

	"github.com/offsite/offsite/cmd/internal/cli"
)

const mainUsage = `usage: receiver [COMMAND] [FLAGS]

Offsite's HJ 212 receiver: the TCP server the enterprises' data loggers connect to, and
local commands on its data.

Commands:
  serve        run the TCP server (the default; see "receiver help serve")
  decode       print one JSON object per frame of FILE (or stdin) with the server's parser;
               needs no service
  import-csv   import hour/day values exported as CSV by a provincial platform
  quarantine   list the MNs whose frames are kept in quarantine
  credentials  set an MN's password (read from stdin) in monitoring_credentials
  help         this text, or "receiver help COMMAND" for a command's flags
  version      print the version

Exit status: 0 done (decode: the input was read to its end, whatever the frames); 1 an
error (named on stderr); 2 bad usage.
`

// program is the receiver's command line (cmd/internal/cli, shared with the worker); stdin
// is what decode and credentials read.
func program(stdin io.Reader) *cli.Program {
	return &cli.Program{
		Name: "receiver", Usage: mainUsage, Default: "serve",
		Commands: []cli.Command{
			{Name: "serve", Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				m := NewMain()
				if err := m.ParseFlags(args, stderr); err != nil {
					return err
				}
				setGC()
				err := m.Run(ctx)
				if cerr := m.Close(); err == nil {
					err = cerr
				}
				return err
			}},
			{Name: "decode", Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return runDecode(args, stdin, stdout, stderr)
			}},
			{Name: "import-csv", Run: runImportCSV},
			{Name: "quarantine", Run: runQuarantine},
			{Name: "credentials", Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return runCredentials(ctx, args, stdin, stdout, stderr)
			}},
		},
	}
}

func main() { program(os.Stdin).Main() }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return program(stdin).Run(ctx, args, stdout, stderr)
}
