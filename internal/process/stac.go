package process

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/stac"
)

// STACDir is the folder of the static STAC catalog WriteSTAC writes beside a run's outputs.
const STACDir = "stac"

// WriteSTAC writes a static STAC catalog of a run into sink under STACDir: catalog.json, and
// for each collection (captures: the inputs; clips: each parcel's clip and quick-look of
// each date; findings: each finding's provenance with its files as assets) a
// collection.json and one Item file per Item. Capture Items name their input file and its
// SHA-256 in properties (the inputs stay where they are); every other asset href is
// relative, to a file of the run. The Items are built by the same functions as
// the API's (internal/stac), with relative links instead of the API's URLs; inputs are
// numbered 1, 2, … in the manifest's order, as capture ids. It returns the refs written.
func WriteSTAC(ctx context.Context, sink Sink, in Inputs, res *Result) ([]string, error) {
	m := res.Manifest
	byPath := map[string]ManifestEntry{}
	for _, a := range m.Artifacts {
		byPath[a.Path] = a
	}
	// Relative hrefs: Items are at stac/{collection}/{id}.json, the run's files at its root.
	h := stac.Hrefs{
		Object: func(key string) string { return "../../" + key },
		Item: func(collection, id string) string {
			if id == "" {
				return "../" + collection + "/collection.json"
			}
			return "../" + collection + "/" + itemFile(id)
		},
	}
	runTime := time.Time{}
	if m.Time != "" {
		runTime, _ = time.Parse(time.RFC3339, m.Time)
	}
	// Acquisition times of the inputs, from the findings' provenance links.
	acquired := map[string]time.Time{}
	for _, f := range res.Findings {
		if f.Provenance == nil {
			continue
		}
		for _, l := range f.Provenance.Links {
			if t, err := time.Parse(time.RFC3339, l.Datetime); err == nil && l.Datetime != "" {
				acquired[l.Role] = t
			}
		}
	}
	type written struct {
		collection string
		item       *stac.Item
	}
	var items []written
	// Captures: the inputs.
	captureOf := map[string]int64{} // role → capture id of its first input
	for i, inp := range m.Inputs {
		id := int64(i + 1)
		if _, ok := captureOf[inp.Role]; !ok {
			captureOf[inp.Role] = id
		}
		at := acquired[inp.Role]
		if at.IsZero() {
			at = runTime
		}
		c := &offsite.Capture{ID: id, Kind: in.Pipeline.Kind, AcquiredAt: at, Key: inp.Path, Checksum: inp.SHA256, SizeBytes: inp.Size, Status: offsite.CaptureProcessed}
		// No data asset: the input is not copied into the run's folder, and a relative href
		// to a file outside it would not resolve; its name and checksum are properties.
		it := stac.CaptureItem(c, h)
		it.Properties["offsite:role"] = inp.Role
		it.Properties["offsite:input"] = inp.Path
		it.Properties["offsite:sha256"] = inp.SHA256
		it.Properties["offsite:size"] = inp.Size
		items = append(items, written{stac.CollectionCaptures, it})
	}
	// Clips: parcels/{parcel}/{role}-{stem}.tif and .png.
	parcels := map[string]*offsite.Parcel{}
	for _, p := range in.Parcels {
		parcels[p.ParcelID] = &offsite.Parcel{ID: p.ParcelID, EnterpriseUSCC: p.USCC, Name: p.Name, Geometry: p.Geometry}
	}
	clips := map[string]*offsite.Clip{}
	var clipIDs []string
	for _, a := range m.Artifacts {
		parts := strings.Split(a.Path, "/")
		if len(parts) != 3 || parts[0] != "parcels" {
			continue
		}
		role, _, _ := strings.Cut(parts[2], "-")
		capID := captureOf[role]
		if capID == 0 {
			continue
		}
		key := stac.ClipID(capID, parts[1])
		cl := clips[key]
		if cl == nil {
			cl = &offsite.Clip{CaptureID: capID, ParcelID: parts[1], CreatedAt: runTime}
			clips[key] = cl
			clipIDs = append(clipIDs, key)
		}
		switch path.Ext(a.Path) {
		case ".tif":
			cl.COGKey, cl.COGSHA256, cl.COGBytes = a.Path, a.SHA256, a.Size
		case ".png":
			cl.QuickLookKey, cl.QuickLookSHA256 = a.Path, a.SHA256
		}
	}
	sort.Strings(clipIDs)
	for _, id := range clipIDs {
		cl := clips[id]
		if cl.COGKey == "" {
			continue
		}
		var capture *offsite.Capture
		for _, w := range items {
			if w.collection == stac.CollectionCaptures && w.item.ID == strconv.FormatInt(cl.CaptureID, 10) {
				if t, err := time.Parse(time.RFC3339, fmt.Sprint(w.item.Properties["datetime"])); err == nil {
					capture = &offsite.Capture{ID: cl.CaptureID, AcquiredAt: t}
				}
			}
		}
		items = append(items, written{stac.CollectionClips, stac.ClipItem(cl, parcels[cl.ParcelID], capture, h)})
	}
	// Findings.
	for _, f := range res.Findings {
		prov, err := json.Marshal(f.Provenance)
		if err != nil {
			return nil, fmt.Errorf("process: stac: %w", err)
		}
		of := &offsite.Finding{ID: f.ID, ParcelID: f.ParcelID, Kind: f.Detect.Kind, Class: f.Detect.Class, Score: f.Detect.Score,
			AreaM2: f.AreaM2, Severity: f.Severity, Geometry: f.Geometry, Provenance: prov}
		if t, err := time.Parse(time.RFC3339, fmt.Sprint(f.Provenance.Properties["datetime"])); err == nil {
			of.DetectedAt = t
		} else {
			of.DetectedAt = runTime
		}
		for _, ref := range f.Artifacts {
			if a, ok := byPath[ref]; ok {
				of.Artifacts = append(of.Artifacts, offsite.Artifact{Name: path.Base(a.Path), Key: a.Path, SHA256: a.SHA256, Size: a.Size, MediaType: a.MediaType})
			}
		}
		var owner offsite.Owner
		if p := parcels[f.ParcelID]; p != nil && p.EnterpriseUSCC != "" {
			owner = offsite.Owner{USCC: p.EnterpriseUSCC, Name: p.Name}
		}
		it, err := stac.FindingItem(of, owner, h)
		if err != nil {
			return nil, err
		}
		for i, l := range it.Links { // inputs by their capture Items, as the API links them
			if l.Rel == "derived_from" && l.CaptureID == 0 {
				if id := captureOf[l.Role]; id != 0 {
					it.Links[i].Href = h.Item(stac.CollectionCaptures, strconv.FormatInt(id, 10))
				}
			}
		}
		items = append(items, written{stac.CollectionFindings, it})
	}

	var refs []string
	put := func(name string, v any) error {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		ref, _, err := sink.Put(ctx, STACDir+"/"+name, append(data, '\n'), MediaJSON)
		refs = append(refs, ref)
		return err
	}
	type link struct {
		Rel   string `json:"rel"`
		Href  string `json:"href"`
		Type  string `json:"type,omitempty"`
		Title string `json:"title,omitempty"`
	}
	catalog := map[string]any{"type": "Catalog", "stac_version": "1.0.0", "id": "offsite-run",
		"description": fmt.Sprintf("worker process: pipeline %s (sha256 %s), %d findings", m.Pipeline, m.PipelineHash, len(res.Findings)),
		"links":       []link{{"self", "./catalog.json", "application/json", ""}, {"root", "./catalog.json", "application/json", ""}}}
	for _, coll := range []string{stac.CollectionCaptures, stac.CollectionClips, stac.CollectionFindings} {
		catalog["links"] = append(catalog["links"].([]link), link{"child", "./" + coll + "/collection.json", "application/json", coll})
		var bound []float64
		var start, end string
		links := []link{{"self", "./collection.json", "application/json", ""}, {"root", "../catalog.json", "application/json", ""},
			{"parent", "../catalog.json", "application/json", ""}}
		for _, w := range items {
			if w.collection != coll {
				continue
			}
			links = append(links, link{"item", "./" + itemFile(w.item.ID), "application/geo+json", ""})
			if b := w.item.BBox; len(b) == 4 {
				if bound == nil {
					bound = append([]float64(nil), b...)
				}
				bound = []float64{min(bound[0], b[0]), min(bound[1], b[1]), max(bound[2], b[2]), max(bound[3], b[3])}
			}
			if dt, ok := w.item.Properties["datetime"].(string); ok {
				if start == "" || dt < start {
					start = dt
				}
				if dt > end {
					end = dt
				}
			}
			w.item.Links = append(w.item.Links, stac.Link{Rel: "root", Href: "../catalog.json", Type: "application/json"})
			if err := put(coll+"/"+itemFile(w.item.ID), w.item); err != nil {
				return refs, fmt.Errorf("process: stac: %w", err)
			}
		}
		if bound == nil {
			bound = []float64{-180, -90, 180, 90}
		}
		interval := []any{nil, nil}
		if start != "" {
			interval = []any{start, end}
		}
		if err := put(coll+"/collection.json", map[string]any{"type": "Collection", "stac_version": "1.0.0", "id": coll,
			"description": "worker process: " + coll, "license": "proprietary", "stac_extensions": stac.Extensions,
			"extent": map[string]any{"spatial": map[string]any{"bbox": [][]float64{bound}}, "temporal": map[string]any{"interval": [][]any{interval}}},
			"links":  links}); err != nil {
			return refs, fmt.Errorf("process: stac: %w", err)
		}
	}
	if err := put("catalog.json", catalog); err != nil {
		return refs, fmt.Errorf("process: stac: %w", err)
	}
	return refs, nil
}

// itemFile is the file name of an Item: its id, made safe as a file name.
func itemFile(id string) string { return safeStem(id) + ".json" }
