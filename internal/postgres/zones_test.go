package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/offsite/offsite"
)

func TestZones(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	zs := NewZoneService(db)
	park := &offsite.Zone{Name: "east park", Geometry: square(120, 31, 1), CreatedBy: "analyst"}
	if err := zs.CreateZone(ctx, park); err != nil {
		t.Fatal(err)
	}
	if park.ID == 0 || park.CreatedAt.IsZero() {
		t.Fatalf("created zone = %+v", park)
	}
	if err := zs.CreateZone(ctx, &offsite.Zone{Name: "east park", Geometry: square(121, 31, 1)}); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("second zone of a name: %v, want ErrConflict", err)
	}
	if err := zs.CreateZone(ctx, &offsite.Zone{Name: "river", Geometry: square(119, 30, 0.5)}); err != nil {
		t.Fatal(err)
	}
	byName, err := zs.FindZoneByName(ctx, "east park")
	if err != nil || byName.ID != park.ID || byName.Geometry.Bound() != park.Geometry.Bound() {
		t.Fatalf("FindZoneByName = %+v, %v", byName, err)
	}
	if _, err := zs.FindZoneByID(ctx, park.ID+100); !errors.Is(err, offsite.ErrNotFound) {
		t.Errorf("FindZoneByID of a missing zone: %v", err)
	}
	all, err := zs.FindZones(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "east park" || all[1].Name != "river" {
		t.Fatalf("FindZones = %v, %v", all, err)
	}

	// A survey planned on the zone records which.
	at := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	sv := &offsite.Survey{Zone: park.Geometry, ZoneID: &park.ID, WindowStart: at, WindowEnd: at.Add(time.Hour),
		Kinds: []string{offsite.KindSentinel2}, Pipeline: "sentinel2"}
	if _, err := NewSurveyService(db).CreateSurvey(ctx, sv); err != nil {
		t.Fatal(err)
	}
	got, err := NewSurveyService(db).FindSurveyByID(ctx, sv.ID)
	if err != nil || got.ZoneID == nil || *got.ZoneID != park.ID {
		t.Fatalf("survey on a zone = %+v, %v", got, err)
	}
}
