package casefile

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// The case file is laid out once as blocks; the PDF and DOCX writers each render the blocks.
type blockKind int

const (
	bHeading blockKind = iota
	bPara
	bTable  // header + rows; a key-value list is a table without header
	bImages // one or more images side by side, each with a caption
)

type block struct {
	kind   blockKind
	level  int // heading level 1..3
	text   string
	small  bool     // a paragraph in small type
	header []string // table header; nil for a key-value list
	rows   [][]string
	widths []float64 // column widths as fractions of the text width
	images []figure
}

type figure struct {
	png     []byte
	caption string
	width   float64 // fraction of the text width
}

// timeText formats t in China Standard Time, as officers read it, with the zone named.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(cst).Format("2006-01-02 15:04:05") + " (UTC+8)"
}

func timePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return timeText(*t)
}

var cst = time.FixedZone("CST", 8*3600)

// blocks lays out the case file.
func (c *Case) blocks() []block {
	l := c.labels()
	var bs []block
	add := func(b block) { bs = append(bs, b) }
	kv := func(rows ...[]string) {
		var keep [][]string
		for _, r := range rows {
			if r[1] != "" {
				keep = append(keep, r)
			}
		}
		add(block{kind: bTable, rows: keep, widths: []float64{0.32, 0.68}})
	}
	add(block{kind: bHeading, level: 1, text: c.Title()})
	add(block{kind: bPara, small: true, text: fmt.Sprintf("%s: %s    %s: %s", l.generated, timeText(c.GeneratedAt), l.generatedBy, c.GeneratedBy)})

	e := c.Enterprise
	add(block{kind: bHeading, level: 2, text: l.secEnterprise})
	status := l.none
	if e.ListStatus != "" {
		status = l.value(string(e.ListStatus))
	}
	kv([]string{l.name, e.Name}, []string{l.uscc, e.USCC}, []string{l.permitNo, orNone(l, e.PermitNo)},
		[]string{l.listStatus, status}, []string{l.industry, e.Industry}, []string{l.address, e.Address},
		[]string{l.zone, e.Zone}, []string{l.keyDischarger, l.yesNo(e.KeyDischarger)},
		[]string{l.complaint, e.ComplaintChannel}, []string{l.barred, yesOnly(l, e.Barred, e.BarredReason)},
		[]string{l.specialSupervision, yesOnly(l, e.SpecialSupervision, "")}, []string{l.legacyUSCC, yesOnly(l, e.LegacyUSCC, "")})

	if in := c.Inspection; in != nil {
		add(block{kind: bHeading, level: 2, text: l.secInspection})
		linked := ""
		if in.LinkedTo != nil {
			linked = strconv.FormatInt(*in.LinkedTo, 10)
		}
		kv([]string{l.inspID, strconv.FormatInt(in.ID, 10)}, []string{l.level, l.value(string(in.Level))},
			[]string{l.matter, in.Matter}, []string{l.status, l.value(string(in.Status))},
			[]string{l.listedAtOpening, l.yesNo(in.Listed)}, []string{l.openedBy, in.OpenedBy},
			[]string{l.openedAt, timeText(in.OpenedAt)}, []string{l.closedAt, timePtr(in.ClosedAt)},
			[]string{l.closeNote, in.CloseNote}, []string{l.linkedTo, linked})
		if len(in.Warnings) > 0 {
			add(block{kind: bHeading, level: 3, text: l.warnings})
			t := block{kind: bTable, header: []string{l.time, l.warningSource, l.severity, l.message}, widths: []float64{0.24, 0.18, 0.12, 0.46}}
			for _, w := range in.Warnings {
				msg := w.Message
				if w.Source == enforce.WarningFinding {
					msg += " (" + l.finding + " " + w.Ref + ")"
				}
				t.rows = append(t.rows, []string{timeText(w.CreatedAt), l.value(w.Source), l.value(w.Severity), msg})
			}
			add(t)
		}
		c.selfCheckBlocks(l, add, kv)
	} else {
		add(block{kind: bHeading, level: 2, text: l.secInspections})
		if len(c.Inspections) == 0 {
			add(block{kind: bPara, text: l.none})
		} else {
			t := block{kind: bTable, header: []string{l.inspID, l.status, l.matter, l.openedAt, l.closedAt}, widths: []float64{0.1, 0.2, 0.3, 0.2, 0.2}}
			for _, in := range c.Inspections {
				t.rows = append(t.rows, []string{strconv.FormatInt(in.ID, 10), l.value(string(in.Status)), in.Matter, timeText(in.OpenedAt), timePtr(in.ClosedAt)})
			}
			add(t)
		}
	}

	add(block{kind: bHeading, level: 2, text: l.secParcels})
	if len(c.Parcels) == 0 {
		add(block{kind: bPara, text: l.none})
	}
	for _, p := range c.Parcels {
		c.parcelBlocks(l, p, add, kv)
	}

	add(block{kind: bHeading, level: 2, text: l.secArtifacts})
	c.artifactBlocks(l, add)

	add(block{kind: bHeading, level: 2, text: l.secTimeline})
	if len(c.Timeline) == 0 {
		add(block{kind: bPara, text: l.none})
	} else {
		t := block{kind: bTable, header: []string{"#", l.time, l.actor, l.action, l.detail, l.hash}, widths: []float64{0.07, 0.17, 0.15, 0.16, 0.3, 0.15}}
		for _, a := range c.Timeline {
			t.rows = append(t.rows, []string{strconv.FormatInt(a.Seq, 10), timeText(a.At), a.Actor + " (" + l.value(string(a.Role)) + ")",
				l.value(string(a.Action)), a.Detail, a.Hash})
		}
		add(t)
	}
	if r := c.AuditCheck; r != nil {
		add(block{kind: bHeading, level: 3, text: l.secAuditCheck})
		res := l.auditIntact
		if r.FirstBroken != nil {
			res = fmt.Sprintf("%s%d (%s)", l.auditBroken, r.FirstBroken.Seq, r.FirstBroken.Reason)
		}
		rows := [][]string{{l.auditChecked, strconv.FormatInt(r.Checked, 10)}, {l.result, res}}
		if r.Checkpoint != nil {
			rows = append(rows, []string{l.auditCheckpoint, strconv.FormatInt(r.Checkpoint.Seq, 10) + " " + r.Checkpoint.Hash})
		}
		kv(rows...)
	}

	add(block{kind: bHeading, level: 2, text: l.secVerify})
	for _, s := range l.verifyText {
		add(block{kind: bPara, text: s})
	}
	return bs
}

func orNone(l *labels, s string) string {
	if s == "" {
		return l.none
	}
	return s
}

// yesOnly is "yes" (with a reason) when b, else "" (the row is left out).
func yesOnly(l *labels, b bool, reason string) string {
	if !b {
		return ""
	}
	if reason != "" {
		return l.yes + ": " + reason
	}
	return l.yes
}

func (c *Case) selfCheckBlocks(l *labels, add func(block), kv func(...[]string)) {
	in := c.Inspection
	if in.SelfCheckRequestedAt != nil || in.Report != nil {
		add(block{kind: bHeading, level: 3, text: l.secSelfCheck})
		kv([]string{l.requestedAt, timePtr(in.SelfCheckRequestedAt)}, []string{l.deadline, timePtr(in.SelfCheckDeadline)})
		if r := in.Report; r != nil {
			kv([]string{l.submittedBy, r.SubmittedBy}, []string{l.submittedAt, timeText(r.SubmittedAt)},
				[]string{l.late, l.yesNo(r.Late)}, []string{l.reportText, r.Text}, []string{l.reviewNotes, in.ReviewNotes})
		}
		if len(c.Proofs) > 0 {
			t := block{kind: bTable, header: []string{l.proof, l.mediaType, l.size, l.sha256}, widths: []float64{0.22, 0.16, 0.12, 0.5}}
			for _, p := range c.Proofs {
				t.rows = append(t.rows, []string{p.Name, p.MediaType, strconv.FormatInt(p.Size, 10), p.SHA256})
			}
			add(t)
		}
	}
	if sv := in.SiteVisit; sv != nil {
		add(block{kind: bHeading, level: 3, text: l.secSiteVisit})
		kv([]string{l.trigger, l.value(string(sv.Trigger))}, []string{l.reason, sv.Reason}, []string{l.requestedBy, sv.RequestedBy},
			[]string{l.visitRequestedAt, timeText(sv.RequestedAt)}, []string{l.approvedBy, sv.ApprovedBy}, []string{l.approvedAt, timePtr(sv.ApprovedAt)},
			[]string{l.visitedBy, sv.VisitedBy}, []string{l.visitedAt, timePtr(sv.VisitedAt)})
		if len(sv.Checklist) > 0 {
			t := block{kind: bTable, header: []string{l.checklist, l.result, l.note}, widths: []float64{0.45, 0.2, 0.35}}
			for _, it := range sv.Checklist {
				t.rows = append(t.rows, []string{it.Item, l.value(it.Result), it.Note})
			}
			add(t)
		}
	}
	if d := in.Disposition; d != nil {
		add(block{kind: bHeading, level: 3, text: l.secDisposition})
		kv([]string{l.rule, d.Rule}, []string{l.penalty, d.Penalty}, []string{l.waived, yesOnly(l, d.Waived, "")},
			[]string{l.removeFromList, yesOnly(l, d.RemoveFromList, "")}, []string{l.specialSupervision, yesOnly(l, d.SpecialSupervision, "")},
			[]string{l.publicDisclosure, yesOnly(l, d.PublicDisclosure, "")}, []string{l.policeReferral, yesOnly(l, d.PoliceReferral, "")},
			[]string{l.decidedBy, d.DecidedBy}, []string{l.decidedAt, timeText(d.DecidedAt)})
	}
}

// captureText is "date, sensor (kind)" of a capture, or its id when it is not known.
func captureText(l *labels, c *offsite.Capture, id int64) string {
	if c == nil {
		return fmt.Sprintf("%s #%d", l.captureID, id)
	}
	s := timeText(c.AcquiredAt)
	if c.Sensor != "" {
		s += ", " + c.Sensor
	}
	return s + " (" + l.value(c.Kind) + ")"
}

func (c *Case) parcelBlocks(l *labels, p Parcel, add func(block), kv func(...[]string)) {
	title := l.parcel + " " + p.Parcel.ID
	if p.Parcel.Name != "" {
		title += " " + p.Parcel.Name
	}
	add(block{kind: bHeading, level: 3, text: title})
	var geoms []orb.Geometry
	var bg []byte
	for _, f := range p.Findings {
		geoms = append(geoms, f.Geometry)
		if bg == nil && f.After != nil {
			bg = f.After.PNG
		}
	}
	if bg == nil { // the latest clip's quick-look
		for _, cl := range p.Clips {
			if cl.QuickLookPNG != nil {
				bg = cl.QuickLookPNG
				break
			}
		}
	}
	if p.Parcel.Geometry != nil {
		m, err := RenderMap(p.Parcel.Geometry, geoms, MapOptions{Background: bg})
		if err != nil {
			add(block{kind: bPara, text: err.Error()})
		} else {
			add(block{kind: bImages, images: []figure{{png: m, caption: l.mapCaption + l.sentenceEnd + l.mapNote, width: 0.8}}})
		}
	}
	for _, f := range p.Findings {
		kv([]string{l.finding, f.ID}, []string{l.kind, l.value(f.Kind)}, []string{l.class, l.value(f.Class)},
			[]string{l.score, strconv.FormatFloat(f.Score, 'f', 3, 64)}, []string{l.area, strconv.FormatFloat(f.AreaM2, 'f', 1, 64)},
			[]string{l.severity, l.value(f.Severity)}, []string{l.status, f.Status}, []string{l.detectedAt, timeText(f.DetectedAt)},
			[]string{l.pipeline, f.Pipeline})
		var figs []figure
		for _, x := range []struct {
			name string
			img  *Image
		}{{l.before, f.Before}, {l.after, f.After}} {
			if x.img == nil {
				continue
			}
			figs = append(figs, figure{png: x.img.PNG, caption: x.name + ": " + captureText(l, x.img.Capture, 0), width: 0.45})
		}
		if len(figs) > 0 {
			add(block{kind: bImages, images: figs})
		}
		for _, im := range f.Images {
			add(block{kind: bImages, images: []figure{{png: im.PNG, caption: l.image + ": " + im.Name + " (SHA-256 " + im.SHA256 + ")", width: 0.8}}})
		}
	}
}

func (c *Case) artifactBlocks(l *labels, add func(block)) {
	shown := false
	for _, p := range c.Parcels {
		for _, f := range p.Findings {
			shown = true
			add(block{kind: bHeading, level: 3, text: l.finding + " " + f.ID})
			t := block{kind: bTable, header: []string{l.artifact, l.size, l.sha256, l.key}, widths: []float64{0.16, 0.1, 0.42, 0.32}}
			for _, a := range f.Artifacts {
				t.rows = append(t.rows, []string{a.Name, strconv.FormatInt(a.Size, 10), a.SHA256, a.Key})
			}
			add(t)
			prov, err := readProvenance(f.Provenance)
			if err != nil {
				add(block{kind: bPara, text: l.provenance + ": " + err.Error()})
				continue
			}
			kv := [][]string{{l.pipeline, f.Pipeline}, {l.pipelineHash, firstNonEmpty(prov.Pipeline, f.PipelineHash)},
				{l.detector, prov.Detector}, {l.software, prov.Software}}
			var keep [][]string
			for _, r := range kv {
				if r[1] != "" {
					keep = append(keep, r)
				}
			}
			add(block{kind: bTable, rows: keep, widths: []float64{0.32, 0.68}})
			if len(prov.Inputs) > 0 {
				t := block{kind: bTable, header: []string{l.input, l.role, l.datetime, l.sha256}, widths: []float64{0.3, 0.1, 0.2, 0.4}}
				for _, in := range prov.Inputs {
					name := in.Href
					if in.CaptureID != 0 {
						name = fmt.Sprintf("%s #%d %s", l.captureID, in.CaptureID, in.Href)
					}
					t.rows = append(t.rows, []string{name, l.value(in.Role), in.Datetime, in.Checksum})
				}
				add(block{kind: bPara, small: true, text: l.provenance})
				add(t)
			}
		}
		if len(p.Clips) > 0 {
			shown = true
			add(block{kind: bHeading, level: 3, text: l.parcel + " " + p.Parcel.ID + ": " + l.clip})
			t := block{kind: bTable, header: []string{l.captureID, l.artifact, l.sha256, l.key}, widths: []float64{0.26, 0.1, 0.4, 0.24}}
			for _, cl := range p.Clips {
				capt := captureText(l, cl.Capture, cl.CaptureID)
				t.rows = append(t.rows, []string{capt, l.cog, cl.COGSHA256, cl.COGKey}, []string{capt, l.quicklook, cl.QuickLookSHA256, cl.QuickLookKey})
			}
			add(t)
		}
	}
	if !shown {
		add(block{kind: bPara, text: l.none})
	}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if strings.TrimSpace(x) != "" {
			return x
		}
	}
	return ""
}
