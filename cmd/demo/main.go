// Command demo runs Offsite's demo survey against a running API and worker: it generates two
// dates of a small Sentinel-2-like UTM scene of an industrial park with GDAL (new roofs on two
// parcels in the later one), registers an enterprise and six parcels, uploads both scenes
// through presigned URLs and registers them, waits for the workers to clip them, queues a
// survey that runs the sentinel2 pipeline, and prints the clips and the findings. It exits 0
// only if every parcel was clipped and exactly the two changed parcels have findings.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/offsite/offsite/internal/apiclient"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/sample"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// The demo area: around Suzhou Industrial Park, UTM 51N, 10 m pixels. Each run places its
// 4 km square elsewhere on a 5 km lattice (see run), so that captures left in the database
// by earlier runs neither fall in this run's survey zone nor pair with its captures.
const (
	epsg  = 32651
	baseX = 260000.0
	baseY = 3450000.0
)

// demoParcels are rectangles (x, y of the lower-left corner, width, height, in metres from the
// scene's upper-left corner; y grows downwards).
var demoParcels = []struct {
	id, name   string
	x, y, w, h float64
}{
	{"SIP-001", "苏州某精细化工有限公司", 300, 900, 600, 400},
	{"SIP-002", "某电子材料有限公司", 1200, 700, 450, 450},
	{"SIP-003", "某金属表面处理有限公司", 2000, 1500, 800, 300},
	{"SIP-004", "某印染有限公司", 600, 2400, 350, 700},
	{"SIP-005", "某建材有限公司", 2600, 3000, 900, 900},
	{"SIP-006", "某污水处理有限公司", 3300, 800, 500, 650},
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	api := fs.String("api", "http://127.0.0.1:8080", "Offsite API base URL")
	dir := fs.String("dir", "", "directory for the generated scene and parcels (default: a temporary one)")
	timeout := fs.Duration("timeout", 3*time.Minute, "how long to wait for the worker")
	receiver := fs.String("receiver", "", "HJ 212 receiver host:port the simulated loggers send to; empty: their data is written through the store")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "offsite-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	} else if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	c := apiclient.New(*api, os.Getenv("OFFSITE_DEMO_TOKEN"))
	n := time.Now().Unix()
	x0, y0 := baseX+float64(n%20)*5000, baseY+float64(n/20%20)*5000

	// 1. Two dates of a 4 km x 4 km Sentinel-2-like scene (seven bands and SCL); the later one
	// differs by gain and offset, as two dates do, and has new roofs on SIP-002 and SIP-005.
	roofs := []sample.Rect{{R0: 80, C0: 130, R1: 100, C1: 150}, {R0: 320, C0: 280, R1: 345, C1: 310}}
	changed := map[string]bool{"SIP-002": true, "SIP-005": true}
	var scenes [2]string
	for i, after := range []bool{false, true} {
		sc := sample.Sentinel2(epsg, x0, y0, 400, 400, after, roofs)
		path, err := sc.Write(*dir, []string{"before.tif", "after.tif"}[i])
		if err != nil {
			return err
		}
		scenes[i] = path
		fmt.Fprintf(stdout, "scene    %s  (%dx%d, %d bands, EPSG:%d)\n", path, sc.Width, sc.Height, sc.Bands, epsg)
	}

	// 2. The enterprise that owns SIP-002, and the parcels, drawn in the scene's CRS and
	// stored as WGS84 GeoJSON.
	check, err := enforce.USCCCheckChar("91320594MA1W6K2Q3")
	if err != nil {
		return err
	}
	uscc := "91320594MA1W6K2Q3" + string(check)
	err = c.Do(ctx, "POST", "/api/v1/enterprises", map[string]any{
		"uscc": uscc, "name": demoParcels[1].name, "industry": "C3985", "permit_no": uscc + "001P",
		"address": "苏州工业园区", "zone": "SIP", "location": []float64{120.72, 31.33}, "complaint_channel": "12369",
	}, nil)
	if err != nil && !strings.Contains(err.Error(), "409") {
		return fmt.Errorf("register enterprise: %w", err)
	}
	var feats []sample.Feature
	for _, p := range demoParcels {
		f, err := sample.RectParcel(epsg, p.id, p.name, x0+p.x, y0-p.y-p.h, p.w, p.h)
		if err != nil {
			return err
		}
		if p.id == "SIP-002" {
			f.Properties["uscc"] = uscc
		}
		feats = append(feats, f)
	}
	fc, err := sample.FeatureCollection(feats)
	if err != nil {
		return err
	}
	parcelsPath := filepath.Join(*dir, "parcels.geojson")
	if err := os.WriteFile(parcelsPath, fc, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "parcels  %s  (%d parcels; SIP-002 belongs to %s)\n", parcelsPath, len(feats), uscc)
	if err := c.Do(ctx, "POST", "/api/v1/parcels", fc, nil); err != nil {
		return fmt.Errorf("register parcels: %w", err)
	}

	// 3. Upload both dates through presigned URLs and register them; each is ingested and
	// clipped to every parcel it covers.
	stamp := time.Now().UTC().Format("20060102T150405.000000000")
	var ids [2]int64
	for i, path := range scenes {
		key := fmt.Sprintf("demo/%s/%s", stamp, filepath.Base(path))
		var up apiclient.Upload
		if err := c.Do(ctx, "POST", "/api/v1/uploads", map[string]string{"key": key}, &up); err != nil {
			return fmt.Errorf("presign upload: %w", err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := c.Put(ctx, up, data); err != nil {
			return fmt.Errorf("upload scene: %w", err)
		}
		var capture struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		}
		at := time.Now().UTC().Add(-time.Duration(60-59*i) * 24 * time.Hour)
		err = c.Do(ctx, "POST", "/api/v1/captures", map[string]string{
			"kind": "sentinel2", "acquired_at": at.Format(time.RFC3339), "sensor": "demo", "key": key,
		}, &capture)
		if err != nil {
			return fmt.Errorf("register capture: %w", err)
		}
		ids[i] = capture.ID
		fmt.Fprintf(stdout, "capture  %d  %s  acquired %s  (%s)\n", capture.ID, key, at.Format("2006-01-02"), capture.Status)
	}

	// 4. Wait for the workers to clip both.
	start := time.Now()
	for _, id := range ids {
		var got struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		for {
			if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/captures/%d", id), nil, &got); err != nil {
				return err
			}
			if got.Status == "processed" || got.Status == "failed" {
				break
			}
			if time.Since(start) > *timeout {
				return fmt.Errorf("capture %d still %q after %s: is the worker running?", id, got.Status, *timeout)
			}
			if err := sleep(ctx, 250*time.Millisecond); err != nil {
				return err
			}
		}
		if got.Status == "failed" {
			return fmt.Errorf("capture %d failed: %s", id, got.Error)
		}
	}
	fmt.Fprintf(stdout, "both captures clipped in %.1fs\n\n", time.Since(start).Seconds())

	var clips struct {
		Clips []struct {
			ParcelID     string `json:"parcel_id"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			ValidPixels  int64  `json:"valid_pixels"`
			COGKey       string `json:"cog_key"`
			COGBytes     int64  `json:"cog_bytes"`
			QuickLookKey string `json:"quicklook_key"`
		} `json:"clips"`
	}
	if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/captures/%d/clips", ids[1]), nil, &clips); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "CLIPS OF CAPTURE %d\nPARCEL\tSIZE\tVALID PX\tCOG BYTES\tCOG KEY\tQUICK-LOOK KEY\n", ids[1])
	clipped := map[string]bool{}
	for _, cl := range clips.Clips {
		clipped[cl.ParcelID] = true
		fmt.Fprintf(tw, "%s\t%dx%d\t%d\t%d\t%s\t%s\n", cl.ParcelID, cl.Width, cl.Height, cl.ValidPixels, cl.COGBytes, cl.COGKey, cl.QuickLookKey)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var missing []string
	for _, p := range demoParcels {
		if !clipped[p.id] {
			missing = append(missing, p.id)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d of %d parcels were not clipped: %s", len(missing), len(demoParcels), strings.Join(missing, ", "))
	}

	// 5. A survey over the park: the pipeline runs on each capture, the later one paired with
	// the earlier.
	ring, err := sample.ToLonLat(epsg, [][2]float64{{x0, y0 - 4000}, {x0 + 4000, y0 - 4000}, {x0 + 4000, y0}, {x0, y0}})
	if err != nil {
		return err
	}
	ring = append(ring, ring[0])
	var sv struct {
		ID       int64          `json:"id"`
		Status   string         `json:"status"`
		Error    string         `json:"error"`
		Progress map[string]int `json:"progress"`
	}
	err = c.Do(ctx, "POST", "/api/v1/surveys", map[string]any{
		"name": "Suzhou Industrial Park, last 90 days", "zone": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}},
		"start": time.Now().UTC().Add(-90 * 24 * time.Hour).Format(time.RFC3339), "end": time.Now().UTC().Add(time.Hour).Format(time.RFC3339),
		"kinds": []string{"sentinel2"}, "pipeline": "sentinel2",
	}, &sv)
	if err != nil {
		return fmt.Errorf("queue survey: %w", err)
	}
	fmt.Fprintf(stdout, "\nsurvey   %d queued: %d captures\n", sv.ID, sv.Progress["total"])
	start = time.Now()
	for sv.Status != "finished" && sv.Status != "error" && sv.Status != "canceled" {
		if time.Since(start) > *timeout {
			return fmt.Errorf("survey %d still %q after %s", sv.ID, sv.Status, *timeout)
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return err
		}
		if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/surveys/%d", sv.ID), nil, &sv); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "survey   %d %s in %.1fs: %d done, %d failed, %d findings\n\n", sv.ID, sv.Status,
		time.Since(start).Seconds(), sv.Progress["done"], sv.Progress["failed"], sv.Progress["findings"])
	if sv.Status != "finished" || sv.Progress["failed"] > 0 {
		var parts struct {
			Parts []struct {
				CaptureID int64  `json:"capture_id"`
				Error     string `json:"error"`
			} `json:"parts"`
		}
		_ = c.Do(ctx, "GET", fmt.Sprintf("/api/v1/surveys/%d/parts", sv.ID), nil, &parts)
		for _, p := range parts.Parts {
			if p.Error != "" {
				fmt.Fprintf(stdout, "capture %d failed: %s\n", p.CaptureID, p.Error)
			}
		}
		return fmt.Errorf("survey %d ended %s with %d failed parts %s", sv.ID, sv.Status, sv.Progress["failed"], sv.Error)
	}

	// 6. The findings, and what they set off.
	var found struct {
		Features []struct {
			Properties struct {
				ParcelID  string            `json:"parcel_id"`
				Kind      string            `json:"kind"`
				Class     string            `json:"class"`
				Score     float64           `json:"score"`
				AreaM2    float64           `json:"area_m2"`
				Severity  string            `json:"severity"`
				Artifacts []json.RawMessage `json:"artifacts"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/findings?capture_id=%d", ids[1]), nil, &found); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FINDINGS\nPARCEL\tKIND\tCLASS\tSCORE\tAREA m²\tSEVERITY\tARTIFACTS")
	hit := map[string]bool{}
	for _, f := range found.Features {
		p := f.Properties
		hit[p.ParcelID] = true
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%.0f\t%s\t%d\n", p.ParcelID, p.Kind, p.Class, p.Score, p.AreaM2, p.Severity, len(p.Artifacts))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for id := range changed {
		if !hit[id] {
			return fmt.Errorf("the new roof on %s was not found", id)
		}
	}
	for id := range hit {
		if !changed[id] {
			return fmt.Errorf("a finding on %s, where nothing changed", id)
		}
	}
	var insp struct {
		Inspections []json.RawMessage `json:"inspections"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/inspections?uscc="+uscc, nil, &insp); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nall %d parcels clipped; the changes on %d parcels found; %d off-site inspection(s) open on %s\n",
		len(demoParcels), len(changed), len(insp.Inspections), uscc)

	// 7. Automatic monitoring: simulated data loggers, one of which exceeds its limit.
	return runMonitoring(ctx, c, uscc, *receiver, *timeout, stdout)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
