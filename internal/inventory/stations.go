package inventory

import (
	"fmt"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
)

// stationKinds are the movements a scanning station makes: what its screen
// offers (receive, issue, count, batch initialize), moving stock between
// its shelves and shipping an order's allocated stock. Corrections, record
// edits, bulk updates and allocating or releasing stock need a person with
// the right role, so they are never logged as a station's scan.
var stationKinds = map[string]bool{
	"receipt": true, "issue": true, "move": true, "split": true, "merge": true, "initialize": true, "reconciliation": true,
	"ship": true,
}

// refuseForStation refuses a movement a station may not make.
func refuseForStation(who actor.Actor, m Movement) error {
	if who.Kind != actor.Station || stationKinds[m.Kind()] {
		return nil
	}
	return fault.New(fault.Forbidden, "a scanning station may not make a %s; ask a manager", strings.ReplaceAll(m.Kind(), "_", " "))
}

// checkStationReach refuses an entry at a location outside the station's
// bound location and its sub-locations. A station bound to no location
// works anywhere in the workspace.
func (c *change) checkStationReach(r *Record) error {
	if c.who.Kind != actor.Station || c.who.LocationID == 0 || r.LocationID == c.who.LocationID {
		return nil
	}
	home, err := c.state.stationHome(c.who.LocationID)
	if err != nil {
		return err
	}
	if strings.HasPrefix(r.LocationPath, home+"/") {
		return nil
	}
	return &fault.Error{Kind: fault.Forbidden, Fields: map[string]string{"location": "outside " + home},
		Message: fmt.Sprintf("this station works at %s and below; %s is outside it", home, r.LocationPath)}
}

// stationHome is the path of the station's bound location, read once per
// transaction.
func (rs *txState) stationHome(id int64) (string, error) {
	if rs.stationPath == "" {
		if err := rs.tx.QueryRowContext(rs.ctx, `SELECT path FROM locations WHERE workspace_id = $1 AND id = $2`,
			rs.workspaceID, id).Scan(&rs.stationPath); err != nil {
			return "", fmt.Errorf("station location: %w", err)
		}
	}
	return rs.stationPath, nil
}
