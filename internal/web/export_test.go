package web

// ItemActionSlugs are the item page's actions, each a page of its own for
// browsers without JavaScript: the tests that look at every page open each.
func ItemActionSlugs() []string {
	var slugs []string
	for _, a := range itemActions {
		slugs = append(slugs, a.Slug)
	}
	return slugs
}
