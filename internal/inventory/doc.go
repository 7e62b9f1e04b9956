// Package inventory owns stock: items (materials, parts, products), the
// locations they are kept at (warehouse → zone → bin), inventory records (a
// quantity of one item at one location), the movements that change them,
// and the append-only change log from which stock at any past moment is
// rebuilt.
package inventory
