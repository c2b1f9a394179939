package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/offsite/offsite/cmd/internal/cmdconfig"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/verify"
)

// runVerify is `worker verify`: re-hash every recorded object against its recorded SHA-256:
// evidence artifacts, each ingested capture's source object and COG, and every self-check
// proof, and, with the audit key configured, the audit chain against its latest signed head. It prints one line per problem (or the JSON report with --json) and fails if any.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("verify: unexpected arguments %q", fs.Args())
	}
	cfg, err := cmdconfig.FromEnv()
	if err != nil {
		return err
	}
	db, store, err := cfg.OpenStores(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	captures := postgres.NewCaptureService(db)
	// With the audit key configured the audit chain is checked too (against the latest signed
	// head in the evidence bucket); without it only the objects are.
	enf := postgres.NewEnforceService(db, postgres.AuditConfig{Keys: cfg.AuditKeys, Heads: store})
	src := verify.Join(captures, postgres.NewFindingService(db), verify.Captures(captures),
		verify.Proofs(enf, store.Captures))
	rep, err := verify.Run(ctx, src, store)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	var chain *enforce.AuditReport
	if cfg.AuditKeys != nil {
		if chain, err = enf.VerifyAudit(ctx); err != nil {
			return fmt.Errorf("verify: audit chain: %w", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		out := struct {
			*verify.Report
			Audit *enforce.AuditReport `json:"audit,omitempty"`
		}{rep, chain}
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		for _, p := range rep.Problems {
			bucket := p.Bucket
			if bucket == "" {
				bucket = store.Evidence
			}
			fmt.Fprintf(stdout, "%s\t%s/%s\t%s\trecorded %s\tstored %s\n", p.Issue, bucket, p.Key, p.Owner, p.SHA256, p.Actual)
		}
		fmt.Fprintf(stdout, "verify: %d objects checked, %d ok, %d problems\n", rep.Checked, rep.OK, len(rep.Problems))
		switch {
		case chain == nil:
			fmt.Fprintf(stdout, "verify: audit chain not checked (no %s or %s)\n", cmdconfig.EnvAuditKey, cmdconfig.EnvAuditKeyFile)
		case chain.FirstBroken != nil:
			fmt.Fprintf(stdout, "verify: audit chain BROKEN at entry %d: %s\n", chain.FirstBroken.Seq, chain.FirstBroken.Reason)
		default:
			fmt.Fprintf(stdout, "verify: audit chain ok, %d entries checked\n", chain.Checked)
		}
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("verify: %d of %d objects failed verification", len(rep.Problems), rep.Checked)
	}
	if chain != nil && chain.FirstBroken != nil {
		return fmt.Errorf("verify: audit chain broken at entry %d: %s", chain.FirstBroken.Seq, chain.FirstBroken.Reason)
	}
	return nil
}
