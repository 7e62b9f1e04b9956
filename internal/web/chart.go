package web

import (
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

// The charts are SVG written here on the server: a step line per location
// for an item's level, bars for the activity log's volume. Two simple
// shapes do not need a charting library, and the page stays free of
// scripts. Every chart has a title and a description, every mark a tooltip
// (<title>) and a link, and the page carries a table with the same numbers.

// chartPalette is the Okabe–Ito palette (distinguishable with the common
// colour-vision deficiencies), less its yellow, too pale on white.
var chartPalette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"}

// The drawing area inside the viewBox.
const (
	chartWidth          = 800
	plotLeft, plotRight = 76, 788
	plotTop             = 14
)

// chartFrame is a chart's height and the bottom of its drawing area: the
// level chart is taller than the activity volume, which sits above a list.
type chartFrame struct{ height, bottom int }

var (
	levelFrame  = chartFrame{height: 240, bottom: 208}
	volumeFrame = chartFrame{height: 150, bottom: 118}
)

// niceStep is a round step (1, 2 or 5 × 10^k) that divides 0..span into at
// most ticks intervals; unit is the smallest step worth showing.
func niceStep(span, unit int64, ticks int64) int64 {
	if span <= 0 {
		return unit
	}
	for step := unit; ; step *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if s := step * m; s*ticks >= span {
				return s
			}
		}
	}
}

// scale maps a value of lo..hi onto the pixels from..to.
func scaleTo(v, lo, hi int64, from, to float64) float64 {
	if hi == lo {
		return (from + to) / 2
	}
	return from + (to-from)*float64(v-lo)/float64(hi-lo)
}

// svgStart opens an accessible SVG: the title names it, the description
// says what it shows and where its table is.
func svgStart(b *strings.Builder, frame chartFrame, id, title, desc string) {
	// A group, not an image: its marks are links, and an image may not
	// hold anything focusable.
	fmt.Fprintf(b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="group" aria-labelledby="%s-title" aria-describedby="%s-desc" preserveAspectRatio="xMidYMid meet">`,
		id, chartWidth, frame.height, id, id)
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, template.HTMLEscapeString(title), id,
		template.HTMLEscapeString(desc))
}

// yAxis draws the horizontal grid lines and their labels from lo to hi.
func yAxis(b *strings.Builder, frame chartFrame, lo, hi, step int64, label func(int64) string) {
	for v := lo; v <= hi; v += step {
		y := scaleTo(v, lo, hi, float64(frame.bottom), plotTop)
		fmt.Fprintf(b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, plotLeft, plotRight, y, y)
		fmt.Fprintf(b, `<text class="tick" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle" aria-hidden="true">%s</text>`, plotLeft-6, y,
			template.HTMLEscapeString(label(v)))
	}
}

// levelChartEntries is how many of an item's latest entries its chart
// draws: enough for months of a busy item, few enough to stay legible.
const levelChartEntries = 300

// levelChartView is the item page's picture of its level over time.
type levelChartView struct {
	SVG template.HTML
	// Legend names each location with its colour.
	Legend []chartLegend
	// Rows are the same changes as a table, newest first.
	Rows []levelChartRow
	// Complete says the chart reaches back to the item's first entry.
	Complete bool
	// Entries counts the changes; Locations the item's locations among
	// them, of which Legend names those drawn.
	Entries, Locations int
}

type chartLegend struct{ Name, Colour string }

type levelChartRow struct {
	When, Location, Before, After, Href string
	at                                  time.Time
}

// asOfHref is the as-of page as the system showed the item at moment t.
func asOfHref(sku string, t time.Time) string {
	q := url.Values{"at": {t.UTC().Format(time.RFC3339Nano)}, "sku": {sku}, "mode": {"shown"}}
	return "/inventory/as-of?" + q.Encode()
}

// levelChart draws the item's level at each location as a step line from
// its first point to now, each change a dot linking to the stock as shown
// at that moment.
func levelChart(it inventory.Item, series []inventory.LevelSeries, complete bool, now time.Time, zone *time.Location) levelChartView {
	v := levelChartView{Complete: complete}
	if len(series) == 0 {
		return v
	}
	// The table lists every change; the chart draws as many locations as
	// there are colours, those with the most changes, and says so.
	for _, s := range series {
		for _, p := range s.Points {
			when := p.RecordedAt.In(zone).Format("2006-01-02 15:04:05")
			v.Rows = append(v.Rows, levelChartRow{When: when, Location: s.LocationPath, Before: p.Before.Format(it.Scale),
				After: p.After.Format(it.Scale), Href: asOfHref(it.SKU, p.RecordedAt), at: p.RecordedAt})
		}
	}
	slices.SortStableFunc(v.Rows, func(a, b levelChartRow) int { return b.at.Compare(a.at) })
	v.Locations, v.Entries = len(series), len(v.Rows)
	if len(series) > len(chartPalette) {
		busiest := slices.Clone(series)
		slices.SortStableFunc(busiest, func(a, b inventory.LevelSeries) int { return len(b.Points) - len(a.Points) })
		series = busiest[:len(chartPalette)]
		slices.SortFunc(series, func(a, b inventory.LevelSeries) int { return strings.Compare(a.LocationPath, b.LocationPath) })
	}
	first, last := now, time.Time{}
	var lo, hi int64
	for _, s := range series {
		for _, p := range s.Points {
			if p.RecordedAt.Before(first) {
				first = p.RecordedAt
			}
			if p.RecordedAt.After(last) {
				last = p.RecordedAt
			}
			lo, hi = min(lo, int64(p.Before), int64(p.After)), max(hi, int64(p.Before), int64(p.After))
		}
	}
	if now.After(last) {
		last = now
	}
	if !last.After(first) {
		first = last.Add(-time.Hour)
	}
	unit := int64(1)
	for range inventory.QuantityScale - it.Scale {
		unit *= 10
	}
	step := niceStep(hi-lo, unit, 4)
	lo, hi = floorTo(lo, step), ceilTo(hi, step)
	if hi == lo {
		hi = lo + step
	}
	x := func(t time.Time) float64 {
		return scaleTo(t.UnixMicro(), first.UnixMicro(), last.UnixMicro(), plotLeft, plotRight)
	}
	frame := levelFrame
	y := func(q inventory.Quantity) float64 { return scaleTo(int64(q), lo, hi, float64(frame.bottom), plotTop) }

	var b strings.Builder
	names := make([]string, len(series))
	for i, s := range series {
		names[i] = s.LocationPath
	}
	where := strings.Join(names, ", ")
	if v.Locations > len(series) {
		where = fmt.Sprintf("the %d of its %d locations with the most changes (%s)", len(series), v.Locations, where)
	}
	svgStart(&b, frame, "level-chart", "Level of "+it.SKU+" over time",
		fmt.Sprintf("Step lines of the level of %s (%s) at %s, from %s to now, after each of its latest %s. Each dot links to the stock as it was shown at that moment; the table below lists the changes at every location.",
			it.SKU, it.Unit, where, first.In(zone).Format("2 Jan 2006"), count(v.Entries, "change", "changes")))
	yAxis(&b, frame, lo, hi, step, func(q int64) string { return inventory.Quantity(q).String() })
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" aria-hidden="true">%s</text>`, plotLeft, frame.height-6, first.In(zone).Format("2 Jan 2006 15:04"))
	mid := first.Add(last.Sub(first) / 2)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="middle" aria-hidden="true">%s</text>`, (plotLeft+plotRight)/2, frame.height-6,
		mid.In(zone).Format("2 Jan 15:04"))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end" aria-hidden="true">now</text>`, plotRight, frame.height-6)
	for i, s := range series {
		colour := chartPalette[i%len(chartPalette)]
		v.Legend = append(v.Legend, chartLegend{Name: s.LocationPath, Colour: colour})
		var path strings.Builder
		p0 := s.Points[0]
		fmt.Fprintf(&path, "M%.1f %.1f", x(p0.RecordedAt), y(p0.Before))
		for _, p := range s.Points {
			fmt.Fprintf(&path, "H%.1fV%.1f", x(p.RecordedAt), y(p.After))
		}
		fmt.Fprintf(&path, "H%.1f", x(last))
		fmt.Fprintf(&b, `<path class="line" d="%s" stroke="%s"/>`, path.String(), colour)
		for _, p := range s.Points {
			when := p.RecordedAt.In(zone).Format("2006-01-02 15:04:05")
			href := asOfHref(it.SKU, p.RecordedAt)
			label := template.HTMLEscapeString(fmt.Sprintf("%s at %s: %s → %s %s (stock as shown then)", s.LocationPath, when,
				p.Before.Format(it.Scale), p.After.Format(it.Scale), it.Unit))
			fmt.Fprintf(&b, `<a href="%s" aria-label="%s"><title>%s</title><circle cx="%.1f" cy="%.1f" r="5" fill="%s"/></a>`,
				template.HTMLEscapeString(href), label, label, x(p.RecordedAt), y(p.After), colour)
		}
	}
	b.WriteString(`</svg>`)
	v.SVG = template.HTML(b.String())
	return v
}

func floorTo(v, step int64) int64 {
	if v >= 0 {
		return v / step * step
	}
	return -ceilTo(-v, step)
}

func ceilTo(v, step int64) int64 {
	if v <= 0 {
		return -floorTo(-v, step)
	}
	return (v + step - 1) / step * step
}

// volumeChartView is the activity log's volume per day.
type volumeChartView struct {
	SVG   template.HTML
	Days  []volumeDay
	Total int
}

type volumeDay struct {
	Date  string
	Count int64
	Href  string
}

// volumeChart draws one bar per day, each linking to the log of that day.
func volumeChart(days []activity.DayCount) volumeChartView {
	v := volumeChartView{}
	if len(days) == 0 {
		return v
	}
	var hi int64
	for _, d := range days {
		hi = max(hi, d.Count)
		v.Total += int(d.Count)
	}
	// Three intervals: the chart is low, and the labels need the room.
	step := niceStep(hi, 1, 3)
	top := ceilTo(max(hi, 1), step)
	var b strings.Builder
	from, to := days[0].Day.Format("2 Jan"), days[len(days)-1].Day.Format("2 Jan 2006")
	frame := volumeFrame
	svgStart(&b, frame, "volume-chart", "Activity per day", fmt.Sprintf(
		"Bars of the number of events recorded on each UTC day from %s to %s, %s in all. Each bar links to the log of its day; the table below lists the same numbers.",
		from, to, count(v.Total, "event", "events")))
	yAxis(&b, frame, 0, top, step, func(n int64) string { return fmt.Sprint(n) })
	slot := float64(plotRight-plotLeft) / float64(len(days))
	for i, d := range days {
		date := d.Day.Format("2006-01-02")
		q := url.Values{"start_date": {date}, "end_date": {date}}
		href := "/activity?" + q.Encode()
		v.Days = append(v.Days, volumeDay{Date: date, Count: d.Count, Href: href})
		x := float64(plotLeft) + slot*float64(i)
		yTop := scaleTo(d.Count, 0, top, float64(frame.bottom), plotTop)
		// The link covers the whole column, so a day with few events is as
		// easy to pick as a busy one.
		label := d.Day.Format("Mon 2 Jan 2006") + ": " + count(int(d.Count), "event", "events")
		fmt.Fprintf(&b, `<a href="%s" aria-label="%s"><title>%s</title><rect class="hit" x="%.1f" y="%d" width="%.1f" height="%d"/><rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/></a>`,
			template.HTMLEscapeString(href), label, label, x, plotTop, slot, frame.bottom-plotTop, x+slot*0.15, yTop, slot*0.7, float64(frame.bottom)-yTop)
	}
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" aria-hidden="true">%s</text>`, plotLeft, frame.height-6, from)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end" aria-hidden="true">%s</text>`, plotRight, frame.height-6, days[len(days)-1].Day.Format("2 Jan"))
	b.WriteString(`</svg>`)
	v.SVG = template.HTML(b.String())
	return v
}
