package assets_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestScheduleRecurrences(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		for _, tc := range []struct {
			name string
			in   assets.ScheduleInput
			spec string
		}{
			{"daily", assets.ScheduleInput{Recurrence: assets.Daily, Time: "07:30"}, "30 7 * * *"},
			{"weekly", assets.ScheduleInput{Recurrence: assets.Weekly, Time: "18:00", Weekdays: []int{5, 1, 1}}, "0 18 * * 1,5"},
			{"monthly", assets.ScheduleInput{Recurrence: assets.Monthly, Time: "06:00", MonthDay: 28}, "0 6 28 * *"},
			{"cron", assets.ScheduleInput{Recurrence: assets.Cron, Cron: "0  9 1 1,4,7,10 *"}, "0 9 1 1,4,7,10 *"},
		} {
			tc.in.Name, tc.in.LocationID = tc.name, w.wh1.ID
			s, err := assets.CreateSchedule(w.Ctx, db, tc.in)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if s.Spec != tc.spec || s.NextAt == nil || !s.NextAt.After(time.Now()) {
				t.Errorf("%s: %+v", tc.name, s)
			}
		}
		sessions, _ := assets.ListSessions(w.Ctx, db, assets.SessionFilter{Status: assets.Scheduled})
		if len(sessions) != 4 || sessions[0].ScheduleID == 0 || sessions[0].LocationID != w.wh1.ID {
			t.Fatalf("sessions created ahead: %+v", sessions)
		}
		for _, tc := range []struct {
			name  string
			in    assets.ScheduleInput
			field string
		}{
			{"impossible date", assets.ScheduleInput{Recurrence: assets.Cron, Cron: "0 0 30 2 *"}, "cron"},
			{"too often", assets.ScheduleInput{Recurrence: assets.Cron, Cron: "*/5 * * * *"}, "cron"},
			{"not cron", assets.ScheduleInput{Recurrence: assets.Cron, Cron: "every tuesday"}, "cron"},
			{"bad field", assets.ScheduleInput{Recurrence: assets.Cron, Cron: "0 25 * * *"}, "cron"},
			{"descriptor", assets.ScheduleInput{Recurrence: assets.Cron, Cron: "@every 1s"}, "cron"},
			{"no days", assets.ScheduleInput{Recurrence: assets.Weekly, Time: "10:00"}, "weekdays"},
			{"bad day", assets.ScheduleInput{Recurrence: assets.Weekly, Time: "10:00", Weekdays: []int{7}}, "weekdays"},
			{"day 31", assets.ScheduleInput{Recurrence: assets.Monthly, Time: "10:00", MonthDay: 31}, "month_day"},
			{"bad time", assets.ScheduleInput{Recurrence: assets.Daily, Time: "25:00"}, "time"},
			{"unknown kind", assets.ScheduleInput{Recurrence: "hourly"}, "recurrence"},
		} {
			tc.in.Name = tc.name
			_, err := assets.CreateSchedule(w.Ctx, db, tc.in)
			wantKind(t, err, fault.Invalid, tc.name)
			if e, _ := fault.As(err); e.Fields[tc.field] == "" {
				t.Errorf("%s: field %s not named: %v", tc.name, tc.field, err)
			}
		}
		if list, _ := assets.ListSchedules(w.Ctx, db); len(list) != 4 {
			t.Fatalf("bad schedules stored: %d", len(list))
		}
	})
}

// TestSchedulerRunsOnce: running the scheduler again, concurrently, or after
// a "restart" later in time neither duplicates nor skips an occurrence.
func TestSchedulerRunsOnce(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		sched, err := assets.CreateSchedule(w.Ctx, db, assets.ScheduleInput{Name: "Nightly", Recurrence: assets.Daily, Time: "02:00"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if n, err := assets.RunSchedules(w.Ctx, db, now); err != nil || n != 0 {
			t.Fatalf("second run created %d: %v", n, err)
		}
		var wg sync.WaitGroup
		later := now.Add(75 * time.Hour)
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := assets.RunSchedules(w.Ctx, db, later); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		rows, err := db.Read().QueryContext(w.Ctx, `SELECT occurrence_at FROM inventory_sessions WHERE schedule_id = $1 ORDER BY occurrence_at`, sched.ID)
		if err != nil {
			t.Fatal(err)
		}
		var occ []time.Time
		for rows.Next() {
			var us int64
			rows.Scan(&us)
			occ = append(occ, store.Time(us))
		}
		rows.Close()
		if len(occ) < 4 {
			t.Fatalf("occurrences %v", occ)
		}
		for i := 1; i < len(occ); i++ {
			if occ[i].Sub(occ[i-1]) != 24*time.Hour {
				t.Fatalf("gap or duplicate between %v and %v", occ[i-1], occ[i])
			}
		}
		if last := occ[len(occ)-1]; !last.After(later) || last.Add(-24*time.Hour).After(later) {
			t.Fatalf("last occurrence %v is not the next one after %v", last, later)
		}
		if err := assets.SetScheduleActive(w.Ctx, db, sched.ID, false); err != nil {
			t.Fatal(err)
		}
		if n, _ := assets.RunSchedules(w.Ctx, db, later.Add(72*time.Hour)); n != 0 {
			t.Fatalf("paused schedule created %d", n)
		}
		wantKind(t, assets.SetScheduleActive(w.Ctx, db, 9999, true), fault.NotFound, "unknown schedule")
	})
}
