package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/offsite/offsite/cmd/internal/cmdconfig"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/verify"
)

const verifyUsage = `usage: worker verify [--json]

Re-hashes, against the SHA-256 recorded for each, every object Offsite relies on as evidence:
  - evidence artifacts (clips, quick-looks, findings, manifests, STAC items) in the evidence bucket;
  - each ingested capture's source object and its COG in the captures bucket;
  - every self-check proof recorded for an inspection, in the proofs bucket;
and, when the audit key is configured (OFFSITE_AUDIT_KEY or OFFSITE_AUDIT_KEY_FILE), the audit
chain: every entry's HMAC and link to the one before, the anchor of the legacy entries, and the
chain's head against the latest signed head in the evidence bucket (audit/heads/).

Configured by the same OFFSITE_* variables as "worker serve" (database URL, S3 endpoint,
buckets, keys). Prints one line per problem (issue, bucket/key, owner, recorded and stored
SHA-256) and a summary; --json prints the whole report. Exit status 0 when everything
matches, 4 when an object or the chain does not, 1 when verification could not run.
`

// errMismatch marks a verification that ran and found a mismatch (exit status 4).
var errMismatch = errors.New("evidence does not match its record")

// runVerify is `worker verify`: re-hash every recorded object against its recorded SHA-256:
// evidence artifacts, each ingested capture's source object and COG, and every self-check
// proof, and, with the audit key configured, the audit chain against its latest signed head. It prints one line per problem (or the JSON report with --json) and fails if any.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, verifyUsage); fs.PrintDefaults() }
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
		return fmt.Errorf("verify: %d of %d objects failed verification: %w", len(rep.Problems), rep.Checked, errMismatch)
	}
	if chain != nil && chain.FirstBroken != nil {
		return fmt.Errorf("verify: audit chain broken at entry %d: %s: %w", chain.FirstBroken.Seq, chain.FirstBroken.Reason, errMismatch)
	}
	return nil
}
