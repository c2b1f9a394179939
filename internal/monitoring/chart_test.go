package monitoring

import (
	"bytes"
	"image/png"
	"testing"
)

func TestEventChartPNG(t *testing.T) {
	lim := Limit{Outlet: "DA001", Pollutant: "so2", Hourly: f(100), O2Ref: f(6)}
	o2 := noisy(6, 24)
	so2 := noisy(40, 24)
	so2[10], so2[11] = 150, 160
	evs := Analyze(Input{Point: Point{MN: "M1", Outlet: "DA001"}, Limits: []Limit{lim},
		Samples: map[string][]Sample{"so2": hourly(so2), O2: hourly(o2)}}, Params{})
	var ev *Event
	for i := range evs {
		if evs[i].Rule == RuleExceedanceHourly {
			ev = &evs[i]
		}
	}
	if ev == nil || ev.Chart == nil {
		t.Fatalf("no exceedance with a chart: %+v", evs)
	}
	b1, err := ev.Chart.PNG()
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := ev.Chart.PNG()
	if !bytes.Equal(b1, b2) {
		t.Error("the same chart drew different bytes")
	}
	img, err := png.Decode(bytes.NewReader(b1))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 300 {
		t.Errorf("size %v", b)
	}
	// The limit line and the shaded period are drawn.
	var red, shade int
	for y := 0; y < 300; y++ {
		for x := 0; x < 800; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			switch {
			case r>>8 == 200 && g>>8 == 30 && b>>8 == 30:
				red++
			case r>>8 == 255 && g>>8 == 220 && b>>8 == 200:
				shade++
			}
		}
	}
	if red < 100 || shade < 1000 {
		t.Errorf("limit pixels %d, shaded pixels %d: the limit or the event's period is missing", red, shade)
	}
	if len(ev.Chart.Points) != 24 {
		t.Errorf("chart has %d points, want the 24 hours", len(ev.Chart.Points))
	}
}
