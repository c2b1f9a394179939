package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offsite/offsite/cmd/internal/cmdconfig"
	"github.com/offsite/offsite/internal/geo"
	"github.com/offsite/offsite/internal/process"
	"github.com/offsite/offsite/internal/raster"
)

const clipUsage = `usage: worker clip --scene FILE|s3://bucket/key --parcels FILE --out DIR [--all-touched] [--gcj02] [--repair] [--id-property NAME]

Clips a scene to every parcel it intersects, with the same code the workers run, and writes
DIR/<parcel_id>.tif (a COG) and DIR/<parcel_id>.png (a quick-look) for each. Parcels come from
GeoJSON, Shapefile, GeoPackage or KML. An s3:// scene must be in the configured captures
bucket (OFFSITE_S3_* variables).
`

// runClip is `worker clip`.
func runClip(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clip", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, clipUsage); fs.PrintDefaults() }
	scene := fs.String("scene", "", "scene: a local GeoTIFF or s3://bucket/key")
	parcelsPath := fs.String("parcels", "", "parcels file (.geojson, .json, .shp, .gpkg, .kml)")
	out := fs.String("out", "", "output directory (created if missing)")
	allTouched := fs.Bool("all-touched", false, "take every pixel a parcel touches, not only those whose centre is inside")
	gcj02 := fs.Bool("gcj02", false, "parcel coordinates are GCJ-02 (Chinese web maps): convert them to WGS84")
	repair := fs.Bool("repair", false, "repair invalid parcel geometries with GDAL's MakeValid instead of refusing them")
	noPNG := fs.Bool("no-quicklook", false, "write only the COGs")
	idProp := fs.String("id-property", "parcel_id", "attribute that holds the parcel id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("clip: unexpected arguments %q", fs.Args())
	}
	for name, v := range map[string]string{"--scene": *scene, "--parcels": *parcelsPath, "--out": *out} {
		if v == "" {
			fs.Usage()
			return fmt.Errorf("clip: %s is required", name)
		}
	}

	env := raster.Env{AllowLocalFiles: true}
	var src raster.Source
	if rest, ok := strings.CutPrefix(*scene, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		cfg, err := cmdconfig.FromEnv()
		if err != nil {
			return err
		}
		env = cfg.Raster()
		src = raster.S3Source(bucket, key)
	} else {
		// The operator named this file: make it absolute (and so free of "..").
		abs, err := filepath.Abs(*scene)
		if err != nil {
			return fmt.Errorf("clip: scene %s: %w", *scene, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("clip: scene %s: %w", *scene, err)
		}
		src = raster.FileSource(abs)
	}
	if err := env.CheckSource(src); err != nil {
		return fmt.Errorf("clip: scene %s: %w", *scene, err)
	}

	feats, err := readParcels(ctx, *parcelsPath, *idProp, *gcj02, *repair)
	if err != nil {
		return fmt.Errorf("clip: %w", err)
	}
	parcels := make([]raster.Parcel, len(feats))
	for i, f := range feats {
		if err := process.CheckParcelID(f.ParcelID); err != nil {
			return fmt.Errorf("clip: parcels %s: feature %d: parcel_id %q cannot name a file: %v", *parcelsPath, f.Index, f.ParcelID, err)
		}
		parcels[i] = raster.Parcel{ID: f.ParcelID, Geometry: f.Geometry}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("clip: %w", err)
	}

	start := time.Now()
	stats, err := raster.Clip(ctx, env, src, parcels, raster.ClipOptions{AllTouched: *allTouched, SkipQuickLook: *noPNG}, func(o raster.ClipOutput) error {
		if err := os.WriteFile(filepath.Join(*out, o.ParcelID+".tif"), o.COG, 0o644); err != nil {
			return err
		}
		if *noPNG {
			return nil
		}
		return os.WriteFile(filepath.Join(*out, o.ParcelID+".png"), o.QuickLook, 0o644)
	})
	if err != nil {
		return fmt.Errorf("clip: %s: %w", *scene, err)
	}
	fetched := ""
	if stats.BytesFetched >= 0 && src.Path == "" {
		fetched = fmt.Sprintf(", %d bytes fetched", stats.BytesFetched)
	}
	fmt.Fprintf(stdout, "clip: %d of %d parcels clipped (%d outside the scene), %d blocks read%s, %.2fs → %s\n",
		stats.Clipped, stats.Parcels, stats.Missed, stats.BlocksRead, fetched, time.Since(start).Seconds(), *out)
	return nil
}

// readParcels reads and validates the parcels file named on the command line; with repair,
// invalid geometries come back repaired (GDAL's MakeValid) instead of refused.
func readParcels(ctx context.Context, path, idProp string, gcj02, repair bool) ([]geo.Feature, error) {
	opts := []geo.Option{geo.WithIDProperty(idProp)}
	if gcj02 {
		opts = append(opts, geo.WithGCJ02())
	}
	if repair {
		opts = append(opts, geo.WithRepair())
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("parcels %s: %w", path, err)
	}
	coll, err := geo.ReadFile(ctx, abs, opts...)
	if err != nil {
		return nil, fmt.Errorf("parcels %s: %w", path, err)
	}
	report, err := geo.Validate(coll.Features, opts...)
	if err == nil {
		err = report.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("parcels %s: %w", path, err)
	}
	return report.Features, nil
}
