package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offsite/offsite/cmd/internal/cli"
	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/postgres"
)

// runImportCSV is `receiver import-csv FILE...`: hour and day values exported by a provincial
// platform (columns in internal/hj212/csv.go and the README). Every file is read and checked
// before anything is written; rows already stored are left as they are.
func runImportCSV(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import-csv", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return cli.Usagef("import-csv: give one or more CSV files")
	}
	now := time.Now()
	var all []*hj212.Record
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import-csv: %w", err)
		}
		recs, err := hj212.ReadCSV(f, filepath.Base(name), now)
		f.Close()
		if err != nil {
			return fmt.Errorf("import-csv: %w", err)
		}
		all = append(all, recs...)
	}
	db, err := postgres.Open(ctx, databaseURL())
	if err != nil {
		return err
	}
	defer db.Close()
	store := postgres.NewMonitoringStore(db)
	for i := 0; i < len(all); i += 1000 {
		if err := store.WriteBatch(ctx, all[i:min(i+1000, len(all))]); err != nil {
			return fmt.Errorf("import-csv: %d of %d rows written before: %w", i, len(all), err)
		}
	}
	fmt.Fprintf(stdout, "import-csv: %d rows from %d files stored (rows already stored left as they were)\n", len(all), fs.NArg())
	return nil
}

// runQuarantine is `receiver quarantine`: the MNs whose frames are kept in quarantine (unknown
// MN or wrong PW), one JSON object per MN and reason, most recent first.
func runQuarantine(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quarantine", flag.ContinueOnError)
	fs.SetOutput(stderr)
	limit := fs.Int("limit", 100, "most MNs listed")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *limit < 1 {
		return cli.Usagef("quarantine: takes no arguments and -limit of at least 1")
	}
	db, err := postgres.Open(ctx, databaseURL())
	if err != nil {
		return err
	}
	defer db.Close()
	qs, err := postgres.NewMonitoringStore(db).ListQuarantine(ctx, *limit)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, q := range qs {
		if err := enc.Encode(q); err != nil {
			return err
		}
	}
	return nil
}

// runCredentials is `receiver credentials MN`: set MN's password (one line on stdin), until
// the registry of monitoring points takes this place.
func runCredentials(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("credentials", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Usagef("credentials: give one MN; the password is read from stdin")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return cli.Usagef("credentials: no password on stdin")
	}
	db, err := postgres.Open(ctx, databaseURL())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := postgres.NewMonitoringStore(db).SetCredential(ctx, fs.Arg(0), pw); err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	fmt.Fprintf(stdout, "credentials: password of %s set\n", fs.Arg(0))
	return nil
}
