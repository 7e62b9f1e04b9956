package assets_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
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

// TestSchedulerCountsARunAgainOnce: the scheduler's transaction may run
// again before it commits (SQLite's group commit, PostgreSQL's retry); the
// sessions of the second run are the ones created, and they are counted
// once, not once per run.
func TestSchedulerCountsARunAgainOnce(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	w := newWorld(t, db)
	sched, err := assets.CreateSchedule(w.Ctx, db, assets.ScheduleInput{Name: "Nightly", Recurrence: assets.Daily, Time: "02:00"})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := db.Read().QueryRowContext(w.Ctx, `SELECT COUNT(*) FROM inventory_sessions WHERE schedule_id = $1`, sched.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	ctx, runs := storetest.RunAgain(t, w.Ctx, db)
	n, err := assets.RunSchedules(ctx, db, time.Now().Add(75*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r := runs(); r != 2 {
		t.Fatalf("the scheduler's transaction ran %d times, want 2", r)
	}
	if created := count() - before; created < 3 || n != created {
		t.Fatalf("the scheduler reported %d sessions created, the database holds %d new ones", n, created)
	}
}

// TestScheduleEditAndDelete: an edit is audited before → after and moves the
// upcoming session with it; a delete stops new sessions and keeps the ones
// created.
func TestScheduleEditAndDelete(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.Ctx
		s, err := assets.CreateSchedule(ctx, db, assets.ScheduleInput{Name: "Weekly count", Recurrence: assets.Weekly, Time: "09:00",
			Weekdays: []int{1}, LocationID: w.wh1.ID})
		if err != nil {
			t.Fatal(err)
		}
		if s.Time != "09:00" || len(s.Weekdays) != 1 || s.Weekdays[0] != 1 || s.Describe() != "Every Monday at 09:00" {
			t.Fatalf("read back %+v %q", s, s.Describe())
		}
		upcoming, _ := assets.ListSessions(ctx, db, assets.SessionFilter{Status: assets.Scheduled})
		if len(upcoming) != 1 {
			t.Fatalf("upcoming %+v", upcoming)
		}

		bad := s.Input()
		bad.Time = "9 o'clock"
		_, err = assets.UpdateSchedule(ctx, db, s.ID, bad)
		wantKind(t, err, fault.Invalid, "bad time")
		bad = s.Input()
		bad.Name = " "
		_, err = assets.UpdateSchedule(ctx, db, s.ID, bad)
		wantKind(t, err, fault.Invalid, "no name")
		_, err = assets.UpdateSchedule(ctx, db, 987654, s.Input())
		wantKind(t, err, fault.NotFound, "unknown schedule")

		in := s.Input()
		in.Name, in.Recurrence, in.MonthDay, in.Time, in.LocationID, in.ExcludeRetired = "Monthly count", assets.Monthly, 3, "06:15", w.wh2.ID, true
		got, err := assets.UpdateSchedule(ctx, db, s.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec != "15 6 3 * *" || got.Name != "Monthly count" || got.LocationID != w.wh2.ID || !got.ExcludeRetired {
			t.Fatalf("edited %+v", got)
		}
		after, _ := assets.ListSessions(ctx, db, assets.SessionFilter{Status: assets.Scheduled})
		if len(after) != 1 || after[0].ID != upcoming[0].ID || after[0].LocationID != w.wh2.ID || !after[0].ExcludeRetired ||
			after[0].OccurrenceAt.In(time.UTC).Day() != 3 || !strings.HasPrefix(after[0].Name, "Monthly count ") {
			t.Fatalf("the upcoming session did not follow the edit: %+v", after)
		}
		events, err := activity.ForEntity(ctx, db, "inventory_schedules", fmt.Sprint(s.ID), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 || !strings.Contains(string(events[0].Old.(json.RawMessage)), "Weekly count") ||
			!strings.Contains(string(events[0].New.(json.RawMessage)), "15 6 3 * *") {
			t.Fatalf("edit event %+v", events)
		}
		// An edit that changes nothing records nothing.
		if _, err := assets.UpdateSchedule(ctx, db, s.ID, got.Input()); err != nil {
			t.Fatal(err)
		}
		if again, _ := activity.ForEntity(ctx, db, "inventory_schedules", fmt.Sprint(s.ID), 10); len(again) != 2 {
			t.Fatalf("a no-op edit was recorded: %d events", len(again))
		}

		operator := w.As(w.User(t, "op@example.com", actor.Operator))
		wantKind(t, ignoreValue(assets.UpdateSchedule(operator, db, s.ID, in)), fault.Forbidden, "operator edits")
		wantKind(t, assets.DeleteSchedule(operator, db, s.ID), fault.Forbidden, "operator deletes")

		if err := assets.DeleteSchedule(ctx, db, s.ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, assets.DeleteSchedule(ctx, db, s.ID), fault.NotFound, "delete twice")
		wantKind(t, ignoreValue(assets.GetSchedule(ctx, db, s.ID)), fault.NotFound, "get a deleted schedule")
		wantKind(t, assets.SetScheduleActive(ctx, db, s.ID, true), fault.NotFound, "resume a deleted schedule")
		if list, _ := assets.ListSchedules(ctx, db); len(list) != 0 {
			t.Fatalf("deleted schedule listed: %+v", list)
		}
		if n, _ := assets.RunSchedules(ctx, db, time.Now().Add(90*24*time.Hour)); n != 0 {
			t.Fatalf("a deleted schedule created %d sessions", n)
		}
		kept, err := assets.GetSession(ctx, db, upcoming[0].ID)
		if err != nil || kept.ScheduleID != s.ID {
			t.Fatalf("the session the schedule created: %+v %v", kept, err)
		}
		events, _ = activity.ForEntity(ctx, db, "inventory_schedules", fmt.Sprint(s.ID), 10)
		if events[0].Action != activity.Delete {
			t.Fatalf("delete not recorded: %+v", events[0])
		}
	})
}
