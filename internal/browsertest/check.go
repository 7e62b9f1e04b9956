package browsertest

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core's minified build (axe/README.md says which version
// and where it came from).
//
//go:embed axe/axe.min.js
var axeSource string

// AxeViolation is one rule axe-core found broken on a page, with the
// elements that break it.
type AxeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v AxeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for i, n := range v.Nodes {
		if i == 5 {
			fmt.Fprintf(&b, "\n    … and %d more", len(v.Nodes)-i)
			break
		}
		fmt.Fprintf(&b, "\n    %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// Accessibility runs axe-core on the page open in ctx (injecting it first when
// the page does not have it yet) and returns the violations whose impact is
// serious or critical: the ones stocktrail's pages must not have.
func Accessibility(ctx context.Context) ([]AxeViolation, error) {
	all, err := AllViolations(ctx)
	var bad []AxeViolation
	for _, v := range all {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, v)
		}
	}
	return bad, err
}

// AllViolations runs axe-core like Accessibility and returns every
// violation, moderate and minor ones too (a missing level-one heading, an
// empty column header): for tests that keep pages free of those as well.
func AllViolations(ctx context.Context) ([]AxeViolation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		return nil, err
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
			return nil, fmt.Errorf("injecting axe-core: %w", err)
		}
	}
	all, err := chromedp.Run(ctx, chromedp.Evaluate[[]AxeViolation](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("running axe-core: %w", err)
	}
	return all, nil
}

// sideways finds what makes a page wider than its viewport: the document
// itself scrolling sideways, or any box that scrolls sideways inside it. For
// each it names the elements that stick out past the right edge while their
// parent does not (the cause, not every ancestor that inherits it).
const sideways = `(() => {
  const vw = window.innerWidth;
  const name = el => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (typeof el.className === "string" && el.className.trim()) s += "." + el.className.trim().split(/\s+/).join(".");
    const text = (el.innerText || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return text ? s + " (\"" + text + "\")" : s;
  };
  const culprits = (scope, right) => {
    const out = [];
    for (const el of scope.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || r.right <= right + 1) continue;
      const p = el.parentElement && el.parentElement.getBoundingClientRect();
      if (p && p.right > right + 1) continue;
      out.push(name(el) + " reaches " + Math.round(r.right) + "px");
      if (out.length === 5) break;
    }
    return out;
  };
  const problems = [];
  const se = document.scrollingElement;
  if (se.scrollWidth > vw) {
    problems.push("the page is " + se.scrollWidth + "px wide in a " + vw + "px viewport: " + culprits(document.body, vw).join("; "));
  }
  for (const el of document.body.querySelectorAll("*")) {
    const ox = getComputedStyle(el).overflowX;
    if ((ox === "auto" || ox === "scroll") && el.scrollWidth > el.clientWidth + 1) {
      const r = el.getBoundingClientRect();
      problems.push(name(el) + " scrolls sideways (" + el.scrollWidth + "px in " + el.clientWidth + "px): " + culprits(el, r.left + el.clientWidth).join("; "));
    }
  }
  return problems;
})()`

// Sideways reports what, on the page open in ctx, is wider than the viewport
// or scrolls sideways; nothing when the page fits.
func Sideways(ctx context.Context) ([]string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[[]string](sideways))
}
