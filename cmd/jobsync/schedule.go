package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/jobsync/jobsync/render"
	"github.com/jobsync/jobsync/schedule"
	"github.com/jobsync/jobsync/web"
)

// scheduleOptions are the flags of jobsync schedule.
type scheduleOptions struct {
	count  int
	from   string
	pileup bool
	// svg and png print the week's heat map instead of the text; tz is its
	// display zone.
	svg, png bool
	tz       string
}

func newScheduleCmd(s streams) *cobra.Command {
	o := scheduleOptions{count: 5, pileup: true, tz: "UTC"}
	c := &cobra.Command{
		Use:   "schedule [PATH|-]...",
		Short: "Show when each CronJob fires next, in its time zone, and where runs pile up",
		Long: `schedule renders PATH (a file, a directory or a kustomization; default ".")
and prints, for every CronJob, its next fire times in its spec.timeZone (UTC when
unset), with the exact semantics of the Kubernetes CronJob controller
(robfig/cron v3). It also lists the runs a daylight-saving transition skips or
doubles in the coming year, and draws how many runs start in each hour of the
next day.

With --svg (or --png), it prints instead a heat map of the runs starting in
each weekday × hour of the week that holds --from (or now), every CronJob in
its own zone, the hours in --tz: the picture of the agent's /schedule page,
for a pull request comment.

Exit status: 0, or 1 when a CronJob has a schedule or time zone that does not
parse, or 2 on a usage or I/O error.`,
		Example: `  jobsync schedule examples/
  jobsync schedule -n 10 overlays/prod
  jobsync schedule --from 2027-03-27T00:00:00Z --pileup=false base/backup.yaml
  jobsync schedule --svg --tz Europe/Paris overlays/prod > schedule.svg
  kustomize build overlays/prod | jobsync schedule -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			if o.count < 1 {
				return withCode(exitUsage, fmt.Errorf("--count must be at least 1, got %d", o.count))
			}
			now := time.Now()
			if o.from != "" {
				t, err := time.Parse(time.RFC3339, o.from)
				if err != nil {
					return withCode(exitUsage, fmt.Errorf("--from: %w", err))
				}
				now = t
			}
			ropts := render.DefaultOptions()
			ropts.Stdin = s.in
			docs, err := render.Render(args, ropts)
			if err != nil {
				return withCode(exitUsage, err)
			}
			write := writeSchedules
			if o.svg || o.png {
				write = writeHeatmap
			}
			bad, err := write(s.out, docs, now, o)
			if err != nil {
				return withCode(exitUsage, err)
			}
			if bad > 0 {
				return withCode(exitFindings, fmt.Errorf("%d CronJob(s) with a schedule or time zone that does not parse", bad))
			}
			return nil
		},
	}
	c.Flags().IntVarP(&o.count, "count", "n", o.count, "fire times to show per CronJob")
	c.Flags().StringVar(&o.from, "from", "", "start from this RFC 3339 time instead of now")
	c.Flags().BoolVar(&o.pileup, "pileup", o.pileup, "draw the runs per hour of the next 24 hours (UTC)")
	c.Flags().BoolVar(&o.svg, "svg", false, "print the week's heat map of runs starting, as SVG")
	c.Flags().BoolVar(&o.png, "png", false, "print the week's heat map of runs starting, as PNG")
	c.Flags().StringVar(&o.tz, "tz", o.tz, "the time zone of the heat map's hours (--svg, --png)")
	c.MarkFlagsMutuallyExclusive("svg", "png")
	return c
}

// cronDoc is the part of a CronJob that schedule reads.
type cronDoc struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		Schedule string  `json:"schedule"`
		TimeZone *string `json:"timeZone"`
		Suspend  *bool   `json:"suspend"`
	} `json:"spec"`
}

// plannedCron is one CronJob with its parsed schedule.
type plannedCron struct {
	origin render.Origin
	doc    cronDoc
	sched  cron.Schedule
	loc    *time.Location
	err    error
}

// writeSchedules prints every CronJob of docs and returns how many did not
// parse. Documents that are not CronJobs are skipped.
func writeSchedules(w io.Writer, docs []render.Document, now time.Time, o scheduleOptions) (int, error) {
	crons := collectCrons(docs)
	if len(crons) == 0 {
		_, err := fmt.Fprintln(w, "no CronJobs found")
		return 0, err
	}
	bad := 0
	var b strings.Builder
	for _, c := range crons {
		if c.err != nil {
			bad++
		}
		writeCron(&b, c, now, o.count)
	}
	if o.pileup {
		writePileup(&b, crons, now)
	}
	_, err := io.WriteString(w, b.String())
	return bad, err
}

// collectCrons decodes the CronJobs of docs, in order.
func collectCrons(docs []render.Document) []plannedCron {
	var out []plannedCron
	for _, d := range docs {
		if d.Err != nil || len(d.Data) == 0 {
			continue
		}
		var c cronDoc
		if err := yaml.Unmarshal(d.Data, &c); err != nil || c.Kind != "CronJob" {
			continue
		}
		p := plannedCron{origin: d.Origin, doc: c}
		p.sched, p.err = schedule.Parse(c.Spec.Schedule)
		if p.err == nil {
			p.loc, p.err = schedule.LoadLocation(c.Spec.TimeZone)
		}
		out = append(out, p)
	}
	return out
}

func writeCron(b *strings.Builder, c plannedCron, now time.Time, count int) {
	zone := "UTC (timeZone unset)"
	if c.doc.Spec.TimeZone != nil {
		zone = *c.doc.Spec.TimeZone
	}
	name := c.doc.Metadata.Name
	if c.doc.Metadata.Namespace != "" {
		name = c.doc.Metadata.Namespace + "/" + name
	}
	fmt.Fprintf(b, "%s:%d: CronJob %s  %q  %s", c.origin.File, c.origin.Line, name, c.doc.Spec.Schedule, zone)
	if c.doc.Spec.Suspend != nil && *c.doc.Spec.Suspend {
		b.WriteString("  (suspended: none of these runs will start)")
	}
	b.WriteString("\n")
	if c.err != nil {
		fmt.Fprintf(b, "  error: %v\n\n", c.err)
		return
	}
	times := schedule.NextN(c.sched, c.loc, now, count)
	if len(times) == 0 {
		b.WriteString("  never fires (no fire time within 5 years)\n")
	}
	for _, t := range times {
		fmt.Fprintf(b, "  %s  (in %s)\n", t.Format("Mon 2006-01-02 15:04 MST"), humanDelay(t.Sub(now)))
	}
	for _, is := range schedule.DSTIssues(c.sched, c.loc, now, 366*24*time.Hour) {
		fmt.Fprintf(b, "  ! DST %s: %s\n", is.Kind, is.Message)
	}
	b.WriteString("\n")
}

// humanDelay formats a delay in days, hours and minutes ("2d3h4m").
func humanDelay(d time.Duration) string {
	d = d.Round(time.Minute)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	s := ""
	if days > 0 {
		s = fmt.Sprintf("%dd", days)
	}
	if h := d / time.Hour; h > 0 || s != "" {
		s += fmt.Sprintf("%dh", h)
	}
	return s + fmt.Sprintf("%dm", (d%time.Hour)/time.Minute)
}

// writePileup draws the number of runs starting in each hour of the next 24
// hours (UTC), over every CronJob that is not suspended, and names the minute
// when the most runs start together.
func writePileup(b *strings.Builder, crons []plannedCron, now time.Time) {
	start := now.UTC().Truncate(time.Hour)
	end := start.Add(24 * time.Hour)
	counts := make([]int, 24)
	byMinute := map[time.Time][]string{}
	for _, c := range crons {
		if c.err != nil || (c.doc.Spec.Suspend != nil && *c.doc.Spec.Suspend) {
			continue
		}
		for t := schedule.Next(c.sched, c.loc, start.Add(-time.Nanosecond)); !t.IsZero() && t.Before(end); t = schedule.Next(c.sched, c.loc, t) {
			counts[int(t.Sub(start)/time.Hour)]++
			m := t.UTC().Truncate(time.Minute)
			byMinute[m] = append(byMinute[m], c.doc.Metadata.Name)
		}
	}
	peak := slices.Max(counts)
	fmt.Fprintf(b, "Runs starting per hour, next 24 hours (UTC), %d CronJob(s):\n", len(crons))
	for i, n := range counts {
		bar := 0
		if peak > 0 {
			bar = (n*40 + peak - 1) / peak
		}
		fmt.Fprintf(b, "  %s  %5d %s\n", start.Add(time.Duration(i)*time.Hour).Format("01-02 15:04"), n, strings.Repeat("#", bar))
	}
	var busiest time.Time
	for m, names := range byMinute {
		if n := len(names); n > len(byMinute[busiest]) || (n == len(byMinute[busiest]) && m.Before(busiest)) {
			busiest = m
		}
	}
	if names := byMinute[busiest]; len(names) > 1 {
		fmt.Fprintf(b, "Busiest minute: %s UTC, %d runs start together: %s\n", busiest.Format("01-02 15:04"), len(names), strings.Join(names, ", "))
	}
}

// writeHeatmap prints the heat map of the week that holds now, as SVG or PNG,
// and returns how many CronJobs did not parse (they are left out, as are
// suspended ones).
func writeHeatmap(w io.Writer, docs []render.Document, now time.Time, o scheduleOptions) (int, error) {
	zone, err := schedule.LoadLocation(&o.tz)
	if err != nil {
		return 0, fmt.Errorf("--tz %q: %w", o.tz, err)
	}
	crons := collectCrons(docs)
	entries := make([]schedule.HeatEntry, len(crons))
	bad := 0
	for i, c := range crons {
		switch {
		case c.err != nil:
			bad++
		case c.doc.Spec.Suspend == nil || !*c.doc.Spec.Suspend:
			entries[i] = schedule.HeatEntry{Sched: c.sched, Loc: c.loc}
		}
	}
	h := schedule.WeekHeatmap(entries, now, zone)
	if o.png {
		return bad, web.WriteHeatmapPNG(w, h)
	}
	return bad, web.WriteHeatmapSVG(w, h, nil)
}
