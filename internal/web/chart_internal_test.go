package web

import (
	"encoding/xml"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

func TestNiceStep(t *testing.T) {
	for _, tt := range []struct{ span, unit, want int64 }{
		{0, 1, 1}, {4, 1, 1}, {5, 1, 2}, {40, 1, 10}, {575, 1, 200}, {1001, 1, 500},
		{575_000_000, 1_000_000, 200_000_000}, {2_500_000, 10_000, 1_000_000}, {30_000, 10_000, 10_000},
	} {
		if got := niceStep(tt.span, tt.unit, 4); got != tt.want {
			t.Errorf("niceStep(%d, %d) = %d, want %d", tt.span, tt.unit, got, tt.want)
		}
	}
	for _, tt := range []struct{ v, step, floor, ceil int64 }{{7, 5, 5, 10}, {-7, 5, -10, -5}, {10, 5, 10, 10}, {0, 5, 0, 0}} {
		if f, c := floorTo(tt.v, tt.step), ceilTo(tt.v, tt.step); f != tt.floor || c != tt.ceil {
			t.Errorf("floor/ceil of %d by %d: %d %d", tt.v, tt.step, f, c)
		}
	}
}

// svgNode is enough of the SVG to check the marks.
type svgNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []svgNode  `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n svgNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n svgNode) all(name string, out *[]svgNode) {
	for _, c := range n.Nodes {
		if c.XMLName.Local == name {
			*out = append(*out, c)
		}
		c.all(name, out)
	}
}

func parseSVG(t *testing.T, s string) svgNode {
	t.Helper()
	var root svgNode
	if err := xml.Unmarshal([]byte(s), &root); err != nil {
		t.Fatalf("the chart is not well-formed XML: %v\n%s", err, s)
	}
	return root
}

// The level chart: a step line per location, a dot per change inside the
// plot, left to right in time, each a link to the stock as shown then,
// and the same changes as rows, newest first.
func TestLevelChart(t *testing.T) {
	day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	q := func(units int64) inventory.Quantity { return inventory.Quantity(units * 1_000_000) }
	series := []inventory.LevelSeries{
		{LocationPath: "WH1/A1", Points: []inventory.LevelPoint{
			{RecordedAt: day, Before: 0, After: q(500)},
			{RecordedAt: day.Add(50 * time.Hour), Before: q(500), After: q(420)},
			{RecordedAt: day.Add(300 * time.Hour), Before: q(420), After: q(610)},
		}},
		{LocationPath: "WH1/A2 <b>", Points: []inventory.LevelPoint{
			{RecordedAt: day.Add(20 * time.Hour), Before: 0, After: q(75)},
			{RecordedAt: day.Add(200 * time.Hour), Before: q(75), After: q(15)},
		}},
	}
	it := inventory.Item{SKU: "BOLT-M6", Unit: "pcs"}
	now := day.Add(400 * time.Hour)
	v := levelChart(it, series, true, now, time.UTC)
	root := parseSVG(t, string(v.SVG))
	if root.attr("role") != "group" || root.attr("aria-labelledby") != "level-chart-title" {
		t.Errorf("svg attributes %v", root.Attrs)
	}
	var links, paths []svgNode
	root.all("a", &links)
	root.all("path", &paths)
	if len(links) != 5 || len(paths) != 2 || len(v.Rows) != 5 || len(v.Legend) != 2 {
		t.Fatalf("%d links, %d paths, %d rows, %d legend entries", len(links), len(paths), len(v.Rows), len(v.Legend))
	}
	lastX := -1.0
	for i, a := range links[:3] {
		href := a.attr("href")
		if !strings.HasPrefix(href, "/inventory/as-of?") || !strings.Contains(href, "mode=shown") || !strings.Contains(href, "sku=BOLT-M6") ||
			!strings.Contains(href, strings.ReplaceAll(series[0].Points[i].RecordedAt.Format(time.RFC3339Nano), ":", "%3A")) {
			t.Errorf("dot %d links to %q", i, href)
		}
		var circles []svgNode
		a.all("circle", &circles)
		x, _ := strconv.ParseFloat(circles[0].attr("cx"), 64)
		y, _ := strconv.ParseFloat(circles[0].attr("cy"), 64)
		if x <= lastX || x < plotLeft || x > plotRight || y < plotTop || y > float64(levelFrame.bottom) {
			t.Errorf("dot %d at (%.1f, %.1f), previous x %.1f", i, x, y, lastX)
		}
		lastX = x
	}
	if label := links[2].attr("aria-label"); label != "WH1/A1 at 2026-11-14 21:00:00: 420 → 610 pcs (stock as shown then)" {
		t.Errorf("label %q", label)
	}
	if !strings.Contains(string(v.SVG), "WH1/A2 &lt;b&gt;") || strings.Contains(string(v.SVG), "<b>") {
		t.Errorf("a location's name is not escaped")
	}
	if v.Rows[0].After != "610" || v.Rows[4].After != "500" || v.Rows[1].Location != "WH1/A2 <b>" {
		t.Errorf("rows not newest first: %+v", v.Rows)
	}
	// The top of the axis is a round number at or above the highest level.
	var ticks []svgNode
	root.all("text", &ticks)
	var texts []string
	for _, tk := range ticks {
		texts = append(texts, tk.Text)
	}
	if got := strings.Join(texts, " "); got != "0 200 400 600 800 2 Nov 2026 09:00 10 Nov 17:00 now" {
		t.Errorf("axis labels %q", got)
	}
	// More locations than colours: the busiest are drawn, every change
	// is in the table.
	var many []inventory.LevelSeries
	for i := range 10 {
		s := inventory.LevelSeries{LocationPath: fmt.Sprintf("WH1/B%02d", i)}
		for j := range i + 1 {
			s.Points = append(s.Points, inventory.LevelPoint{RecordedAt: day.Add(time.Duration(j) * time.Hour), After: q(int64(j))})
		}
		many = append(many, s)
	}
	crowded := levelChart(it, many, true, now, time.UTC)
	var drawn []string
	for _, l := range crowded.Legend {
		drawn = append(drawn, l.Name)
	}
	if len(crowded.Rows) != 55 || crowded.Locations != 10 || strings.Join(drawn, " ") != "WH1/B03 WH1/B04 WH1/B05 WH1/B06 WH1/B07 WH1/B08 WH1/B09" ||
		!strings.Contains(string(crowded.SVG), "the 7 of its 10 locations with the most changes") {
		t.Errorf("crowded chart: %d rows, %d locations, drawn %q", len(crowded.Rows), crowded.Locations, drawn)
	}
	if empty := levelChart(it, nil, true, now, time.UTC); empty.SVG != "" {
		t.Errorf("a chart without points")
	}
	if dir := os.Getenv("STOCKTRAIL_SCREENSHOTS"); dir != "" {
		days := make([]activity.DayCount, 30)
		for i := range days {
			days[i] = activity.DayCount{Day: day.AddDate(0, 0, i), Count: int64((i * 37) % 23)}
		}
		page := `<!doctype html><link rel="stylesheet" href="app.css"><main>` + string(v.SVG) + string(volumeChart(days).SVG) + `</main>`
		os.WriteFile(dir+"/charts.html", []byte(page), 0o644)
	}
}

// The volume chart: a bar per day, each linking to the log of its day,
// as high as its count.
func TestVolumeChart(t *testing.T) {
	first := time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)
	var days []activity.DayCount
	for i := range 30 {
		days = append(days, activity.DayCount{Day: first.AddDate(0, 0, i), Count: int64(i % 5 * 10)})
	}
	v := volumeChart(days)
	root := parseSVG(t, string(v.SVG))
	var links []svgNode
	root.all("a", &links)
	if len(links) != 30 || len(v.Days) != 30 || v.Total != 600 {
		t.Fatalf("%d links, %d days, total %d", len(links), len(v.Days), v.Total)
	}
	if href := links[3].attr("href"); href != "/activity?end_date=2026-11-11&start_date=2026-11-11" {
		t.Errorf("bar links to %q", href)
	}
	height := func(a svgNode) float64 {
		var rects []svgNode
		a.all("rect", &rects)
		h, _ := strconv.ParseFloat(rects[1].attr("height"), 64)
		return h
	}
	if height(links[0]) != 0 || height(links[4]) <= height(links[2]) || height(links[4]) > float64(volumeFrame.bottom-plotTop) {
		t.Errorf("bar heights %.1f %.1f %.1f", height(links[0]), height(links[2]), height(links[4]))
	}
	if links[4].attr("aria-label") != "Thu 12 Nov 2026: 40 events" {
		t.Errorf("bar label %q", links[4].attr("aria-label"))
	}
}
