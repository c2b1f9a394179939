package enforce

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/offsite/offsite/internal/msgs"
)

// AdmissionPath is one way onto the positive list: all of its conditions must hold.
type AdmissionPath struct {
	Name       string      `json:"name"`
	Label      string      `json:"label"`
	Conditions []Condition `json:"conditions"`
}

// Condition is one admission condition on a fact of the enterprise's assessment.
//
// Ops: "true" and "false" (boolean fact), "eq" and "ne" (string or number), "gte" and "lte"
// (number), "in" (Value is a list of strings).
type Condition struct {
	Fact  string `json:"fact"`
	Op    string `json:"op"`
	Value any    `json:"value,omitempty"`
	Label string `json:"label"`
}

// Facts is an enterprise's assessment: fact name → JSON value (bool, float64 or string).
type Facts map[string]any

// Reason is the outcome of one condition.
type Reason struct {
	Path   string `json:"path"`
	Fact   string `json:"fact"`
	Label  string `json:"label"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"` // in English
	// DetailMessage is Detail as a sentence of the message catalog, for other languages.
	DetailMessage msgs.Message `json:"detail_message"`
}

// Evaluation is the outcome of evaluating the admission conditions.
type Evaluation struct {
	Admitted bool     `json:"admitted"`
	Path     string   `json:"path,omitempty"` // the first path whose conditions all hold
	Reasons  []Reason `json:"reasons"`
	Facts    Facts    `json:"facts"`
}

// DefaultAdmission returns the admission paths of 二.2: the standard path over equipment,
// compliance, total emissions, monitoring, risk management, disclosure, credit and
// rectification; and the path for small low-emission, low-risk, job-rich firms.
func DefaultAdmission() []AdmissionPath {
	return []AdmissionPath{
		{Name: "standard", Label: "守法模范企业 (model compliant enterprise)", Conditions: []Condition{
			{Fact: "equipment_level", Op: "in", Value: []any{"advanced", "leading"}, Label: "装备水平 equipment level advanced or leading"},
			{Fact: "discharge_compliant", Op: "true", Label: "达标排放 discharges meet standards"},
			{Fact: "total_emissions_within_permit", Op: "true", Label: "排放总量 total emissions within the permitted amount"},
			{Fact: "monitoring_connected", Op: "true", Label: "监控系统联网 online monitoring connected"},
			{Fact: "risk_management", Op: "true", Label: "环境风险管理能力 risk management in place"},
			{Fact: "information_disclosed", Op: "true", Label: "环境信息公开 environmental information disclosed"},
			{Fact: "credit_rating", Op: "in", Value: []any{"A", "B"}, Label: "环保信用评价 environmental credit rating A or B"},
			{Fact: "rectification_complete", Op: "true", Label: "整改落实 past rectifications completed"},
		}},
		{Name: "small_low_emission", Label: "排放量小、风险低、吸纳就业能力强的小微企业 (small, low-emission, low-risk, job-rich)", Conditions: []Condition{
			{Fact: "discharge_compliant", Op: "true", Label: "达标排放 discharges meet standards"},
			{Fact: "annual_emissions_t", Op: "lte", Value: 1.0, Label: "年排放量 annual emissions at most 1 t"},
			{Fact: "environmental_risk", Op: "eq", Value: "low", Label: "环境风险低 environmental risk low"},
			{Fact: "employees", Op: "gte", Value: 20.0, Label: "吸纳就业 at least 20 employees"},
		}},
	}
}

var knownOps = map[string]bool{"true": true, "false": true, "eq": true, "ne": true, "gte": true, "lte": true, "in": true}

func (p AdmissionPath) validate() error {
	if p.Name == "" {
		return fmt.Errorf("name is empty")
	}
	if len(p.Conditions) == 0 {
		return fmt.Errorf("path %q has no conditions", p.Name)
	}
	for i, c := range p.Conditions {
		if c.Fact == "" {
			return fmt.Errorf("path %q condition %d: fact is empty", p.Name, i)
		}
		if !knownOps[c.Op] {
			return fmt.Errorf("path %q condition %d (%s): op %q is not one of true, false, eq, ne, gte, lte, in", p.Name, i, c.Fact, c.Op)
		}
		switch c.Op {
		case "gte", "lte":
			if _, ok := c.Value.(float64); !ok {
				return fmt.Errorf("path %q condition %d (%s): op %s needs a number value", p.Name, i, c.Fact, c.Op)
			}
		case "in":
			l, ok := c.Value.([]any)
			if !ok || len(l) == 0 {
				return fmt.Errorf("path %q condition %d (%s): op in needs a non-empty list value", p.Name, i, c.Fact)
			}
		case "eq", "ne":
			switch c.Value.(type) {
			case string, float64, bool:
			default:
				return fmt.Errorf("path %q condition %d (%s): op %s needs a string, number or boolean value", p.Name, i, c.Fact, c.Op)
			}
		}
	}
	return nil
}

// Evaluate checks facts against the admission paths and explains every condition.
func Evaluate(paths []AdmissionPath, facts Facts) Evaluation {
	ev := Evaluation{Facts: facts}
	for _, p := range paths {
		all := true
		for _, c := range p.Conditions {
			ok, m := c.eval(facts)
			all = all && ok
			ev.Reasons = append(ev.Reasons, Reason{Path: p.Name, Fact: c.Fact, Label: c.Label, Passed: ok, Detail: m.Text(msgs.EN), DetailMessage: m})
		}
		if all && !ev.Admitted {
			ev.Admitted, ev.Path = true, p.Name
		}
	}
	return ev
}

func (c Condition) eval(facts Facts) (bool, msgs.Message) {
	fact := func(code msgs.Code, kv ...string) msgs.Message {
		return msgs.New(code, append([]string{"fact", c.Fact}, kv...)...)
	}
	v, ok := facts[c.Fact]
	if !ok || v == nil {
		return false, fact(msgs.EvalMissing)
	}
	switch c.Op {
	case "true", "false":
		b, ok := v.(bool)
		if !ok {
			return false, fact(msgs.EvalNotBool, "value", fmt.Sprint(v))
		}
		want := c.Op == "true"
		if b != want {
			return false, fact(msgs.EvalMustBe, "value", strconv.FormatBool(b), "want", strconv.FormatBool(want))
		}
		return true, fact(msgs.EvalIs, "value", strconv.FormatBool(b))
	case "gte", "lte":
		n, ok := v.(float64)
		if !ok {
			return false, fact(msgs.EvalNotNumber, "value", fmt.Sprint(v))
		}
		lim := c.Value.(float64)
		if c.Op == "gte" && n < lim {
			return false, fact(msgs.EvalAtLeast, "value", number(n), "limit", number(lim))
		}
		if c.Op == "lte" && n > lim {
			return false, fact(msgs.EvalAtMost, "value", number(n), "limit", number(lim))
		}
		return true, fact(msgs.EvalIs, "value", number(n))
	case "eq", "ne":
		eq := fmt.Sprint(v) == fmt.Sprint(c.Value)
		if eq != (c.Op == "eq") {
			if c.Op == "eq" {
				return false, fact(msgs.EvalMustBe, "value", fmt.Sprint(v), "want", fmt.Sprint(c.Value))
			}
			return false, fact(msgs.EvalMustNotBe, "value", fmt.Sprint(v))
		}
		return true, fact(msgs.EvalIs, "value", fmt.Sprint(v))
	case "in":
		var allowed []string
		for _, a := range c.Value.([]any) {
			allowed = append(allowed, fmt.Sprint(a))
		}
		s := fmt.Sprint(v)
		for _, a := range allowed {
			if s == a {
				return true, fact(msgs.EvalIs, "value", s)
			}
		}
		sort.Strings(allowed)
		return false, fact(msgs.EvalOneOf, "value", s, "allowed", strings.Join(allowed, ", "))
	}
	return false, msgs.New(msgs.EvalUnknownOp, "op", c.Op)
}

// number writes n as %g does.
func number(n float64) string { return strconv.FormatFloat(n, 'g', -1, 64) }
