package schedule

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	// Embed the IANA database: a CronJob's timeZone must load the same on every host.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

// ErrTZInSchedule is returned for a schedule that carries TZ= or CRON_TZ=.
var ErrTZInSchedule = errors.New("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")

// ParseCron parses spec exactly as the CronJob API validation and controller do
// (robfig/cron v3 ParseStandard). A parser panic becomes an error. It does not
// check for TZ=; Parse does.
func ParseCron(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched = nil
			err = fmt.Errorf("invalid schedule format: %v", r)
		}
	}()
	return cron.ParseStandard(spec)
}

// Parse parses a CronJob schedule and refuses TZ=/CRON_TZ= prefixes (any "TZ"
// substring), which the API server rejects on create. It returns every problem
// it finds, joined, the parse error first.
func Parse(spec string) (cron.Schedule, error) {
	sched, err := ParseCron(spec)
	if strings.Contains(spec, "TZ") {
		return nil, errors.Join(err, ErrTZInSchedule)
	}
	return sched, err
}

// validZonePart is the character rule the API server applies to each
// "/"-separated part of a timeZone.
var validZonePart = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

// ValidateTimeZone checks a CronJob's spec.timeZone as the API server does and
// returns the API server's message for the first problem, or nil.
func ValidateTimeZone(tz string) error {
	_, err := validZone(tz)
	return err
}

// validZone is ValidateTimeZone that also returns the loaded zone.
func validZone(tz string) (*time.Location, error) {
	if tz == "" {
		return nil, errors.New("timeZone must be nil or non-empty string")
	}
	for _, part := range strings.Split(tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !validZonePart.MatchString(part) {
			return nil, fmt.Errorf("unknown time zone %s", tz)
		}
	}
	if strings.EqualFold(tz, "Local") {
		return nil, errors.New("timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")
	}
	return loadZone(tz)
}

// zones caches loaded time zones by name: time.LoadLocation reads the zone
// database each time. Only zones that loaded are kept, so the cache holds at
// most the IANA names.
var zones sync.Map // string → *time.Location

// loadZone is time.LoadLocation with a cache.
func loadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// LoadLocation returns the zone a CronJob's schedule is interpreted in: tz when
// set, else UTC (the controller's zone in practice).
func LoadLocation(tz *string) (*time.Location, error) {
	if tz == nil {
		return time.UTC, nil
	}
	return validZone(*tz)
}
