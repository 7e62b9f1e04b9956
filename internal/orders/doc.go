// Package orders owns outbound (sales) and inbound (purchase) orders: their
// lines, their workflow, and what they do to stock. Outbound orders reserve
// stock (allocate), release it, are picked and shipped; inbound orders are
// received, line by line, within the workspace's over-receipt tolerance.
//
// Stock changes only through internal/inventory: every allocation, release,
// shipment and receipt is an inventory movement run with inventory.ApplyIn
// inside the order's own transaction, with the order number as the entry's
// reference (and as the holder of its allocations), so the order's new state,
// its activity event and the change-log entries commit together or not at
// all. The order row is locked first, so two requests on one order take
// turns.
//
// Every exported function checks its own permission (actor.ViewOrders,
// ManageOrders or FulfilOrders) and works in the actor's workspace, so the
// web pages and the JSON API call them as they are. docs/orders.md describes
// the workflow.
package orders
