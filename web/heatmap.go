package web

import (
	"bufio"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"

	"github.com/jobsync/jobsync/schedule"
)

// Heat map geometry, shared by the SVG and the PNG.
const (
	hmLeft   = 54
	hmTop    = 40
	hmCellW  = 34
	hmCellH  = 24
	hmBottom = 28
)

// HeatmapWidth and HeatmapHeight are the size of the heat map's SVG and PNG.
const (
	HeatmapWidth  = hmLeft + 24*hmCellW + 8
	HeatmapHeight = hmTop + 7*hmCellH + hmBottom
)

var weekdays = [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// heatColor is the fill of a cell with n runs when the quietest non-empty
// cell has low and the busiest peak: light grey for none, then light to dark
// blue, linear from low to peak (a fleet with every-15-minute jobs has no
// quiet hour; what matters is where runs pile up above that floor).
func heatColor(n, low, peak int) color.RGBA {
	if n == 0 || peak == 0 {
		return color.RGBA{0xf4, 0xf6, 0xf8, 0xff}
	}
	f := 1.0
	if peak > low {
		f = 0.12 + 0.88*float64(n-low)/float64(peak-low)
	}
	lerp := func(a, b uint8) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*f) }
	return color.RGBA{lerp(0xd6, 0x08), lerp(0xe6, 0x30), lerp(0xf5, 0x6b), 0xff}
}

// WriteHeatmapSVG draws h as a standalone SVG document: weekdays down, hours
// of the display zone across, the count of runs in each cell. With link
// non-nil, each cell is a link to link(day, hour).
func WriteHeatmapSVG(w io.Writer, h *schedule.Heatmap, link func(day, hour int) string) error {
	bw := bufio.NewWriter(w)
	writeHeatmapSVG(bw, h, link)
	return bw.Flush()
}

func writeHeatmapSVG(w *bufio.Writer, h *schedule.Heatmap, link func(day, hour int) string) {
	low, peak := h.Min(), h.Max()
	zone := html.EscapeString(h.Zone.String())
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" style="font-family:sans-serif;font-size:11px" role="img" aria-label="runs starting per hour">`,
		HeatmapWidth, HeatmapHeight, HeatmapWidth, HeatmapHeight)
	// A white ground: the picture stays readable in a dark-mode PR comment.
	fmt.Fprintf(w, "\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>", HeatmapWidth, HeatmapHeight)
	fmt.Fprintf(w, "\n<text x=\"%d\" y=\"14\" font-size=\"13\" font-weight=\"bold\">Runs starting per hour, week of %s (%s): %d runs, busiest hour %d</text>\n",
		hmLeft, h.Start.Format("2006-01-02"), zone, h.Total, peak)
	for hr := range 24 {
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%02d</text>\n", hmLeft+hr*hmCellW+hmCellW/2, hmTop-6, hr)
	}
	for d := range 7 {
		y := hmTop + d*hmCellH
		day := h.Start.AddDate(0, 0, d)
		fmt.Fprintf(w, "<text x=\"4\" y=\"%d\" fill=\"#555\">%s %02d</text>\n", y+hmCellH/2+4, weekdays[d], day.Day())
		for hr := range 24 {
			writeHeatCell(w, h, d, hr, low, peak, zone, link)
		}
	}
	fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" fill=\"#555\">hours in %s; darker is busier</text>\n</svg>\n", hmLeft, hmTop+7*hmCellH+18, zone)
}

// writeHeatCell draws one cell with its count and a tooltip.
func writeHeatCell(w *bufio.Writer, h *schedule.Heatmap, d, hr, low, peak int, zone string, link func(day, hour int) string) {
	n := h.Runs[d][hr]
	x, y := hmLeft+hr*hmCellW, hmTop+d*hmCellH
	c := heatColor(n, low, peak)
	if link != nil {
		fmt.Fprintf(w, `<a href="%s">`, html.EscapeString(link(d, hr)))
	}
	fmt.Fprintf(w, `<rect class="cell" data-day="%d" data-hour="%d" data-runs="%d" x="%d" y="%d" width="%d" height="%d" fill="#%02x%02x%02x" stroke="#fff"><title>%s %02d:00–%02d:59 %s: %d runs, %d CronJobs</title></rect>`,
		d, hr, n, x, y, hmCellW, hmCellH, c.R, c.G, c.B, weekdays[d], hr, hr, zone, n, len(h.Entries[d][hr]))
	if n > 0 {
		fill := "#123"
		if c.R < 0x80 {
			fill = "#fff"
		}
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle" font-size="10" fill="%s" pointer-events="none">%d</text>`, x+hmCellW/2, y+hmCellH/2+4, fill, n)
	}
	if link != nil {
		w.WriteString("</a>")
	}
	w.WriteString("\n")
}

// WriteHeatmapPNG draws the cells of h (no text) as a PNG of the SVG's size.
func WriteHeatmapPNG(w io.Writer, h *schedule.Heatmap) error {
	img := image.NewRGBA(image.Rect(0, 0, HeatmapWidth, HeatmapHeight))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	low, peak := h.Min(), h.Max()
	for d := range 7 {
		for hr := range 24 {
			c := heatColor(h.Runs[d][hr], low, peak)
			x0, y0 := hmLeft+hr*hmCellW, hmTop+d*hmCellH
			for y := y0 + 1; y < y0+hmCellH-1; y++ {
				for x := x0 + 1; x < x0+hmCellW-1; x++ {
					img.SetRGBA(x, y, c)
				}
			}
		}
	}
	return png.Encode(w, img)
}
