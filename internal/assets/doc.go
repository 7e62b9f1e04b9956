// Package assets owns the asset register (single tracked things with a tag,
// QR label, status, condition, assignee, location, notes and photos) and the
// inventory sessions that verify it (seed 003): a session takes a snapshot of
// the assets in its scope when it starts, collects scans and staged changes
// while in progress, and applies every staged change in one transaction when
// it finishes. Schedules create upcoming sessions ahead of time.
//
// Every change commits together with its activity event (entity types
// "assets" and "inventory_sessions"), so an asset's history is the activity
// log filtered to it plus the sessions it was on.
package assets
