package webui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/monitoring"
	"github.com/offsite/offsite/internal/msgs"
)

// dictEntry matches an entry of the web interface's dictionaries (web/src/i18n.ts and
// web/src/vocab.ts): `key: ['中文', 'English'],` with the key bare or quoted.
var dictEntry = regexp.MustCompile(`(?m)^\s*(?:'([^']+)'|([A-Za-z0-9_]+)):\s*\[\s*'((?:[^'\\]|\\.)*)',\s*'((?:[^'\\]|\\.)*)'\s*\]`)

// webDict reads the web interface's dictionaries: key → [Chinese, English].
func webDict(t *testing.T) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	for _, f := range []string{"i18n.ts", "vocab.ts"} {
		src, err := os.ReadFile(filepath.Join("..", "..", "web", "src", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range dictEntry.FindAllStringSubmatch(string(src), -1) {
			k := m[1] + m[2]
			if _, dup := out[k]; !dup { // i18n.ts wins, as in the bundle
				out[k] = [2]string{m[3], m[4]}
			}
		}
	}
	if len(out) < 100 {
		t.Fatalf("read only %d dictionary entries: the pattern no longer matches the sources", len(out))
	}
	return out
}

// constsWithPrefix returns the string constants of the Go package in dir whose names start
// with prefix (detect.ClassX), so that a class added there without a translation fails here.
func constsWithPrefix(t *testing.T, dir, prefix string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []string
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		{
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, s := range g.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if !strings.HasPrefix(n.Name, prefix) || i >= len(vs.Values) {
							continue
						}
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							out = append(out, v)
						}
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s constants in %s", prefix, dir)
	}
	return out
}

// TestDomainValuesTranslated checks that every domain value the server can send the pages
// (finding kinds and classes, severities, capture kinds and pipelines, admission paths,
// list and inspection statuses, triggers, levels, roles, audit actions, checklist items,
// removal categories) has a Chinese entry that is not the English one, and an English one.
func TestDomainValuesTranslated(t *testing.T) {
	dict := webDict(t)
	var admission, facts []string
	for _, p := range enforce.DefaultAdmission() {
		admission = append(admission, p.Name)
		for _, c := range p.Conditions {
			facts = append(facts, c.Fact)
		}
	}
	finding := []string{offsite.FindingChange, offsite.FindingHotspot, offsite.FindingPlume, offsite.FindingExceedance, offsite.FindingMonitoring}
	classes := append(constsWithPrefix(t, filepath.Join("..", "detect"), "Class"), monitoring.Rules...)
	classes = append(classes, finding...) // tracks and monitoring name a class by its kind
	groups := []struct {
		prefix string
		values []string
	}{
		{"kind_", finding},
		{"cls_", classes},
		{"fst_", constsWithPrefix(t, filepath.Join("..", "detect"), "Status")},
		{"sev_", []string{"high", "medium", "low"}},
		{"cap_", offsite.CaptureKinds},
		{"path_", admission},
		{"st_", enforce.Names(enforce.ListStatuses)},
		{"ins_", enforce.Names(enforce.InspectionStatuses)},
		{"tr_", enforce.Names(enforce.Triggers)},
		{"lvl_", enforce.Names(enforce.Levels)},
		{"role_", enforce.Names(enforce.Roles)},
		{"step_", enforce.Names(enforce.AuditActions)},
		{"chk_", enforce.DefaultChecklist},
		{"rc_", enforce.RemovalCategories},
		{"rule_", monitoring.Rules},
		{"mode_", []string{enforce.ModeSite, enforce.ModeOffsite}},
		{"grp_", []string{"special", "ordinary", "listed"}},
		{"ext_", []string{enforce.ExtensionPending, enforce.ExtensionGranted, enforce.ExtensionRefused}},
		{"wo_", []string{enforce.WarningOpened, enforce.WarningJoined}},
		{"hc_", []string{enforce.HealthDone, enforce.HealthPending, enforce.HealthDue, enforce.HealthOverdue}},
		{"ev_", enforce.Names(enforce.Events)},
		{"fact_", facts},
	}
	han := regexp.MustCompile(`\p{Han}`)
	for _, g := range groups {
		for _, v := range g.values {
			e, ok := dict[g.prefix+v]
			switch {
			case !ok:
				t.Errorf("%s%s: no translation in web/src/vocab.ts (the Chinese page would show %q)", g.prefix, v, v)
			case !han.MatchString(e[0]):
				t.Errorf("%s%s: the Chinese entry %q has no Chinese in it", g.prefix, v, e[0])
			case e[1] == "":
				t.Errorf("%s%s: no English entry", g.prefix, v)
			}
		}
	}
}

// TestMessageArgumentsTranslated: the Chinese the server gives the domain codes of message
// arguments (internal/msgs, in e-mails and problem details) is the web vocabulary's, under the
// prefix messages.ts translates each argument with.
func TestMessageArgumentsTranslated(t *testing.T) {
	dict := webDict(t)
	prefix := map[string]string{"outcome": "wo_", "decision": "ext_", "trigger": "tr_", "kind": "kind_"}
	for arg, values := range msgs.ArgValuesZH() {
		p, ok := prefix[arg]
		if !ok {
			t.Errorf("argument %s: no vocabulary prefix known here (messages.ts argVocab)", arg)
			continue
		}
		for code, zh := range values {
			if e, ok := dict[p+code]; !ok || e[0] != zh {
				t.Errorf("%s%s: the web says %q, the server %q", p, code, e[0], zh)
			}
		}
	}
}

// TestDrawAlgorithmTranslated holds the translated draw algorithm (vocab.ts alg_<version>)
// to the text the server publishes: its English must be enforce.DrawAlgorithm exactly, so a
// change of the procedure without a new translation fails here rather than showing a stale
// description on the Chinese draw page.
func TestDrawAlgorithmTranslated(t *testing.T) {
	version, _, ok := strings.Cut(enforce.DrawAlgorithm, ":")
	if !ok {
		t.Fatalf("enforce.DrawAlgorithm %q has no version before a colon", enforce.DrawAlgorithm)
	}
	e, ok := webDict(t)["alg_"+version]
	if !ok {
		t.Fatalf("web/src/vocab.ts has no alg_%s for the draw algorithm", version)
	}
	if e[1] != enforce.DrawAlgorithm {
		t.Errorf("vocab.ts alg_%s English differs from enforce.DrawAlgorithm:\n  %s\n  %s", version, e[1], enforce.DrawAlgorithm)
	}
	if e[0] == "" || e[0] == e[1] {
		t.Errorf("vocab.ts alg_%s has no Chinese", version)
	}
}
