package web

import (
	"cmp"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jobsync/jobsync/fleet"
)

// fleetQuery is the fleet page's filter and order, from its query string.
type fleetQuery struct {
	NS     string // namespace, exact
	Health string // a fleet.State, exact
	Label  string // key or key=value
	Q      string // part of the name
	Sort   string // a column of sortKeys
	Desc   bool
}

func parseFleetQuery(v url.Values) fleetQuery {
	q := fleetQuery{NS: v.Get("ns"), Health: v.Get("health"), Label: strings.TrimSpace(v.Get("label")),
		Q: strings.TrimSpace(v.Get("q")), Sort: v.Get("sort"), Desc: v.Get("desc") == "1"}
	if _, ok := sortKeys[q.Sort]; !ok {
		q.Sort = "health"
	}
	return q
}

// encode returns the query string of q with sort and desc replaced.
func (q fleetQuery) encode(sort string, desc bool) string {
	v := url.Values{}
	for k, s := range map[string]string{"ns": q.NS, "health": q.Health, "label": q.Label, "q": q.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	v.Set("sort", sort)
	if desc {
		v.Set("desc", "1")
	}
	return "?" + v.Encode()
}

// match reports whether c passes q's filters.
func (q fleetQuery) match(c *fleet.CronJob) bool {
	if q.NS != "" && c.Namespace != q.NS {
		return false
	}
	if q.Health != "" && string(c.Health.State) != q.Health {
		return false
	}
	if q.Q != "" && !strings.Contains(c.Name, q.Q) {
		return false
	}
	if q.Label != "" {
		k, v, hasValue := strings.Cut(q.Label, "=")
		got, ok := c.Labels[strings.TrimSpace(k)]
		if !ok || (hasValue && got != strings.TrimSpace(v)) {
			return false
		}
	}
	return true
}

// sortKeys compare two CronJobs by one column; ties go by namespace/name.
var sortKeys = map[string]func(a, b *fleet.CronJob) int{
	"name":      func(a, b *fleet.CronJob) int { return cmp.Compare(a.Name, b.Name) },
	"namespace": func(a, b *fleet.CronJob) int { return cmp.Compare(a.Namespace, b.Namespace) },
	"schedule":  func(a, b *fleet.CronJob) int { return cmp.Compare(a.Schedule, b.Schedule) },
	"zone":      func(a, b *fleet.CronJob) int { return cmp.Compare(a.TimeZone, b.TimeZone) },
	"health": func(a, b *fleet.CronJob) int {
		return cmp.Compare(healthRank(a.Health.State), healthRank(b.Health.State))
	},
	"last":     func(a, b *fleet.CronJob) int { return cmp.Compare(a.LastResult, b.LastResult) },
	"success":  func(a, b *fleet.CronJob) int { return a.LastSuccess.Compare(b.LastSuccess) },
	"next":     func(a, b *fleet.CronJob) int { return a.Next.Compare(b.Next) },
	"duration": func(a, b *fleet.CronJob) int { return cmp.Compare(lastDuration(a), lastDuration(b)) },
}

// lastDuration is the duration of a CronJob's newest finished run.
func lastDuration(c *fleet.CronJob) time.Duration {
	for i := len(c.Recent) - 1; i >= 0; i-- {
		if d := c.Recent[i].Duration(); d > 0 {
			return d
		}
	}
	return 0
}

// fleetRow is one CronJob as the fleet table prints it.
type fleetRow struct {
	*fleet.CronJob
	Href, Zone           string
	LastSuccess, NextRun string
	Spark                sparkline
}

// column is a sortable header of the fleet table.
type column struct {
	Title, Href string
	Arrow       string
}

// fleetData is the fleet page.
type fleetData struct {
	Query      fleetQuery
	Rows       []fleetRow
	RowsHTML   template.HTML
	Total      int
	Columns    []column
	Namespaces []string
	States     []fleet.State
	Counts     map[fleet.State]int
	Revision   Revision
	Errors     int
	Warnings   int
}

var columnOrder = []struct{ key, title string }{
	{"name", "Name"}, {"namespace", "Namespace"}, {"schedule", "Schedule"}, {"zone", "Zone"},
	{"health", "Health"}, {"last", "Last result"}, {"success", "Last success"}, {"next", "Next run"},
	{"duration", "Durations (last 20)"},
}

var allStates = []fleet.State{fleet.StateFailing, fleet.StateMissed, fleet.StateLate, fleet.StateSuspended, fleet.StateHealthy}

func (s *server) fleetPage(w http.ResponseWriter, r *http.Request) {
	q := parseFleetQuery(r.URL.Query())
	s.render(w, "fleet", "fleet", s.fleetData(q))
}

// fleetData filters, sorts and formats the fleet for q.
func (s *server) fleetData(q fleetQuery) fleetData {
	now := s.opts.Now()
	all := s.opts.View.CronJobs()
	d := fleetData{Query: q, Total: len(all), States: allStates, Counts: map[fleet.State]int{}, Revision: s.revision()}
	nsSeen := map[string]bool{}
	var kept []*fleet.CronJob
	for i := range all {
		c := &all[i]
		d.Counts[c.Health.State]++
		if !nsSeen[c.Namespace] {
			nsSeen[c.Namespace] = true
			d.Namespaces = append(d.Namespaces, c.Namespace)
		}
		if q.match(c) {
			kept = append(kept, c)
		}
	}
	slices.Sort(d.Namespaces)
	by := sortKeys[q.Sort]
	slices.SortStableFunc(kept, func(a, b *fleet.CronJob) int {
		c := by(a, b)
		if q.Desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	d.Rows = make([]fleetRow, len(kept))
	for i, c := range kept {
		d.Rows[i] = fleetRow{CronJob: c, Href: cronPath(c.Namespace, c.Name), Zone: zoneOf(*c),
			LastSuccess: ago(now, c.LastSuccess), NextRun: until(now, c.Next), Spark: newSparkline(c.Recent)}
	}
	d.RowsHTML = rowsHTML(d.Rows)
	for _, col := range columnOrder {
		desc, arrow := false, ""
		if col.key == q.Sort {
			desc, arrow = !q.Desc, " ▲"
			if q.Desc {
				arrow = " ▼"
			}
		}
		d.Columns = append(d.Columns, column{Title: col.title, Href: q.encode(col.key, desc), Arrow: arrow})
	}
	for _, f := range d.Revision.Findings {
		if f.Severity == "error" {
			d.Errors++
		} else {
			d.Warnings++
		}
	}
	return d
}

// rowsHTML writes the fleet table's rows. With 5,000 rows, html/template's
// reflection per field is most of the page's time, so the rows are written
// here, every text through template.HTMLEscapeString (which also makes it
// safe inside the quoted attributes).
// fleetChunk is how many rows one <tbody> of the fleet table holds: the
// stylesheet gives each tbody content-visibility:auto, so the browser lays
// out and paints only the chunks on screen (5,000 rows: ~4 s -> ~1 s in
// headless Chromium).
const fleetChunk = 100

func rowsHTML(rows []fleetRow) template.HTML {
	var b strings.Builder
	b.Grow(len(rows) * 520)
	esc := func(s string) { b.WriteString(template.HTMLEscapeString(s)) }
	for i, r := range rows {
		if i > 0 && i%fleetChunk == 0 {
			b.WriteString("</tbody>\n<tbody>")
		}
		b.WriteString(`<tr><td><a href="`)
		esc(r.Href)
		b.WriteString(`">`)
		esc(r.Name)
		b.WriteString(`</a></td><td>`)
		esc(r.Namespace)
		b.WriteString(`</td><td><code>`)
		esc(r.Schedule)
		b.WriteString(`</code></td><td>`)
		esc(r.Zone)
		b.WriteString(`</td><td><span class="badge `)
		b.WriteString(healthClass(r.Health.State))
		b.WriteString(`">`)
		esc(string(r.Health.State))
		b.WriteString(`</span>`)
		if r.Health.Reason != "" {
			b.WriteString(` <small class="muted">`)
			esc(r.Health.Reason)
			b.WriteString(`</small>`)
		}
		b.WriteString(`</td><td class="`)
		b.WriteString(resultClass(r.LastResult))
		b.WriteString(`">`)
		esc(string(r.LastResult))
		b.WriteString(`</td><td>`)
		esc(r.LastSuccess)
		b.WriteString(`</td><td>`)
		esc(r.NextRun)
		b.WriteString(`</td><td title="`)
		esc(r.Spark.Title)
		b.WriteString(`"><svg class="spark" width="80" height="16">`)
		for _, p := range [...]struct{ class, d string }{{"ok", r.Spark.OK}, {"fail", r.Spark.Fail}, {"run", r.Spark.Running}} {
			if p.d != "" { // fewer elements for the browser to lay out
				b.WriteString(`<path class="` + p.class + `" d="`)
				b.WriteString(p.d) // digits, M and V only
				b.WriteString(`"/>`)
			}
		}
		b.WriteString("</svg></td></tr>\n")
	}
	return template.HTML(b.String()) // every text escaped above
}
